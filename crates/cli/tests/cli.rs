//! The `classkeys` binary, run as an admin runs it: a real process, a token file in a
//! temporary folder, the password in `CLASSKEYS_PASSWORD`, and the exit code, standard output
//! and standard error checked as a script would see them.
//!
//! Until the server crate exposes its test harness, the server side is a small stand-in on
//! loopback (see [`StandIn`]) that answers with wire types from `classkeys-protocol`. It checks
//! what the CLI itself is responsible for — storing and sending the session, paging, name
//! resolution, error wording, output — not the server's rules.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

use classkeys_protocol::auth::Session;
use classkeys_protocol::roster::{ClassRecord, LearnerPage, LearnerRecord};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------

/// What one `classkeys` run left behind.
#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success and returns standard output.
    #[track_caller]
    fn ok(&self) -> &str {
        assert!(self.status.success(), "classkeys failed: {self:#?}");
        &self.stdout
    }

    /// Asserts exit code 1 and returns standard error.
    #[track_caller]
    fn failed(&self) -> &str {
        assert_eq!(
            self.status.code(),
            Some(1),
            "expected exit code 1: {self:#?}"
        );
        &self.stderr
    }

    /// Standard output parsed as JSON (for `--json` runs).
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(self.ok()).expect("stdout is JSON")
    }
}

/// One admin's computer: a temporary folder holding the token file, with `HOME` and the
/// configuration folders pointed inside it so no run can touch the real user's files or
/// credential store.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// Where `CLASSKEYS_TOKEN_FILE` points.
    fn token_file(&self) -> PathBuf {
        self.dir.path().join("session").join("token.json")
    }

    /// Runs `classkeys ARGS` without a password in the environment.
    async fn classkeys(&self, args: &[&str]) -> Run {
        self.run(args, None).await
    }

    /// Runs `classkeys login --server URL --username USERNAME` with `CLASSKEYS_PASSWORD`.
    async fn login(&self, url: &str, username: &str, password: &str) -> Run {
        self.run(
            &["login", "--server", url, "--username", username],
            Some(password),
        )
        .await
    }

    /// Runs `classkeys ARGS`, with `CLASSKEYS_PASSWORD` set when `password` is given. Async
    /// (tokio's process) so a server running on the same runtime keeps serving meanwhile.
    async fn run(&self, args: &[&str], password: Option<&str>) -> Run {
        let home = self.dir.path().join("home");
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_classkeys"));
        cmd.args(args)
            .env("CLASSKEYS_TOKEN_FILE", self.token_file())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env_remove("CLASSKEYS_PASSWORD")
            .stdin(std::process::Stdio::null());
        if let Some(password) = password {
            cmd.env("CLASSKEYS_PASSWORD", password);
        }
        let out = cmd.output().await.expect("classkeys runs");
        Run {
            status: out.status,
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Writes a session into the token file as if `login` had, for tests that start signed in.
    fn signed_in(&self, server: &str, token: &str) {
        std::fs::create_dir_all(self.token_file().parent().expect("parent")).expect("mkdir");
        let file = json!({ "server": server, "username": "lead", "token": token });
        std::fs::write(self.token_file(), file.to_string()).expect("write token file");
    }
}

/// An address on loopback where nothing listens.
fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

// ---------------------------------------------------------------------------------------
// A stand-in server
// ---------------------------------------------------------------------------------------

/// A request as the stand-in saw it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    body: String,
}

impl Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Request) -> (u16, Value) + Send + Sync;

/// An HTTP/1.1 server on loopback that answers each request with `handler`'s status and
/// JSON body, one connection at a time, and records what it was sent.
struct StandIn {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl StandIn {
    fn start(handler: impl Fn(&Request) -> (u16, Value) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let handler: Box<Handler> = Box::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(req) = read_request(&stream) {
                    let (status, body) = handler(&req);
                    seen.lock().expect("lock").push(req);
                    respond(stream, status, &body);
                }
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let mut length = 0;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path: path.to_owned(),
        query,
        authorization,
        body: String::from_utf8(body).ok()?,
    })
}

