//! The school's own pages, where learners sign in and get themselves back in: server-rendered
//! HTML that works without JavaScript, from templates compiled into the server.
//!
//! - `/` finds a school by name; `/s/<slug>/` is the school's page, with its name and crest
//!   colour at the top so a learner sees they are in the right place.
//! - `/s/<slug>/sign-in`, `/s/<slug>/account` ("My account": who they are, their classes,
//!   choosing a password, signing out; only choosing a password while their teacher asks
//!   for a new one), `/s/<slug>/help` (the login helper), `/s/<slug>/reset/<token>` and
//!   `/s/<slug>/link/<token>` (the links from mail: opening one changes nothing, only its
//!   button does).
//! - The wrong places explain themselves: sign-up pages say the school makes accounts, an
//!   unknown school leads to "Find your school", a failed sign-in names the school.
//!
//! Each handler is a thin adapter over the rules ([`crate::learner_auth`],
//! [`crate::login_help`]); `web` holds what every page shares (headers, cookies, CSRF, the
//! canonical host) and [`words`] every sentence shown.

mod web;
pub mod words;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use classkeys_domain::secret::Sensitive;
use classkeys_domain::text::search_fold;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{LearnerPasswordChange, LearnerSignInRequest};

use classkeys_cards::{Instructions, Paper, Section, qr_svg, render_instruction_pages};

use crate::audit::Device;
use crate::auth::{Holder, end_session, token_hash};
use crate::credentials::sign_in_url;
use crate::error::Result;
use crate::learner_auth::{self, LearnerAuthenticated};
use crate::links::{self, Link, Refusal};
use crate::login_help::{self, Question, ResetDone, School};
use crate::state::AppState;
use crate::stored::{Proof, SubjectKind};
use crate::throttle::ClientAddress;

use web::{DEVICE_COOKIE, FormData, Frame, MAX_FORM_BYTES, Page, SESSION_COOKIE, Visitor};
use words::EN;

/// Schools listed by "Find your school" at most.
const MOST_SCHOOLS_LISTED: usize = 20;
/// With this many schools or fewer, "Find your school" lists them all before any search.
const LIST_ALL_UP_TO: usize = 10;
/// How long a browser remembers it signed in before (seconds): the device token's life.
const DEVICE_COOKIE_AGE: u64 = 365 * 24 * 60 * 60;

pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(find_school))
        .route("/assets/pages.css", get(stylesheet))
        .route("/s/{slug}", get(school_root))
        .route("/s/{slug}/", get(school_home))
        .route("/s/{slug}/crest.css", get(crest))
        .route("/s/{slug}/sign-in", get(sign_in_page).post(sign_in))
        .route("/s/{slug}/sign-out", post(sign_out))
        .route("/s/{slug}/account", get(account))
        .route("/s/{slug}/account/password", post(change_password))
        .route("/s/{slug}/help", get(help))
        .route("/s/{slug}/help/username", post(help_username))
        .route("/s/{slug}/help/password", post(help_password))
        .route("/s/{slug}/reset/{token}", get(reset_page).post(reset))
        .route("/s/{slug}/link/{token}", get(link_page).post(link_sign_in))
        .route("/s/{slug}/how-to-sign-in", get(parents))
        .route("/s/{slug}/how-to-sign-in.pdf", get(parents_pdf))
        .route("/s/{slug}/sign-in-qr.svg", get(sign_in_qr))
        .route("/s/{slug}/{elsewhere}", get(wrong_place))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn_with_state(
            web::CanonicalHost::new(&state.settings.public_url),
            web::canonical_host,
        ))
}

impl School {
    /// Up to two initials for the crest badge.
    pub fn initials(&self) -> String {
        self.name
            .split_whitespace()
            .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
            .flat_map(char::to_uppercase)
            .take(2)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Templates

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    f: Frame,
    title: String,
    lines: Vec<String>,
    next: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "find.html")]
struct FindPage {
    f: Frame,
    query: String,
    notice: Option<String>,
    problem: Option<String>,
    schools: Vec<School>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    f: Frame,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    f: Frame,
    username: String,
    notice: Option<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    f: Frame,
    name: String,
    username: String,
    classes: Vec<String>,
    must_change: bool,
    needs_current: bool,
    notice: Option<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    f: Frame,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    f: Frame,
    token: String,
    username: String,
    intro: String,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "parents.html")]
