//! What every page shares: the security headers, cookies, the CSRF check, form bodies, the
//! canonical host, and turning the rules' refusals into pages.
//!
//! - **Headers.** A strict Content-Security-Policy (nothing but this server's own
//!   stylesheets; no scripts at all), no framing, no referrer (a link's token must not leak
//!   to another site), no caching (pages show a learner's name and classes).
//! - **Cookies** are `HttpOnly` and `SameSite=Lax`, and `Secure` when the public URL is
//!   https. The session cookie holds a session token like the API's bearer token.
//! - **CSRF.** Every visitor has a random token in a cookie; every form repeats it in a
//!   hidden field, and a POST whose field and cookie differ is refused before anything is
//!   done. Another site can make a browser send the cookie (not with `SameSite=Lax`, but
//!   older browsers) — never read it to fill in the field.
//! - **Host.** Pages are answered only under the public URL's host: a GET or HEAD for
//!   another host name is redirected there, so a learner who typed an old or internal
//!   address lands on the real one. Links in mail never come from the Host header anyway.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use classkeys_protocol::ErrorCode;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::login_help::School;
use crate::state::AppState;

use super::words::{EN, Words};

/// The session cookie: a learner's session token.
pub(super) const SESSION_COOKIE: &str = "ck_session";
/// The device cookie: the device token that keeps this browser out of others' throttling.
pub(super) const DEVICE_COOKIE: &str = "ck_device";
/// The CSRF cookie.
const CSRF_COOKIE: &str = "ck_csrf";
/// The largest form body accepted.
pub(super) const MAX_FORM_BYTES: usize = 16 * 1024;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What every page's frame shows: the words, the school (when the page is a school's), and
/// the CSRF token its forms carry.
pub(super) struct Frame {
    pub w: &'static Words,
    pub school: Option<School>,
    pub csrf: String,
}

/// The visitor a request comes from, as its cookies say.
pub(super) struct Visitor {
    cookies: HashMap<String, String>,
    csrf: String,
    /// The CSRF token is new: its cookie must be set.
    fresh_csrf: bool,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let cookies = read_cookies(&parts.headers);
        let existing = cookies
            .get(CSRF_COOKIE)
            .filter(|t| t.len() == 43 && URL_SAFE_NO_PAD.decode(t.as_bytes()).is_ok())
            .cloned();
        let fresh_csrf = existing.is_none();
        let csrf = existing.unwrap_or_else(|| URL_SAFE_NO_PAD.encode(state.rng.bytes::<32>()));
        Ok(Self {
            cookies,
            csrf,
            fresh_csrf,
        })
    }
}

impl Visitor {
    /// The value of cookie `name`, if sent.
    pub(super) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The frame of a page for this visitor, at `school` if any.
    pub(super) fn frame(&self, school: Option<School>) -> Frame {
        Frame {
            w: &EN,
            school,
            csrf: self.csrf.clone(),
        }
    }

    /// `template` rendered for this visitor, with the cookie its forms need.
    pub(super) fn page(&self, state: &AppState, template: &impl Template) -> Page {
        Page::render(template).for_visitor(state, self)
    }

    /// Whether a submitted form carries this visitor's CSRF token. Compared as digests, so
    /// the time taken tells nothing about the token.
    pub(super) fn sent_by_own_form(&self, form: &FormData) -> bool {
        let digest = |t: &str| Sha256::digest(t.as_bytes());
        !self.fresh_csrf && digest(form.get("csrf")) == digest(&self.csrf)
    }
}

/// Reads the `Cookie` headers; a malformed pair is skipped.
fn read_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A form body, decoded. Missing fields read as empty.
pub(super) struct FormData(HashMap<String, String>);

impl FormData {
    pub(super) fn parse(body: &Bytes) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// Takes a field out, for a secret that should live in one place only.
    pub(super) fn take(&mut self, name: &str) -> String {
        self.0.remove(name).unwrap_or_default()
    }
}

/// A page to answer: a rendered body or a redirect, with its status and cookies.
pub(super) struct Page {
    status: StatusCode,
    body: String,
    location: Option<String>,
    cookies: Vec<String>,
    retry_after: Option<u32>,
}

impl Page {
    /// A rendered template, `200`.
    fn render(template: &impl Template) -> Self {
        match template.render() {
            Ok(body) => Self {
                status: StatusCode::OK,
                body,
                location: None,
                cookies: Vec::new(),
                retry_after: None,
            },
            Err(error) => {
                tracing::error!(%error, "a page could not be rendered");
                Self::plain(StatusCode::INTERNAL_SERVER_ERROR, EN.failed)
            }
        }
    }