fn respond(mut stream: TcpStream, status: u16, body: &Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn error_body(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

const LEAD_ID: &str = "01900000-0000-7000-8000-000000000001";
const SCHOOL_ID: &str = "01900000-0000-7000-8000-0000000000aa";
const CLASS_4B: &str = "01900000-0000-7000-8000-0000000000b4";
const CLASS_5C: &str = "01900000-0000-7000-8000-0000000000c5";

fn me(role: &str) -> Value {
    json!({
        "id": LEAD_ID,
        "username": "lead",
        "display_name": "Ms Lead",
        "role": role,
        "school_id": SCHOOL_ID,
        "school_name": "Demo Primary",
        "school_slug": "demo",
    })
}

/// Checked against the protocol type, so the stand-in cannot drift from the wire contract.
fn session(token: &str) -> Value {
    let v = json!({ "token": token, "expires_at": "2030-01-01T00:00:00Z", "staff": me("lead_teacher") });
    serde_json::from_value::<Session>(v.clone()).expect("a Session");
    v
}

fn class(id: &str, name: &str, teachers: &[&str], count: i64) -> Value {
    let teachers: Vec<Value> = teachers
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({
                "id": format!("01900000-0000-7000-8000-00000000010{i}"),
                "username": u,
                "display_name": u,
            })
        })
        .collect();
    let v = json!({
        "id": id, "name": name, "year_group": "Year 4", "archived": false,
        "teachers": teachers, "learner_count": count, "version": 3,
        "updated_at": "2025-01-01T00:00:00Z",
    });
    serde_json::from_value::<ClassRecord>(v.clone()).expect("a ClassRecord");
    v
}

fn learner(n: u32, username: &str, given: &str, family: &str, classes: &[&str]) -> Value {
    let v = json!({
        "id": format!("01900000-0000-7000-8000-0000000002{n:02}"),
        "username": username, "given_name": given, "family_name": family,
        "email": null, "active": true, "classes": classes, "version": 1,
        "updated_at": "2025-01-01T00:00:00Z",
    });
    serde_json::from_value::<LearnerRecord>(v.clone()).expect("a LearnerRecord");
    v
}