struct ParentsPage {
    f: Frame,
    intro: String,
    sign_in_url: String,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    f: Frame,
    token: String,
    intro: String,
}

// ---------------------------------------------------------------------------------------
// Shared steps

/// A page of sentences, with a way on.
fn message(
    state: &AppState,
    visitor: &Visitor,
    school: Option<School>,
    title: &str,
    lines: &[&str],
    next: Option<(String, &str)>,
) -> Page {
    visitor.page(
        state,
        &MessagePage {
            f: visitor.frame(school),
            title: title.to_owned(),
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
            next: next.map(|(href, label)| (href, label.to_owned())),
        },
    )
}

/// The page for a refusal any form can meet (too many tries, busy, a failure).
fn refused(
    state: &AppState,
    visitor: &Visitor,
    school: Option<School>,
    error: &crate::Error,
) -> Page {
    let (status, text, retry_after) = web::refusal(error);
    let back = school
        .as_ref()
        .map(|s| (format!("/s/{}/", s.slug), s.name.clone()));
    let page = visitor.page(
        state,
        &MessagePage {
            f: visitor.frame(school),
            title: EN.product.to_owned(),
            lines: vec![text],
            next: back,
        },
    );
    page.status(status).retry_after(retry_after)
}

/// The page for a form that did not carry the visitor's CSRF token: nothing was done.
fn expired_form(state: &AppState, visitor: &Visitor, school: School) -> Page {
    let back = format!("/s/{}/", school.slug);
    message(
        state,
        visitor,
        Some(school),
        EN.product,
        &[EN.expired_form],
        Some((back, EN.back_to_sign_in)),
    )
    .status(StatusCode::FORBIDDEN)
}

/// The school at `slug`, or the "Find your school" page that says there is none there.
async fn school_or_find(
    state: &AppState,
    visitor: &Visitor,
    slug: &str,
) -> std::result::Result<School, Page> {
    match School::by_slug(state, slug).await {
        Ok(Some(school)) => Ok(school),
        Ok(None) => {
            // Shown back escaped, shortened: it is whatever was typed in the address bar.
            let shown: String = slug.chars().take(60).collect();
            let schools = match search_schools(state, "").await {
                Ok(schools) => schools,
                Err(error) => return Err(refused(state, visitor, None, &error)),
            };
            Err(visitor
                .page(
                    state,
                    &FindPage {
                        f: visitor.frame(None),
                        query: String::new(),
                        notice: Some((EN.unknown_school)(&shown)),
                        problem: None,
                        schools,
                    },
                )
                .status(StatusCode::NOT_FOUND))
        }
        Err(error) => Err(refused(state, visitor, None, &error)),
    }
}

/// A visitor at a school's page: the school the path's `{slug}` names, or, as the rejection,
/// the "Find your school" page that says there is none there.
struct AtSchool {
    visitor: Visitor,
    school: School,
}

impl FromRequestParts<AppState> for AtSchool {
    type Rejection = Page;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Page> {
        let Ok(visitor) = Visitor::from_request_parts(parts, state).await;
        let slug = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| {
                params
                    .iter()
                    .find(|(name, _)| *name == "slug")
                    .map(|(_, value)| value.to_owned())
            })
            .unwrap_or_default();
        let school = school_or_find(state, &visitor, &slug).await?;
        Ok(Self { visitor, school })
    }
}

/// A form posted to a school's page from the visitor's own page. One without the visitor's
/// CSRF token is refused, as the rejection, before anything is done.
struct Posted {
    visitor: Visitor,
    school: School,
    form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Page;

    async fn from_request(request: Request, state: &AppState) -> std::result::Result<Self, Page> {
        let (mut parts, body) = request.into_parts();
        let AtSchool { visitor, school } = AtSchool::from_request_parts(&mut parts, state).await?;
        let Ok(body) = Bytes::from_request(Request::from_parts(parts, body), state).await else {
            let too_big = crate::Error::new(ErrorCode::InvalidInput, EN.form_too_large);
            return Err(refused(state, &visitor, Some(school), &too_big));
        };
        let form = FormData::parse(&body);
        if !visitor.sent_by_own_form(&form) {
            return Err(expired_form(state, &visitor, school));
        }
        Ok(Self {
            visitor,
            school,
            form,
        })
    }
}