    /// A short text answer, for when even a template failed.
    fn plain(status: StatusCode, text: &str) -> Self {
        Self {
            status,
            body: text.to_owned(),
            location: None,
            cookies: Vec::new(),
            retry_after: None,
        }
    }

    /// A `303 See Other` to `path` on this site: where a form's POST leads.
    pub(super) fn see_other(path: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SEE_OTHER,
            body: String::new(),
            location: Some(path.into()),
            cookies: Vec::new(),
            retry_after: None,
        }
    }

    pub(super) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(super) fn retry_after(mut self, seconds: Option<u32>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// Sets cookie `name` to `value` for `max_age` seconds (for the browser session when
    /// `None`).
    pub(super) fn cookie(
        mut self,
        state: &AppState,
        name: &str,
        value: &str,
        max_age: Option<u64>,
    ) -> Self {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if state.settings.public_url.starts_with("https://") {
            cookie.push_str("; Secure");
        }
        self.cookies.push(cookie);
        self
    }

    /// Removes cookie `name`.
    pub(super) fn forget(self, state: &AppState, name: &str) -> Self {
        self.cookie(state, name, "", Some(0))
    }

    /// Sets the visitor's CSRF cookie when it is new, so the page's forms can be sent.
    fn for_visitor(self, state: &AppState, visitor: &Visitor) -> Self {
        if visitor.fresh_csrf {
            self.cookie(state, CSRF_COOKIE, &visitor.csrf, None)
        } else {
            self
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let content_type = if self.status.is_redirection() || self.body.starts_with('<') {
            "text/html; charset=utf-8"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(location) = self.location.and_then(|l| HeaderValue::try_from(l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::try_from(cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// How a refusal from the rules reads on a page: its status, the sentence to show, and how
/// long to wait. Refusals meant for the page itself (a wrong password, a weak one) are
/// handled where they happen; these are the ones any form can meet.
pub(super) fn refusal(error: &Error) -> (StatusCode, String, Option<u32>) {
    let w = &EN;
    match error.code() {
        ErrorCode::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            w.too_many.to_owned(),
            error.retry_after_seconds(),
        ),
        ErrorCode::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            w.busy.to_owned(),
            error.retry_after_seconds(),
        ),
        ErrorCode::InvalidInput => (StatusCode::BAD_REQUEST, error.to_string(), None),
        _ => {
            if let Error::Internal(cause) = error {
                tracing::error!(error = %format!("{cause:#}"), "a page failed");
            }
            (StatusCode::INTERNAL_SERVER_ERROR, w.failed.to_owned(), None)
        }
    }
}

/// Where pages are answered: the public URL, and the `Host` a browser sends for it (read
/// once, when the router is built).
#[derive(Clone)]
pub(super) struct CanonicalHost {
    public_url: String,
    authority: Option<String>,
}

impl CanonicalHost {
    pub(super) fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            authority: public_authority(public_url),
        }
    }
}

/// Redirects a GET or HEAD for a page under another host name to the public URL's.
pub(super) async fn canonical_host(
    State(canonical): State<CanonicalHost>,
    request: Request,
    next: Next,
) -> Response {
    let asked = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    if let (Some(wanted), Some(asked), true) = (&canonical.authority, asked, reading)
        && !asked.eq_ignore_ascii_case(wanted)
    {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let to = format!("{}{path}", canonical.public_url);
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        if let Ok(to) = HeaderValue::try_from(to) {
            response.headers_mut().insert(header::LOCATION, to);
        }
        return response;
    }
    next.run(request).await
}

/// The `host[:port]` a browser sends as `Host` for the public URL.
fn public_authority(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_authority_is_what_a_browser_sends_as_host() {
        assert_eq!(
            public_authority("https://keys.school.example/").as_deref(),
            Some("keys.school.example")
        );
        assert_eq!(
            public_authority("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            public_authority("https://keys.school.example:443").as_deref(),
            Some("keys.school.example"),
            "the default port is left out, as browsers do"
        );
    }

    #[test]
    fn cookies_are_read_from_every_header_and_pair() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3;broken"));
        let cookies = read_cookies(&headers);
        assert_eq!(cookies.get("a").map(String::as_str), Some("1"));
        assert_eq!(cookies.get("b").map(String::as_str), Some("2"));
        assert_eq!(cookies.get("c").map(String::as_str), Some("3"));
        assert_eq!(cookies.len(), 3);
    }
}