fn page(items: &[Value], total: i64, offset: u32) -> Value {
    let v = json!({ "items": items, "total": total, "offset": offset, "limit": 500 });
    serde_json::from_value::<LearnerPage>(v.clone()).expect("a LearnerPage");
    v
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn commands_without_a_session_say_to_log_in() {
    let sandbox = Sandbox::new();
    for args in [
        &["classes"][..],
        &["learners"],
        &["learner", "deactivate", "zoe"],
    ] {
        let run = sandbox.classkeys(args).await;
        assert_eq!(
            run.failed(),
            "error: not signed in, or the session has expired: run classkeys login\n"
        );
    }
}

#[tokio::test]
async fn login_stores_the_session_in_a_private_file_and_never_prints_secrets() {
    let server = StandIn::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/v1/auth/sign-in") => (200, session("tok-S3CRET-123")),
        _ => (404, error_body("not_found", "no such route")),
    });
    let sandbox = Sandbox::new();
    let url_with_slash = format!("{}/", server.url);
    let run = sandbox
        .run(
            &[
                "login",
                "--server",
                &url_with_slash,
                "--username",
                "Lead",
                "--school",
                "demo",
            ],
            Some("pa55-word"),
        )
        .await;
    assert_eq!(
        run.ok(),
        "Signed in to Demo Primary as Ms Lead (lead teacher)\n"
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("S3CRET") && !text.contains("pa55"),
            "{run:#?}"
        );
    }

    let sent: Value = serde_json::from_str(&server.requests()[0].body).expect("JSON body");
    assert_eq!(
        sent,
        json!({ "school": "demo", "username": "Lead", "password": "pa55-word" })
    );

    let stored: Value =
        serde_json::from_slice(&std::fs::read(sandbox.token_file()).expect("token file"))
            .expect("token file is JSON");
    assert_eq!(
        stored,
        json!({ "server": server.url, "username": "lead", "token": "tok-S3CRET-123" })
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(sandbox.token_file())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_shows_the_servers_words_and_stores_nothing() {
    let server = StandIn::start(|_| {
        (
            401,
            error_body("invalid_credentials", "wrong username or password"),
        )
    });
    let sandbox = Sandbox::new();
    let run = sandbox.login(&server.url, "lead", "nope").await;
    assert_eq!(run.failed(), "error: wrong username or password\n");
    assert!(!sandbox.token_file().exists());
}

#[tokio::test]
async fn login_to_an_unreachable_server_names_its_address() {
    let sandbox = Sandbox::new();
    let url = unreachable_url();
    let run = sandbox.login(&url, "lead", "pw").await;
    assert!(run.failed().contains(&url), "{run:#?}");
    assert!(!sandbox.token_file().exists());
}

#[tokio::test]
async fn commands_send_the_stored_token_and_an_expired_one_says_to_log_in() {
    let server = StandIn::start(|_| (401, error_body("unauthenticated", "session expired")));
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok-old");
    let run = sandbox.classkeys(&["classes"]).await;
    assert_eq!(
        run.failed(),
        "error: not signed in, or the session has expired: run classkeys login\n"
    );
    let req = &server.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/api/v1/classes")
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer tok-old"));
}

#[tokio::test]
async fn classes_are_listed_by_name_with_teacher_usernames() {
    let server = StandIn::start(|_| {
        (
            200,
            json!([
                class(CLASS_5C, "5C", &[], 0),
                class(CLASS_4B, "4B", &["teacher1", "teacher2"], 27),
            ]),
        )
    });
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok");
    let run = sandbox.classkeys(&["classes"]).await;
    assert_eq!(
        run.ok(),
        "NAME  YEAR GROUP  TEACHERS            LEARNERS  ARCHIVED\n\
         4B    Year 4      teacher1, teacher2        27  no\n\
         5C    Year 4      -                          0  no\n"
    );
    let json = sandbox.classkeys(&["classes", "--json"]).await.json();
    assert_eq!(json[0]["name"], "4B");
    assert_eq!(json[0]["id"], CLASS_4B);
    assert_eq!(json[0]["teachers"], json!(["teacher1", "teacher2"]));
    assert_eq!(json[0]["learner_count"], 27);
    assert_eq!(json[0]["archived"], false);
    assert_eq!(json[0]["year_group"], "Year 4");
}

#[tokio::test]
async fn learners_pages_through_everything_and_lines_up_unicode_names() {
    // The stand-in hands out two learners per page although the CLI asks for 500: the CLI
    // must follow `total`, not assume one page is all.
    let all = [
        learner(1, "lukasz.wojcik", "Łukasz", "Wójcik", &[CLASS_4B]),
        learner(2, "nguyenvan.an", "Nguyễn Văn", "An", &[CLASS_4B, CLASS_5C]),
        learner(3, "aleksandr.petrov", "Александр", "Петров", &[CLASS_5C]),
    ];
    let server = StandIn::start(move |req| match req.path.as_str() {
        "/api/v1/classes" => (
            200,
            json!([class(CLASS_4B, "4B", &[], 2), class(CLASS_5C, "5C", &[], 2)]),
        ),
        "/api/v1/learners" => {
            let offset: usize = req.param("offset").unwrap_or("0").parse().expect("offset");
            let items: Vec<Value> = all.iter().skip(offset).take(2).cloned().collect();
            (200, page(&items, all.len() as i64, offset as u32))
        }
        _ => (404, error_body("not_found", "no such route")),
    });
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok");

    let run = sandbox.classkeys(&["learners"]).await;
    assert_eq!(
        run.ok(),
        "USERNAME          GIVEN NAME  FAMILY NAME  EMAIL  CLASSES  ACTIVE\n\
         lukasz.wojcik     Łukasz      Wójcik       -      4B       yes\n\
         nguyenvan.an      Nguyễn Văn  An           -      4B, 5C   yes\n\
         aleksandr.petrov  Александр   Петров       -      5C       yes\n"
    );
    let offsets: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/learners")
        .map(|r| format!("{:?}/{:?}", r.param("offset"), r.param("limit")))
        .collect();
    assert_eq!(
        offsets,
        ["Some(\"0\")/Some(\"500\")", "Some(\"2\")/Some(\"500\")"]
    );

    let json = sandbox.classkeys(&["learners", "--json"]).await.json();
    assert_eq!(json.as_array().map(Vec::len), Some(3));
    assert_eq!(json[1]["username"], "nguyenvan.an");
    assert_eq!(json[1]["given_name"], "Nguyễn Văn");
    assert_eq!(json[1]["classes"], json!(["4B", "5C"]));
    assert_eq!(json[1]["email"], Value::Null);
    assert_eq!(json[1]["active"], true);
}

#[tokio::test]
async fn naming_a_class_you_cannot_see_depends_on_your_role() {
    for (role, expected) in [
        (
            "teacher",
            "error: permission denied: class 5C is not one of your classes\n",
        ),
        ("lead_teacher", "error: no class named 5C\n"),
    ] {
        let server = StandIn::start(move |req| match req.path.as_str() {
            "/api/v1/classes" => (200, json!([class(CLASS_4B, "4B", &[], 2)])),
            "/api/v1/auth/me" => (200, me(role)),
            _ => (500, error_body("internal", "unexpected request")),
        });
        let sandbox = Sandbox::new();
        sandbox.signed_in(&server.url, "tok");
        let run = sandbox.classkeys(&["learners", "--class", "5C"]).await;
        assert_eq!(run.failed(), expected, "as {role}");
        assert!(
            server
                .requests()
                .iter()
                .all(|r| r.path != "/api/v1/learners"),
            "nothing is listed for a class that was not found"
        );
    }
}

#[tokio::test]
async fn a_learner_is_found_by_exact_username_only() {
    let server = StandIn::start(|req| match req.path.as_str() {
        "/api/v1/learners" => (
            200,
            page(
                &[learner(1, "joanna.ann", "Joanna", "Ann", &[CLASS_4B])],
                1,
                0,
            ),
        ),
        _ => (500, error_body("internal", "unexpected request")),
    });
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok");
    let run = sandbox.classkeys(&["learner", "deactivate", "ann"]).await;
    assert_eq!(
        run.failed(),
        "error: no learner with username ann among the learners you can see\n"
    );
    assert_eq!(server.requests()[0].param("q"), Some("ann"));
}

#[tokio::test]
async fn deactivating_a_learner_reports_it_in_one_line_or_as_json() {
    let server = StandIn::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/v1/learners") => (
            200,
            page(
                &[learner(1, "zoe.adams", "Zoe", "Adams", &[CLASS_4B])],
                1,
                0,
            ),
        ),
        ("GET", "/api/v1/classes") => (200, json!([class(CLASS_4B, "4B", &[], 1)])),
        ("POST", p) if p.ends_with("/deactivate") => {
            let mut l = learner(1, "zoe.adams", "Zoe", "Adams", &[CLASS_4B]);
            l["active"] = json!(false);
            (200, l)
        }
        _ => (500, error_body("internal", "unexpected request")),
    });
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok");
    let run = sandbox
        .classkeys(&["learner", "deactivate", "zoe.adams"])
        .await;
    assert_eq!(
        run.ok(),
        "Deactivated zoe.adams (Zoe Adams): they can no longer sign in\n"
    );
    let json = sandbox
        .classkeys(&["learner", "deactivate", "zoe.adams", "--json"])
        .await
        .json();
    assert_eq!(json["active"], false);
    assert_eq!(json["classes"], json!(["4B"]));
}