/// Schools whose name holds `query` (accents, case and punctuation aside); with no query,
/// every school when there are only a few.
async fn search_schools(state: &AppState, query: &str) -> Result<Vec<School>> {
    let wanted = search_fold(query);
    // With no query only a short list is shown, so only that much is read.
    let most = if wanted.is_empty() {
        LIST_ALL_UP_TO + 1
    } else {
        10_000
    };
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, slug, name FROM school ORDER BY name LIMIT $1")
            .bind(i64::try_from(most).unwrap_or(i64::MAX))
            .fetch_all(state.db.pool())
            .await?;
    if wanted.is_empty() && rows.len() > LIST_ALL_UP_TO {
        return Ok(Vec::new());
    }
    Ok(rows
        .into_iter()
        .filter(|(_, _, name)| search_fold(name).contains(&wanted))
        .take(MOST_SCHOOLS_LISTED)
        .map(|(id, slug, name)| School { id, slug, name })
        .collect())
}

/// The learner signed in at `school` in this browser, if any.
async fn signed_in(
    state: &AppState,
    visitor: &Visitor,
    school: &School,
) -> Result<Option<LearnerAuthenticated>> {
    let Some(token) = visitor.cookie(SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    Ok(LearnerAuthenticated::by_session(state, token_hash(token))
        .await?
        .filter(|learner| learner.school_id == school.id))
}

/// Audit entries made on the pages say so.
fn pages_device() -> Device {
    Device(Some("school pages".into()))
}

fn sign_in_path(school: &School) -> String {
    format!("/s/{}/sign-in", school.slug)
}

fn account_path(school: &School) -> String {
    format!("/s/{}/account", school.slug)
}

fn help_path(school: &School) -> String {
    format!("/s/{}/help", school.slug)
}

// ---------------------------------------------------------------------------------------
// Finding the school

async fn find_school(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Page {
    let typed: String = query
        .get("q")
        .map(|q| q.trim().chars().take(100).collect())
        .unwrap_or_default();
    let too_short = !typed.is_empty() && search_fold(&typed).chars().count() < 2;
    let found = if too_short {
        Ok(Vec::new())
    } else {
        search_schools(&state, &typed).await
    };
    let schools = match found {
        Ok(schools) => schools,
        Err(error) => return refused(&state, &visitor, None, &error),
    };
    let problem = if too_short {
        Some(EN.find_too_short.to_owned())
    } else if !typed.is_empty() && schools.is_empty() {
        Some(EN.find_none.to_owned())
    } else {
        None
    };
    visitor.page(
        &state,
        &FindPage {
            f: visitor.frame(None),
            query: typed,
            notice: None,
            problem,
            schools,
        },
    )
}

async fn school_root(Path(slug): Path<String>) -> Page {
    Page::see_other(format!("/s/{}/", slug.to_lowercase())).status(StatusCode::PERMANENT_REDIRECT)
}

async fn school_home(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
) -> Page {
    visitor.page(
        &state,
        &HomePage {
            f: visitor.frame(Some(school)),
        },
    )
}

async fn stylesheet() -> Response {
    css(include_str!("../assets/pages.css").to_owned())
}

/// The school's crest colour, as the variables the stylesheet reads, with a text colour
/// that keeps at least the contrast WCAG asks for on it.
async fn crest(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let colour = match School::by_slug(&state, &slug).await {
        Ok(Some(school)) => {
            let mut conn = match state.db.pool().acquire().await {
                Ok(conn) => conn,
                Err(_) => return css(String::new()),
            };
            crate::credentials::appearance(&mut conn, &school.id)
                .await
                .ok()
                .and_then(|a| a.crest_rgb())
        }
        _ => None,
    };
    let Some((r, g, b)) = colour else {
        return css(String::new());
    };
    let ink = if luminance(r, g, b) > 0.179 {
        "#1a1a1a"
    } else {
        "#ffffff"
    };
    css(format!(
        ":root {{ --crest: #{r:02x}{g:02x}{b:02x}; --crest-ink: {ink}; }}\n"
    ))
}

fn css(body: String) -> Response {
    asset(body, "text/css; charset=utf-8")
}

/// A stylesheet, picture or document the pages use: the same for every visitor, so it may
/// be kept a few minutes.
fn asset(body: impl IntoResponse, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// WCAG relative luminance.
fn luminance(r: u8, g: u8, b: u8) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

// ---------------------------------------------------------------------------------------
// Signing in and out

async fn sign_in_page(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Query(query): Query<HashMap<String, String>>,
) -> Page {
    let notice = query
        .contains_key("signed_out")
        .then(|| EN.signed_out.to_owned());
    visitor.page(
        &state,
        &SignInPage {
            f: visitor.frame(Some(school)),
            username: String::new(),
            notice,
            problem: None,
        },
    )
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Posted {
        visitor,
        school,
        mut form,
    }: Posted,
) -> Page {
    let username: String = form.get("username").trim().chars().take(64).collect();
    let request = LearnerSignInRequest {
        school: school.slug.clone(),
        username: username.clone(),
        password: form.take("password"),
        device_token: visitor.cookie(DEVICE_COOKIE).map(str::to_owned),
    };
    match learner_auth::sign_in(&state, address, request).await {
        Ok(session) => Page::see_other(account_path(&school))
            .cookie(&state, SESSION_COOKIE, &session.token, None)
            .cookie(
                &state,
                DEVICE_COOKIE,
                &session.device_token,
                Some(DEVICE_COOKIE_AGE),
            ),
        Err(error) if error.code() == ErrorCode::InvalidCredentials => {
            let problem = (EN.wrong_password)(&school.name);
            visitor
                .page(
                    &state,
                    &SignInPage {
                        f: visitor.frame(Some(school)),
                        username,
                        notice: None,
                        problem: Some(problem),
                    },
                )
                .status(StatusCode::UNAUTHORIZED)
        }
        Err(error) => refused(&state, &visitor, Some(school), &error),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    Posted {
        visitor, school, ..
    }: Posted,
) -> Page {
    if let Some(token) = visitor.cookie(SESSION_COOKIE)
        && let Err(error) = end_session(&state, &token_hash(token)).await
    {
        return refused(&state, &visitor, Some(school), &error);
    }
    Page::see_other(format!("{}?signed_out", sign_in_path(&school))).forget(&state, SESSION_COOKIE)
}

// ---------------------------------------------------------------------------------------
// My account

async fn account(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Query(query): Query<HashMap<String, String>>,
) -> Page {
    let learner = match signed_in(&state, &visitor, &school).await {
        Ok(Some(learner)) => learner,
        Ok(None) => return Page::see_other(sign_in_path(&school)),
        Err(error) => return refused(&state, &visitor, Some(school), &error),
    };
    let notice = query
        .contains_key("changed")
        .then(|| EN.password_changed.to_owned());
    account_page(&state, &visitor, school, &learner, notice, None).await
}

/// "My account" for `learner`, with a notice or a problem to show.
async fn account_page(
    state: &AppState,
    visitor: &Visitor,
    school: School,
    learner: &LearnerAuthenticated,
    notice: Option<String>,
    problem: Option<String>,
) -> Page {
    let classes: Vec<String> = match sqlx::query_scalar(
        "SELECT c.name FROM enrollment e JOIN class c ON c.id = e.class_id
         WHERE e.learner_id = $1 ORDER BY c.name",
    )
    .bind(&learner.id)
    .fetch_all(state.db.pool())
    .await
    {
        Ok(classes) => classes,
        Err(error) => return refused(state, visitor, Some(school), &error.into()),
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    visitor
        .page(
            state,
            &AccountPage {
                f: visitor.frame(Some(school)),
                name: format!("{} {}", learner.given_name, learner.family_name),
                username: learner.username.clone(),
                classes,
                must_change: learner.must_change_password != 0,
                needs_current: learner.proof.0 == Proof::Password,
                notice,
                problem,
            },
        )
        .status(status)
}

async fn change_password(
    State(state): State<AppState>,
    Posted {
        visitor,
        school,
        mut form,
    }: Posted,
) -> Page {
    let learner = match signed_in(&state, &visitor, &school).await {
        Ok(Some(learner)) => learner,
        Ok(None) => return Page::see_other(sign_in_path(&school)),
        Err(error) => return refused(&state, &visitor, Some(school), &error),
    };
    let new_password = form.take("new_password");
    if new_password != form.take("repeat_password") {
        let problem = Some(EN.passwords_differ.to_owned());
        return account_page(&state, &visitor, school, &learner, None, problem).await;
    }
    let request = LearnerPasswordChange {
        current_password: form.take("current_password"),
        new_password,
    };
    let shown = learner.clone();
    match learner_auth::change_own_password(&state, learner, &pages_device(), request).await {
        Ok(session) => Page::see_other(format!("{}?changed", account_path(&school))).cookie(
            &state,
            SESSION_COOKIE,
            &session.token,
            None,
        ),
        Err(error)
            if matches!(
                error.code(),
                ErrorCode::InvalidInput | ErrorCode::InvalidCredentials
            ) =>
        {
            let problem = Some(error.to_string());
            account_page(&state, &visitor, school, &shown, None, problem).await
        }
        Err(error) => refused(&state, &visitor, Some(school), &error),
    }
}

// ---------------------------------------------------------------------------------------
// The login helper

async fn help(State(state): State<AppState>, AtSchool { visitor, school }: AtSchool) -> Page {
    visitor.page(
        &state,
        &HelpPage {
            f: visitor.frame(Some(school)),
        },
    )
}

async fn help_username(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    posted: Posted,
) -> Page {
    let question = Question::Username {
        email: posted.form.get("email").to_owned(),
    };
    ask(&state, address, posted, question, EN.sent_username).await
}

async fn help_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    posted: Posted,
) -> Page {
    let question = Question::Password {
        username: posted.form.get("username").to_owned(),
    };
    ask(&state, address, posted, question, EN.sent_links).await
}

/// Asks the helper and answers with the same page whatever was asked.
async fn ask(
    state: &AppState,
    address: std::net::IpAddr,
    Posted {
        visitor, school, ..
    }: Posted,
    question: Question,
    sent: &str,
) -> Page {
    if let Err(error) = login_help::ask(state, &school, address, question).await {
        return refused(state, &visitor, Some(school), &error);
    }
    let back = sign_in_path(&school);
    message(
        state,
        &visitor,
        Some(school),
        EN.sent_title,
        &[sent, EN.check_spam],
        Some((back, EN.back_to_sign_in)),
    )
}

// ---------------------------------------------------------------------------------------
// Links from mail

/// The page for a link that does not work, with the way to a new one.
fn link_refused(state: &AppState, visitor: &Visitor, school: School, refusal: Refusal) -> Page {
    let (status, text) = match refusal {
        Refusal::Unknown => (StatusCode::NOT_FOUND, EN.link_unknown),
        Refusal::Superseded => (StatusCode::GONE, EN.link_superseded),
        Refusal::Used => (StatusCode::GONE, EN.link_used),
        Refusal::Expired => (StatusCode::GONE, EN.link_expired),
    };
    let again = help_path(&school);
    message(
        state,
        visitor,
        Some(school),
        EN.link_title,
        &[text],
        Some((again, EN.ask_again)),
    )
    .status(status)
}

/// The username (for a reset) or given name (for a sign-in link) the link's page greets.
async fn holder_name(state: &AppState, holder: &Holder, link: Link) -> Result<String> {
    let sql = match (holder.kind, link) {
        (SubjectKind::Learner, Link::Reset) => "SELECT username FROM learner WHERE id = $1",
        (SubjectKind::Learner, Link::SignIn) => "SELECT given_name FROM learner WHERE id = $1",
        (SubjectKind::Staff, _) => "SELECT username FROM staff WHERE id = $1",
    };
    Ok(sqlx::query_scalar(sql)
        .bind(&holder.subject_id)
        .fetch_one(state.db.pool())
        .await?)
}

async fn reset_page(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Path((_, token)): Path<(String, String)>,
) -> Page {
    reset_form(&state, &visitor, school, token, None).await
}

/// The reset form for link `token`, or why the link does not work. Reading only.
async fn reset_form(
    state: &AppState,
    visitor: &Visitor,
    school: School,
    token: String,
    problem: Option<String>,
) -> Page {
    let holder = match links::inspect(state, Link::Reset, &school.id, &token).await {
        Ok(Ok(holder)) => holder,
        Ok(Err(refusal)) => return link_refused(state, visitor, school, refusal),
        Err(error) => return refused(state, visitor, Some(school), &error),
    };
    let username = match holder_name(state, &holder, Link::Reset).await {
        Ok(name) => name,
        Err(error) => return refused(state, visitor, Some(school), &error),
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    visitor
        .page(
            state,
            &ResetPage {
                f: visitor.frame(Some(school)),
                intro: (EN.reset_intro)(&username),
                username,
                token,
                problem,
            },
        )
        .status(status)
}

async fn reset(
    State(state): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    Posted {
        visitor,
        school,
        mut form,
    }: Posted,
) -> Page {
    let chosen = form.take("new_password");
    if chosen != form.take("repeat_password") {
        let problem = Some(EN.passwords_differ.to_owned());
        return reset_form(&state, &visitor, school, token, problem).await;
    }
    let done = login_help::reset_with_link(
        &state,
        &school,
        &token,
        Sensitive::new(chosen),
        &pages_device(),
    )
    .await;
    match done {
        Ok(Ok(ResetDone::Learner { session, .. })) => Page::see_other(format!(
            "{}?changed",
            account_path(&school)
        ))
        .cookie(&state, SESSION_COOKIE, session.expose(), None),
        Ok(Ok(ResetDone::Staff)) => message(
            &state,
            &visitor,
            Some(school),
            EN.reset_title,
            &[EN.reset_done_staff],
            None,
        ),
        Ok(Err(refusal)) => link_refused(&state, &visitor, school, refusal),
        Err(error) if error.code() == ErrorCode::InvalidInput => {
            let problem = Some(error.to_string());
            reset_form(&state, &visitor, school, token, problem).await
        }
        Err(error) => refused(&state, &visitor, Some(school), &error),
    }
}

async fn link_page(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Path((_, token)): Path<(String, String)>,
) -> Page {
    let holder = match links::inspect(&state, Link::SignIn, &school.id, &token).await {
        Ok(Ok(holder)) => holder,
        Ok(Err(refusal)) => return link_refused(&state, &visitor, school, refusal),
        Err(error) => return refused(&state, &visitor, Some(school), &error),
    };
    let name = match holder_name(&state, &holder, Link::SignIn).await {
        Ok(name) => name,
        Err(error) => return refused(&state, &visitor, Some(school), &error),
    };
    visitor.page(
        &state,
        &LinkPage {
            f: visitor.frame(Some(school)),
            token,
            intro: (EN.link_intro)(&name),
        },
    )
}

async fn link_sign_in(
    State(state): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    Posted {
        visitor, school, ..
    }: Posted,
) -> Page {
    match login_help::sign_in_with_link(&state, &school, &token).await {
        Ok(Ok((session, _))) => Page::see_other(account_path(&school)).cookie(
            &state,
            SESSION_COOKIE,
            session.expose(),
            None,
        ),
        Ok(Err(refusal)) => link_refused(&state, &visitor, school, refusal),
        Err(error) => refused(&state, &visitor, Some(school), &error),
    }
}

// ---------------------------------------------------------------------------------------
// For parents

async fn parents(State(state): State<AppState>, AtSchool { visitor, school }: AtSchool) -> Page {
    visitor.page(
        &state,
        &ParentsPage {
            intro: (EN.parents_intro)(&school.name),
            sign_in_url: sign_in_url(&state.settings.public_url, &school.slug),
            f: visitor.frame(Some(school)),
        },
    )
}

/// The parents' page as a one-page PDF, A4 unless `?paper=letter`.
async fn parents_pdf(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let paper = match query.get("paper").map(String::as_str) {
        Some("letter") => Paper::Letter,
        _ => Paper::A4,
    };
    let sheet = ParentsSheet::new(
        &school.name,
        sign_in_url(&state.settings.public_url, &school.slug),
    );
    // Drawing a page takes a few milliseconds of CPU: off the async workers.
    let rendered = tokio::task::spawn_blocking(move || sheet.render(paper)).await;
    match rendered {
        Ok(Ok(pdf)) => {
            let name = format!("how-to-sign-in-{}.pdf", school.slug);
            let mut response = asset(pdf, "application/pdf");
            if let Ok(value) = HeaderValue::try_from(format!("inline; filename=\"{name}\"")) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Ok(Err(error)) => {
            let error = crate::Error::internal(anyhow::anyhow!("the parents' sheet: {error}"));
            refused(&state, &visitor, Some(school), &error).into_response()
        }
        Err(error) => {
            let error = crate::Error::internal(error);
            refused(&state, &visitor, Some(school), &error).into_response()
        }
    }
}

/// The parents' sheet of one school, in the pages' words: owned, to draw on a blocking
/// thread.
pub(crate) struct ParentsSheet {
    school: String,
    intro: String,
    url: String,
}

impl ParentsSheet {
    pub(crate) fn new(school: &str, url: String) -> Self {
        Self {
            school: school.to_owned(),
            intro: (EN.parents_intro)(school),
            url,
        }
    }

    /// The school's sheet, naming no learner.
    fn render(&self, paper: Paper) -> classkeys_cards::Result<Vec<u8>> {
        self.render_for(&[None], paper)
    }

    /// One page per learner `(name, username)`, each naming them and their username.
    pub(crate) fn render_for(
        &self,
        learners: &[Option<(String, String)>],
        paper: Paper,
    ) -> classkeys_cards::Result<Vec<u8>> {
        let steps = EN.parents_steps;
        let username = [EN.parents_forgot_username];
        let password = [EN.parents_forgot_password, EN.parents_safety];
        let sections = [
            Section {
                heading: EN.parents_steps_heading,
                paragraphs: &steps,
            },
            Section {
                heading: EN.parents_forgot_username_heading,
                paragraphs: &username,
            },
            Section {
                heading: EN.parents_forgot_password_heading,
                paragraphs: &password,
            },
        ];
        let named: Vec<Option<(String, &str)>> = learners
            .iter()
            .map(|l| {
                l.as_ref()
                    .map(|(name, username)| ((EN.parents_for)(name), username.as_str()))
            })
            .collect();
        let sheets: Vec<Instructions<'_>> = named
            .iter()
            .map(|learner| Instructions {
                school: &self.school,
                title: EN.parents_title,
                intro: &self.intro,
                sign_in_url: &self.url,
                sections: &sections,
                learner: learner
                    .as_ref()
                    .map(|(who, username)| (who.as_str(), *username)),
            })
            .collect();
        render_instruction_pages(&sheets, paper)
    }
}

/// The school's sign-in address as a QR code.
async fn sign_in_qr(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let school = match School::by_slug(&state, &slug).await {
        Ok(Some(school)) => school,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match qr_svg(&sign_in_url(&state.settings.public_url, &school.slug)) {
        Ok(svg) => asset(svg, "image/svg+xml"),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// The wrong places

/// Sign-up pages say why there is none; any other unknown page says so.
async fn wrong_place(
    State(state): State<AppState>,
    AtSchool { visitor, school }: AtSchool,
    Path((_, elsewhere)): Path<(String, String)>,
) -> Page {
    let sign_in = sign_in_path(&school);
    match elsewhere.to_lowercase().as_str() {
        "sign-up" | "signup" | "register" | "sign_up" | "join" => message(
            &state,
            &visitor,
            Some(school),
            EN.sign_up_title,
            &[EN.sign_up_text],
            Some((sign_in, EN.sign_in)),
        ),
        _ => {
            let home = format!("/s/{}/", school.slug);
            let name = school.name.clone();
            message(
                &state,
                &visitor,
                Some(school),
                EN.product,
                &[EN.not_found],
                Some((home, &name)),
            )
            .status(StatusCode::NOT_FOUND)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::parse_colour;

    #[test]
    fn a_crest_colour_is_six_hex_digits_and_nothing_else() {
        assert_eq!(parse_colour("#1D4E89"), Some((0x1d, 0x4e, 0x89)));
        for bad in ["1d4e89", "#1d4e8", "#1d4e89;}", "red", "#ggg000", ""] {
            assert_eq!(parse_colour(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_on_the_crest_keeps_its_contrast() {
        // Dark crests get white text, light ones near-black.
        assert!(luminance(0x1d, 0x4e, 0x89) < 0.179);
        assert!(luminance(0xf2, 0xd0, 0x24) > 0.179);
    }

    #[test]
    fn a_school_badge_shows_up_to_two_initials() {
        let school = |name: &str| School {
            id: String::new(),
            slug: String::new(),
            name: name.into(),
        };
        assert_eq!(school("St Mary's Primary").initials(), "SM");
        assert_eq!(school("école Jean-Jaurès").initials(), "ÉJ");
        assert_eq!(school("Demo").initials(), "D");
    }
}
