//! The school's pages over HTTP, as a browser without JavaScript sees them: the answers,
//! statuses, headers and cookies, the CSRF check, the canonical host, and that the login
//! helper's answers give nothing away. (The same pages in a real browser: `tests/browser`.)

use std::collections::HashMap;

use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::credentials::PasswordSource;
use classkeys_protocol::roster::NewLearner;
use classkeys_server::Backend;
use classkeys_testsupport::TestServer;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::harness::{self, World, active_learners};
use crate::on_both_backends;

on_both_backends!(
    the_wrong_places_explain_themselves,
    a_learner_signs_in_sees_their_account_and_signs_out,
    the_helper_answers_the_same_whatever_was_asked,
    a_reset_link_opened_changes_nothing_until_its_button,
    parents_get_a_printable_page_and_pdf_with_the_address_and_its_qr_code,
    behind_https_cookies_are_secure_and_other_host_names_are_sent_to_the_public_one,
);

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
}

/// One answer, read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body without the CSRF token, to compare two answers.
    pub fn without_csrf(&self) -> String {
        match csrf_in(&self.body) {
            Some(token) => self.body.replace(&token, "CSRF"),
            None => self.body.clone(),
        }
    }

    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn csrf_in(body: &str) -> Option<String> {
    let start = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

impl Visitor {
    pub fn new(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.url.clone(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Answer {
        for cookie in response.headers().get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Posts `fields` to `path` with the CSRF token of the visitor's cookie.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.cookies.get("ck_csrf").cloned().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        self.post_raw(path, &form, None).await
    }

    pub async fn post_raw(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        host: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        if let Some(host) = host {
            request = request.header("host", HeaderValue::from_str(host).unwrap());
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }
}

async fn the_wrong_places_explain_themselves(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let mut visitor = Visitor::new(&server);

    for path in ["/s/demo/sign-up", "/s/demo/register", "/s/demo/signup"] {
        let page = visitor.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.body.contains("Accounts are made by your school"),
            "{path}"
        );
        assert!(page.body.contains("href=\"/s/demo/sign-in\""), "{path}");
    }
    let nowhere = visitor.get("/s/no-such-school/sign-in").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(nowhere.body.contains("Find your school"));
    assert!(nowhere.body.contains("There is no school at the address"));
    assert!(
        nowhere.body.contains("href=\"/s/demo/\""),
        "with one school on the server it is listed"
    );
    let home = visitor.get("/s/DEMO").await;
    assert_eq!(home.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(home.location(), "/s/demo/");
    let crest = visitor.get("/s/demo/crest.css").await;
    assert_eq!(
        crest.body.trim(),
        ":root { --crest: #2e6b3f; --crest-ink: #ffffff; }",
        "the school's colour, with text that stays readable on it"
    );
    let found = visitor.get("/?q=d%C3%A9mo").await;
    assert!(found.body.contains("href=\"/s/demo/\""), "accents aside");

    let sign_in = visitor.get("/s/demo/sign-in").await;
    assert!(
        sign_in
            .body
            .contains("Teachers and other staff sign in with the ClassKeys app")
    );
    for (name, value) in [
        // Nothing is allowed that is not named, and scripts are not named at all.
        ("content-security-policy", "default-src 'none'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        let header = sign_in.headers.get(name).map(|v| v.to_str().unwrap());
        assert!(
            header.is_some_and(|h| h.starts_with(value)),
            "{name}: {header:?}"
        );
    }
    let csp = sign_in.headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("script-src"), "no scripts at all: {csp}");
    let first = Visitor::new(&server).get("/s/demo/sign-in").await;
    let cookie = first.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback");

    // A failed sign-in names the school, in the same words whether the account exists.
    let unknown = visitor
        .post(
            "/s/demo/sign-in",
            &[("username", "nobody.here"), ("password", "wrong")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains(
        "Wrong username or password. You are signing in to Demo Primary: is this your school?"
    ));
    let client = classkeys_client::Client::new(&server.url).unwrap();
    let lead = harness::sign_in(&client, "demo", "lead").await;
    let learner = active_learners(&lead, "3 Badgers").await.remove(0);
    let known = visitor
        .post(
            "/s/demo/sign-in",
            &[("username", &learner.username), ("password", "wrong")],
        )
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        known.body.replace(&learner.username, "USERNAME"),
        unknown.body.replace("nobody.here", "USERNAME"),
        "the same page but for the username typed"
    );

    // A form without the visitor's token does nothing.
    let mut stranger = Visitor::new(&server);
    let forged = stranger
        .post_raw(
            "/s/demo/sign-in",
            &[("username", "x"), ("password", "y")],
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("Reload the page"));
    server.stop().await;
}

async fn a_learner_signs_in_sees_their_account_and_signs_out(backend: Backend) {
    let world = World::start(backend).await;
    let class = harness::class(&world.lead, "3 Badgers").await;
    let learner = world
        .lead
        .learner_create(&NewLearner {
            id: None,
            given_name: "<b>Bold</b>".into(),
            family_name: "O'Brien & Sons".into(),
            username: Some("bold.obrien".into()),
            email: None,
            classes: vec![class.id],
        })
        .await
        .unwrap();
    let password = harness::generated(PasswordStyle::Words);
    harness::reset(
        &world.lead,
        learner.id,
        &password,
        PasswordSource::Generated,
    )
    .await;

    let mut visitor = Visitor::new(&world.server);
    visitor.get("/s/demo/sign-in").await;
    let signed_in = visitor
        .post(
            "/s/demo/sign-in",
            &[("username", "Bold.OBrien"), ("password", &password)],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/s/demo/account");
    assert!(visitor.has_cookie("ck_session") && visitor.has_cookie("ck_device"));
    let account = visitor.get("/s/demo/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(
        account
            .body
            .contains("&#60;b&#62;Bold&#60;/b&#62; O&#39;Brien &#38; Sons")
            || account
                .body
                .contains("&lt;b&gt;Bold&lt;/b&gt; O&#x27;Brien &amp; Sons"),
        "names are text: {}",
        account.body
    );
    assert!(!account.body.contains("<b>Bold"));
    assert!(account.body.contains("3 Badgers"));

    let weak = visitor
        .post(
            "/s/demo/account/password",
            &[
                ("current_password", &password),
                ("new_password", "abc"),
                ("repeat_password", "abc"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(
        weak.body.contains("choose another password"),
        "{}",
        weak.body
    );
    let differ = visitor
        .post(
            "/s/demo/account/password",
            &[
                ("current_password", &password),
                ("new_password", "lantern-mossy-quiet-7"),
                ("repeat_password", "lantern-mossy-quiet-8"),
            ],
        )
        .await;
    assert!(differ.body.contains("not the same"));
    let changed = visitor
        .post(
            "/s/demo/account/password",
            &[
                ("current_password", &password),
                ("new_password", "lantern-mossy-quiet-7"),
                ("repeat_password", "lantern-mossy-quiet-7"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let account = visitor.get(changed.location()).await;
    assert!(account.body.contains("Your password is changed"));

    let out = visitor.post("/s/demo/sign-out", &[]).await;
    assert_eq!(out.location(), "/s/demo/sign-in?signed_out");
    assert!(!visitor.has_cookie("ck_session"));
    let after = visitor.get("/s/demo/account").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "signed out");
    assert_eq!(after.location(), "/s/demo/sign-in");
    world.stop().await;
}

async fn the_helper_answers_the_same_whatever_was_asked(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let client = classkeys_client::Client::new(&server.url).unwrap();
    let lead = harness::sign_in(&client, "demo", "lead").await;
    let learner = active_learners(&lead, "4B")
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .unwrap();
    let mut visitor = Visitor::new(&server);
    let help = visitor.get("/s/demo/help").await;
    assert!(help.body.contains("No email address? Ask your teacher"));

    let known = visitor
        .post("/s/demo/help/password", &[("username", &learner.username)])
        .await;
    let unknown = visitor
        .post("/s/demo/help/password", &[("username", "nobody.here")])
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.without_csrf(), unknown.without_csrf());
    assert!(known.body.contains("check your spam folder"));

    let email = learner.email.clone().unwrap();
    let known = visitor
        .post("/s/demo/help/username", &[("email", &email)])
        .await;
    let unknown = visitor
        .post("/s/demo/help/username", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.without_csrf(), unknown.without_csrf());

    let mails = server.mail_in_outbox(3).await;
    assert_eq!(
        mails.len(),
        3,
        "links to the learner; the username; 'no account' to the unknown address"
    );
    server.stop().await;
}

async fn a_reset_link_opened_changes_nothing_until_its_button(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let state = server.state();
    let client = classkeys_client::Client::new(&server.url).unwrap();
    let lead = harness::sign_in(&client, "demo", "lead").await;
    let learner = active_learners(&lead, "5 Kestrels")
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .unwrap();
    let mut visitor = Visitor::new(&server);
    visitor.get("/s/demo/help").await;
    // A forged Host header changes nothing about the links: they come from the public URL.
    let csrf = visitor.cookies["ck_csrf"].clone();
    let asked = visitor
        .post_raw(
            "/s/demo/help/password",
            &[("csrf", &csrf), ("username", &learner.username)],
            Some("evil.example"),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    let mails = server.mail_in_outbox(1).await;
    let public = &state.settings.public_url;
    let reset = mails[0].links(&format!("{public}/s/demo/reset/"));
    let sign_in = mails[0].links(&format!("{public}/s/demo/link/"));
    assert_eq!((reset.len(), sign_in.len()), (1, 1), "{}", mails[0].body);
    assert!(!mails[0].body.contains("evil.example"));
    let reset_path = reset[0].trim_start_matches(public.as_str()).to_owned();

    // A GET under another host name is sent to the public one.
    let moved = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{reset_path}", server.url))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()["location"], format!("{public}{reset_path}"));

    // Opening the link, however often, uses nothing.
    for _ in 0..3 {
        let page = visitor.get(&reset_path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains(&format!("Choose a new password for {}", learner.username))
        );
    }
    let unused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM token WHERE purpose = 'reset' AND used_at IS NULL",
    )
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    assert_eq!(unused, 1);

    let chosen = visitor
        .post(
            &reset_path,
            &[
                ("new_password", "lantern-mossy-quiet-7"),
                ("repeat_password", "lantern-mossy-quiet-7"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER);
    assert_eq!(chosen.location(), "/s/demo/account?changed");
    let account = visitor.get(chosen.location()).await;
    assert!(account.body.contains(&learner.username));
    let again = visitor.get(&reset_path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("it was used already"));
    server.stop().await;
}

async fn parents_get_a_printable_page_and_pdf_with_the_address_and_its_qr_code(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let address = format!("{}/s/demo/sign-in", server.url);
    let mut visitor = Visitor::new(&server);
    let page = visitor.get("/s/demo/how-to-sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        address.as_str(),
        "src=\"/s/demo/sign-in-qr.svg\"",
        "Forgot the password?",
        "href=\"/s/demo/how-to-sign-in.pdf?paper=letter\"",
    ] {
        assert!(page.body.contains(expected), "{expected}");
    }
    let qr = visitor.get("/s/demo/sign-in-qr.svg").await;
    assert_eq!(qr.headers["content-type"], "image/svg+xml");
    assert!(qr.body.starts_with("<svg"));

    let dir = tempfile::tempdir().unwrap();
    for (query, size) in [("", "(A4)"), ("?paper=letter", "(letter)")] {
        let pdf = reqwest::get(format!("{}/s/demo/how-to-sign-in.pdf{query}", server.url))
            .await
            .unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let path = dir.path().join("sheet.pdf");
        std::fs::write(&path, pdf.bytes().await.unwrap()).unwrap();
        let tool = |name: &str, args: &[&str]| {
            let out = std::process::Command::new(name)
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{name} (poppler-utils) could not run: {e}"));
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let path = path.to_str().unwrap();
        let text = tool("pdftotext", &[path, "-"]);
        assert!(
            text.contains(&address) && text.contains("Demo Primary"),
            "{text}"
        );
        let info = tool("pdfinfo", &[path]);
        assert!(info.contains(size), "{size}: {info}");
    }
    server.stop().await;
}

async fn behind_https_cookies_are_secure_and_other_host_names_are_sent_to_the_public_one(
    backend: Backend,
) {
    let settings = classkeys_server::Settings {
        public_url: "https://keys.school.example".into(),
        ..classkeys_server::Settings::default()
    };
    let server = TestServer::start_demo_with(backend, settings).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // As the TLS proxy passes it on: the public host name.
    let page = http
        .get(format!("{}/s/demo/sign-in", server.url))
        .header("host", "keys.school.example")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // An internal name or address is sent to the public one.
    let moved = http
        .get(format!("{}/s/demo/sign-in?x=1", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        moved.headers()["location"],
        "https://keys.school.example/s/demo/sign-in?x=1"
    );
    // The API answers under any name: the app and command line may use an internal one.
    let api = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    server.stop().await;
}