#[tokio::test]
async fn a_refused_action_says_permission_denied_with_the_servers_reason() {
    let server = StandIn::start(|_| {
        (
            403,
            error_body("forbidden", "only lead teachers can create classes"),
        )
    });
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok");
    let run = sandbox.classkeys(&["class", "add", "6A"]).await;
    assert_eq!(
        run.failed(),
        "error: permission denied: only lead teachers can create classes\n"
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    sandbox.signed_in(&unreachable_url(), "tok");
    let run = sandbox
        .classkeys(&[
            "learner",
            "add",
            "--class",
            "4B",
            "--given-name",
            "Zoe",
            "--family-name",
            "Adams",
            "--email",
            "zoe.example",
        ])
        .await;
    assert_eq!(
        run.failed(),
        "error: --email: \"zoe.example\" is not an email address: it has no '@'\n"
    );
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_and_removes_the_token_file() {
    let server = StandIn::start(|_| (204, Value::Null));
    let sandbox = Sandbox::new();
    sandbox.signed_in(&server.url, "tok-live");
    let run = sandbox.classkeys(&["logout"]).await;
    assert_eq!(run.ok(), format!("Signed out of {} as lead\n", server.url));
    assert!(!sandbox.token_file().exists());
    let req = &server.requests()[0];
    assert_eq!(req.path, "/api/v1/auth/sign-out");
    assert_eq!(req.authorization.as_deref(), Some("Bearer tok-live"));
}

#[tokio::test]
async fn logout_forgets_the_session_even_when_the_server_is_unreachable() {
    let sandbox = Sandbox::new();
    let url = unreachable_url();
    sandbox.signed_in(&url, "tok-S3CRET");
    let run = sandbox.classkeys(&["logout"]).await;
    run.ok();
    assert!(
        run.stderr.starts_with("warning: could not end the session"),
        "{run:#?}"
    );
    assert!(run.stderr.contains(&url), "{run:#?}");
    assert!(!run.stderr.contains("S3CRET"), "{run:#?}");
    assert!(!sandbox.token_file().exists());
    let again = sandbox.classkeys(&["logout"]).await;
    assert_eq!(again.ok(), "Not signed in; nothing to sign out of\n");
}

// ---------------------------------------------------------------------------------------
// Against the real server (classkeys-server's test harness, demo school)
// ---------------------------------------------------------------------------------------

use classkeys_server::Backend;
use classkeys_server::testing::{TestServer, postgres_admin_url};

const DEMO_PASSWORD: &str = "correct-horse-battery-42";

/// SQLite always; PostgreSQL too when the test script provides one.
fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if postgres_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A server with the demo school, and a sandbox signed in to it as `username`.
async fn signed_in_to_demo(backend: Backend, username: &str) -> (TestServer, Sandbox) {
    let server = TestServer::start_demo(backend, DEMO_PASSWORD).await;
    let sandbox = Sandbox::new();
    sandbox
        .login(&server.url, username, DEMO_PASSWORD)
        .await
        .ok();
    (server, sandbox)
}

#[tokio::test]
async fn lead_teacher_runs_the_demo_school_from_the_command_line() {
    for backend in backends() {
        let server = TestServer::start_demo(backend, DEMO_PASSWORD).await;
        let sandbox = Sandbox::new();
        let login = sandbox.login(&server.url, "lead", DEMO_PASSWORD).await;
        assert_eq!(
            login.ok(),
            "Signed in to Demo Primary as Mrs Adebayo (lead teacher)\n",
            "{backend}"
        );
        let ck = async |args: &[&str]| sandbox.classkeys(args).await;

        let classes = ck(&["classes", "--json"]).await.json();
        assert_eq!(classes.as_array().map(Vec::len), Some(7), "{backend}");
        let four_b = classes
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == "4B"))
            .expect("4B is listed");
        assert_eq!(four_b["teachers"], json!(["teacher2"]));
        assert_eq!(four_b["year_group"], "Year 4");

        let learners = ck(&["learners", "--json"]).await.json();
        assert_eq!(learners.as_array().map(Vec::len), Some(189), "{backend}");
        let table = ck(&["learners", "--search", "lukasz"]).await;
        assert!(table.ok().contains("Łukasz"), "{table:#?}");

        assert_eq!(
            ck(&["class", "add", "6Z", "--year-group", "Year 6"])
                .await
                .ok(),
            "Created class 6Z (Year 6)\n"
        );
        let added = ck(&[
            "learner",
            "add",
            "--class",
            "6z",
            "--given-name",
            "Zoë",
            "--family-name",
            "Quinn",
            "--json",
        ])
        .await
        .json();
        assert_eq!(added["username"], "zoe.quinn");
        assert_eq!(added["classes"], json!(["6Z"]));

        assert_eq!(
            ck(&["learner", "enrol", "zoe.quinn", "--class", "4B"])
                .await
                .ok(),
            "Enrolled zoe.quinn in 4B\n"
        );
        assert_eq!(
            ck(&[
                "learner",
                "move",
                "zoe.quinn",
                "--from",
                "6Z",
                "--to",
                "5 kestrels"
            ])
            .await
            .ok(),
            "Moved zoe.quinn from 6Z to 5 Kestrels\n"
        );
        assert_eq!(
            ck(&["learner", "unenrol", "zoe.quinn", "--class", "4B"])
                .await
                .ok(),
            "Took zoe.quinn out of 4B\n"
        );
        let edited = ck(&[
            "learner",
            "edit",
            "zoe.quinn",
            "--email",
            "zoe.quinn@demo.example",
            "--json",
        ])
        .await
        .json();
        assert_eq!(edited["email"], "zoe.quinn@demo.example");
        assert_eq!(edited["classes"], json!(["5 Kestrels"]));
        assert_eq!(
            ck(&["learner", "deactivate", "zoe.quinn"]).await.ok(),
            "Deactivated zoe.quinn (Zoë Quinn): they can no longer sign in\n"
        );
        assert_eq!(
            ck(&["learner", "reactivate", "zoe.quinn"]).await.ok(),
            "Reactivated zoe.quinn (Zoë Quinn): they can sign in again\n"
        );

        assert_eq!(
            ck(&["class", "assign", "6Z", "--teacher", "teacher1"])
                .await
                .ok(),
            "Assigned teacher1 (Mr Hughes) to class 6Z\n"
        );
        assert_eq!(
            ck(&["class", "unassign", "6Z", "--teacher", "teacher1"])
                .await
                .ok(),
            "Took teacher1 (Mr Hughes) off class 6Z\n"
        );
        assert_eq!(
            ck(&["class", "rename", "6Z", "6Y"]).await.ok(),
            "Renamed class 6Z to 6Y\n"
        );
        let archived = ck(&["class", "archive", "6Y", "--json"]).await.json();
        assert_eq!(archived["archived"], true);
        assert_eq!(
            ck(&["class", "restore", "6Y"]).await.ok(),
            "Restored class 6Y\n"
        );
        assert_eq!(
            ck(&["class", "delete", "6Y"]).await.ok(),
            "Deleted class 6Y\n"
        );
        assert_eq!(
            ck(&["class", "delete", "6Y"]).await.failed(),
            "error: no class named 6Y\n"
        );

        assert_eq!(
            ck(&["logout"]).await.ok(),
            format!("Signed out of {} as lead\n", server.url)
        );
        assert!(!sandbox.token_file().exists());
        server.stop().await;
    }
}

#[tokio::test]
async fn teacher_is_told_plainly_what_they_may_not_do() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let ck = async |args: &[&str]| sandbox.classkeys(args).await;
        assert_eq!(
            ck(&["learners", "--class", "4B"]).await.failed(),
            "error: permission denied: class 4B is not one of your classes\n"
        );
        let denied = ck(&["class", "add", "7A"]).await;
        assert!(
            denied.failed().starts_with("error: permission denied: "),
            "{denied:#?}"
        );
        let own = ck(&["learners", "--class", "1 owls", "--json"])
            .await
            .json();
        assert!(own.as_array().is_some_and(|a| !a.is_empty()), "{own}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_session_ended_elsewhere_says_to_log_in_again() {
    let (server, sandbox) = signed_in_to_demo(Backend::Sqlite, "lead").await;
    let saved = std::fs::read(sandbox.token_file()).expect("token file");
    sandbox.classkeys(&["logout"]).await.ok();
    std::fs::write(sandbox.token_file(), saved).expect("restore the old token");
    assert_eq!(
        sandbox.classkeys(&["classes"]).await.failed(),
        "error: not signed in, or the session has expired: run classkeys login\n"
    );
    server.stop().await;
}

/// Whether a Secret Service can be started for a test (`dbus-run-session` and
/// `gnome-keyring-daemon`). `CLASSKEYS_REQUIRE_KEYRING=1` (set by the test script, which
/// installs both) turns their absence into a failure instead of a skip.
fn secret_service_available() -> bool {
    let runs = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let available =
        runs("dbus-run-session", "--version") && runs("gnome-keyring-daemon", "--version");
    if !available {
        assert_ne!(
            std::env::var("CLASSKEYS_REQUIRE_KEYRING").as_deref(),
            Ok("1"),
            "CLASSKEYS_REQUIRE_KEYRING=1 but dbus-run-session or gnome-keyring-daemon is missing"
        );
        eprintln!("skipped: no dbus-run-session or gnome-keyring-daemon on this machine");
    }
    available
}

#[tokio::test]
async fn without_a_token_file_the_token_lives_in_the_credential_store_only() {
    if !secret_service_available() {
        return;
    }
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let home = tempfile::tempdir().expect("temporary home");
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).expect("runtime dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    // One private D-Bus session with an unlocked gnome-keyring, as on a desktop after login.
    let script = r#"
        set -e
        printf unlock | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        "$CK" login --server "$URL" --username lead
        cp "$XDG_CONFIG_HOME/classkeys/session.json" "$HOME/pointer.json"
        "$CK" classes --json > "$HOME/classes.json"
        "$CK" logout
        if "$CK" classes 2> "$HOME/after-logout.txt"; then exit 3; fi
    "#;
    let out = tokio::process::Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .env("CK", env!("CARGO_BIN_EXE_classkeys"))
        .env("URL", &server.url)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("CLASSKEYS_PASSWORD", DEMO_PASSWORD)
        .env_remove("CLASSKEYS_TOKEN_FILE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("dbus-run-session runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:#?}");
    assert!(stdout.starts_with("Signed in to Demo Primary"), "{stdout}");

    let read = |name: &str| std::fs::read_to_string(home.path().join(name)).expect(name);
    let pointer: Value = serde_json::from_str(&read("pointer.json")).expect("pointer JSON");
    assert_eq!(pointer, json!({ "server": server.url, "username": "lead" }));
    let classes: Value = serde_json::from_str(&read("classes.json")).expect("classes JSON");
    assert_eq!(classes.as_array().map(Vec::len), Some(7));
    assert_eq!(
        read("after-logout.txt"),
        "error: not signed in, or the session has expired: run classkeys login\n"
    );
    assert!(
        !home.path().join(".config/classkeys/session.json").exists(),
        "logout removes the pointer"
    );
    server.stop().await;
}
