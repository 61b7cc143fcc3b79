//! The `classkeys` binary, run as an admin runs it: a real process, a token file in a
//! temporary folder, the password in `CLASSKEYS_PASSWORD`, and the exit code, standard output
//! and standard error checked as a script would see them.
//!
//! The other side is the real school server (`classkeys_testsupport::TestServer`, usually
//! with the demo school) on SQLite, and on PostgreSQL too when `CLASSKEYS_TEST_POSTGRES_URL`
//! names one. "Server unreachable" is a loopback port where nothing listens — a real
//! condition, not a fake. The one stand-in is [`not_classkeys`], a web server that is not
//! ClassKeys at all; its comment says why nothing real can play that part.
//!
//! Every run is checked for leaked secrets: no run may print a password it was given or a
//! session token the token file has held (see [`Sandbox::run`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use classkeys_domain::identity::Role;
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Actor;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::sync::OpKind;
use classkeys_server::ops::{self, ChangeCtx};
use classkeys_server::{Backend, Settings, db, demo};
use classkeys_testsupport::{TestServer, postgres_admin_url};
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

    /// Asserts exit code 1 with nothing on standard output (a script piping the output gets
    /// nothing half-done), and returns standard error.
    #[track_caller]
    fn failed(&self) -> &str {
        assert_eq!(
            self.status.code(),
            Some(1),
            "expected exit code 1: {self:#?}"
        );
        assert_eq!(self.stdout, "", "a failed run prints nothing on stdout");
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
    /// Every password given to a run and every token the token file has held.
    secrets: Mutex<Vec<String>>,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary folder"),
            secrets: Mutex::new(Vec::new()),
        }
    }

    /// Where `CLASSKEYS_TOKEN_FILE` points.
    fn token_file(&self) -> PathBuf {
        self.dir.path().join("session").join("token.json")
    }

    /// The token in the token file, if there is one.
    fn stored_token(&self) -> Option<String> {
        let bytes = std::fs::read(self.token_file()).ok()?;
        let file: Value = serde_json::from_slice(&bytes).ok()?;
        file["token"].as_str().map(str::to_owned)
    }

    fn remember_secret(&self, secret: &str) {
        let mut secrets = self.secrets.lock().expect("lock");
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
        }
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
    ///
    /// Fails the test if the run printed, on either stream, any password this sandbox has
    /// been given or any token its token file has held (including one this run stored).
    async fn run(&self, args: &[&str], password: Option<&str>) -> Run {
        self.run_with_input(args, password, None).await
    }

    /// [`Sandbox::run`] with `input` on standard input.
    async fn run_with_input(
        &self,
        args: &[&str],
        password: Option<&str>,
        input: Option<&str>,
    ) -> Run {
        if let Some(password) = password {
            self.remember_secret(password);
        }
        let home = self.dir.path().join("home");
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_classkeys"));
        cmd.args(args)
            .env("CLASSKEYS_TOKEN_FILE", self.token_file())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env_remove("CLASSKEYS_PASSWORD")
            .stdin(if input.is_some() {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(password) = password {
            cmd.env("CLASSKEYS_PASSWORD", password);
        }
        let mut child = cmd.spawn().expect("classkeys runs");
        if let Some(input) = input {
            use tokio::io::AsyncWriteExt;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin
                .write_all(input.as_bytes())
                .await
                .expect("writing stdin");
        }
        let out = child.wait_with_output().await.expect("classkeys runs");
        let run = Run {
            status: out.status,
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        if let Some(token) = self.stored_token() {
            self.remember_secret(&token);
        }
        for secret in self.secrets.lock().expect("lock").iter() {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "classkeys {args:?} printed a password or session token: {run:#?}"
            );
        }
        run
    }

    /// Writes a session into the token file as if `login` had, for tests whose server cannot
    /// be reached anyway.
    fn signed_in(&self, server: &str, token: &str) {
        self.remember_secret(token);
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

const NOT_SIGNED_IN: &str =
    "error: not signed in, or the session has expired: run classkeys login\n";

// ---------------------------------------------------------------------------------------
// Real servers
// ---------------------------------------------------------------------------------------

use classkeys_testsupport::DEMO_PASSWORD;

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
    let server = TestServer::start_demo(backend).await;
    let sandbox = Sandbox::new();
    sandbox
        .login(&server.url, username, DEMO_PASSWORD)
        .await
        .ok();
    (server, sandbox)
}

/// Learners in the class "Hall" beyond the demo school: more than the API's 500 per page.
const CROWD: usize = 520;

/// The usernames in "Hall": `hall.000` … `hall.519`, and `hall` (Ada Zwick), whose name
/// sorts after all the others.
fn hall_usernames() -> Vec<String> {
    let mut names: Vec<String> = (0..CROWD).map(|i| format!("hall.{i:03}")).collect();
    names.push("hall".to_owned());
    names
}

/// The demo school plus a class "Hall" holding [`hall_usernames`], seeded the way the demo
/// seeder works — `ops::apply` in one change transaction — because 521 API calls would be
/// slow; and a sandbox signed in as `lead`.
async fn demo_with_a_crowded_class(backend: Backend) -> (TestServer, Sandbox) {
    let server = TestServer::start_demo(backend).await;
    let sandbox = Sandbox::new();
    let me = sandbox
        .run(
            &[
                "login",
                "--server",
                &server.url,
                "--username",
                "lead",
                "--json",
            ],
            Some(DEMO_PASSWORD),
        )
        .await
        .json();
    let id = |field: &str| me[field].as_str().expect(field);
    let lead = Actor {
        staff_id: id("id").parse().expect("staff id"),
        school_id: id("school_id").parse().expect("school id"),
        role: Role::LeadTeacher,
    };
    let (mut tx, seq) = server
        .state()
        .db
        .begin_change(&lead.school_id.to_string())
        .await
        .expect("a change transaction");
    let cx = ChangeCtx::new(lead, seq, db::now_ms());
    let hall = ClassId::generate();
    let mut changes = vec![OpKind::ClassCreate {
        class_id: hall,
        name: "Hall".into(),
        year_group: None,
    }];
    for (i, username) in hall_usernames().into_iter().enumerate() {
        let (given, family) = if username == "hall" {
            ("Ada".to_owned(), "Zwick".to_owned())
        } else {
            ("Pupil".to_owned(), format!("Hall {i:03}"))
        };
        changes.push(OpKind::LearnerCreate {
            learner_id: LearnerId::generate(),
            given_name: given,
            family_name: family,
            username: Some(username),
            email: None,
            classes: vec![hall],
        });
    }
    for change in &changes {
        ops::apply(&mut tx, &cx, change, None)
            .await
            .map_err(|e| e.into_body())
            .expect("seeding the crowded class");
    }
    tx.commit().await.expect("saving the crowded class");
    (server, sandbox)
}

/// The usernames in a `--json` learner list, and those it lists more than once.
fn usernames(learners: &Value) -> (BTreeSet<String>, Vec<String>) {
    let mut listed = BTreeSet::new();
    let mut repeated = Vec::new();
    for l in learners.as_array().expect("a JSON array") {
        let username = l["username"].as_str().expect("a username").to_owned();
        if !listed.insert(username.clone()) {
            repeated.push(username);
        }
    }
    (listed, repeated)
}

/// The `name`s in a `--json` list, in order.
fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| c["name"].as_str().expect("a name"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn commands_without_a_session_say_to_log_in() {
    let sandbox = Sandbox::new();
    for args in [
        &["classes"][..],
        &["learners"],
        &["learner", "deactivate", "zoe"],
    ] {
        assert_eq!(sandbox.classkeys(args).await.failed(), NOT_SIGNED_IN);
    }
}

#[tokio::test]
async fn login_keeps_the_session_in_a_file_only_its_owner_can_read() {
    for backend in backends() {
        let server = TestServer::start_demo(backend).await;
        let sandbox = Sandbox::new();
        // As an admin might type it: a trailing slash, a capitalised username.
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
                Some(DEMO_PASSWORD),
            )
            .await;
        assert_eq!(
            run.ok(),
            "Signed in to Demo Primary as Mrs Adebayo (lead teacher)\n",
            "{backend}"
        );
        assert_eq!(run.stderr, "");

        let stored: Value =
            serde_json::from_slice(&std::fs::read(sandbox.token_file()).expect("token file"))
                .expect("token file is JSON");
        let token = sandbox.stored_token().expect("a token in the token file");
        assert!(token.len() >= 32, "a real session token: {token:?}");
        assert_eq!(
            stored,
            json!({ "server": server.url, "username": "lead", "token": token })
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sandbox.token_file())
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{backend}");
        }

        // Later commands use the stored session, and print neither it nor the password
        // (every run is checked for both, the JSON of `login` included).
        let classes = sandbox.classkeys(&["classes", "--json"]).await.json();
        assert_eq!(classes.as_array().map(Vec::len), Some(7), "{backend}");
        let me = sandbox
            .run(
                &[
                    "login",
                    "--server",
                    &server.url,
                    "--username",
                    "lead",
                    "--json",
                ],
                Some(DEMO_PASSWORD),
            )
            .await
            .json();
        assert_eq!(me["username"], "lead");
        assert_eq!(me["role"], "lead_teacher");
        server.stop().await;
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_or_school_shows_the_servers_words_and_stores_nothing() {
    for backend in backends() {
        let server = TestServer::start_demo(backend).await;
        let sandbox = Sandbox::new();
        let wrong_password = sandbox.login(&server.url, "lead", "not-the-password").await;
        assert_eq!(
            wrong_password.failed(),
            "error: wrong username or password\n",
            "{backend}"
        );
        // An unknown school gets the same answer, so school names cannot be probed.
        let wrong_school = sandbox
            .run(
                &[
                    "login",
                    "--server",
                    &server.url,
                    "--username",
                    "lead",
                    "--school",
                    "no-such-school",
                ],
                Some(DEMO_PASSWORD),
            )
            .await;
        assert_eq!(
            wrong_school.failed(),
            "error: wrong username or password\n",
            "{backend}"
        );
        assert!(!sandbox.token_file().exists());
        assert_eq!(
            sandbox.classkeys(&["classes"]).await.failed(),
            NOT_SIGNED_IN
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn login_to_an_unreachable_server_names_its_address() {
    let sandbox = Sandbox::new();
    let url = unreachable_url();
    let run = sandbox.login(&url, "lead", DEMO_PASSWORD).await;
    assert!(
        run.failed()
            .starts_with(&format!("error: could not reach the server at {url}")),
        "{run:#?}"
    );
    assert!(!sandbox.token_file().exists());
}

#[tokio::test]
async fn plain_http_to_another_computer_is_refused_unless_allowed() {
    let sandbox = Sandbox::new();
    // `.invalid` never resolves (RFC 2606), so nothing on the network is touched either way.
    let url = "http://keys.school.invalid";
    let refused = sandbox.login(url, "lead", DEMO_PASSWORD).await;
    let said = refused.failed();
    assert!(said.contains("is not encrypted (http://)"), "{said}");
    assert!(said.contains("--allow-insecure-http"), "{said}");
    assert!(!sandbox.token_file().exists());

    // Allowed, the address is tried: what fails now is reaching it, not the check.
    let tried = sandbox
        .run(
            &[
                "login",
                "--allow-insecure-http",
                "--server",
                url,
                "--username",
                "lead",
            ],
            Some(DEMO_PASSWORD),
        )
        .await;
    assert!(
        tried
            .failed()
            .starts_with(&format!("error: could not reach the server at {url}")),
        "{tried:#?}"
    );
}

/// A web server that is not ClassKeys — say the school's website, given by mistake as the
/// server's address — answering every request with an HTML "not found" page that echoes the
/// request body back (as some error pages do) after a terminal escape sequence.
///
/// A stand-in, because no real part can play this: the ClassKeys server answers every
/// request, unknown paths and wrong methods included, with its JSON error body, so only a
/// foreign server sends anything else.
fn not_classkeys() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer_with_a_web_page(stream);
        }
    });
    url
}

fn answer_with_a_web_page(mut stream: TcpStream) {
    // Read the whole request first: closing a socket with unread data resets the connection.
    let mut reader = BufReader::new(&stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let page = format!(
        "<html><title>\u{1b}]0;pwned\u{7}Not Found</title><pre>{}</pre></html>",
        String::from_utf8_lossy(&body)
    );
    let _ = write!(
        stream,
        "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{page}",
        page.len()
    );
}

#[tokio::test]
async fn login_to_a_server_that_is_not_classkeys_says_so_without_quoting_it_and_stores_nothing() {
    let url = not_classkeys();
    let sandbox = Sandbox::new();
    let run = sandbox.login(&url, "lead", DEMO_PASSWORD).await;
    assert_eq!(
        run.failed(),
        format!(
            "error: {url} answered 404 Not Found without a ClassKeys error body: \
             is this the address of a ClassKeys server?\n"
        ),
        "the foreign page, which echoes the password, is not quoted"
    );
    assert!(!sandbox.token_file().exists());
}

#[tokio::test]
async fn an_expired_session_says_to_log_in_again() {
    for backend in backends() {
        let settings = Settings {
            session_ttl: Duration::from_millis(300),
            ..Settings::default()
        };
        let server = TestServer::start_with(backend, settings).await;
        demo::seed(
            server.state(),
            Some(Sensitive::new(DEMO_PASSWORD.to_owned())),
        )
        .await
        .expect("seeding the demo school");
        let sandbox = Sandbox::new();
        sandbox.login(&server.url, "lead", DEMO_PASSWORD).await.ok();
        // The session may still work for the first few runs; it must stop working soon after
        // its lifetime, with the message that says what to do.
        let deadline = Instant::now() + Duration::from_secs(30);
        let expired = loop {
            let run = sandbox.classkeys(&["classes"]).await;
            if !run.status.success() {
                break run;
            }
            assert!(
                Instant::now() < deadline,
                "the session never expired ({backend})"
            );
        };
        assert_eq!(expired.failed(), NOT_SIGNED_IN, "{backend}");
        server.stop().await;
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_and_removes_the_token_file() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "lead").await;
        let saved = std::fs::read(sandbox.token_file()).expect("token file");
        assert_eq!(
            sandbox.classkeys(&["logout"]).await.ok(),
            format!("Signed out of {} as lead\n", server.url),
            "{backend}"
        );
        assert!(!sandbox.token_file().exists());
        assert_eq!(
            sandbox.classkeys(&["logout"]).await.ok(),
            "Not signed in; nothing to sign out of\n"
        );
        // A copy of the token kept elsewhere is worthless now: the server ended the session.
        std::fs::write(sandbox.token_file(), saved).expect("restore the old token");
        assert_eq!(
            sandbox.classkeys(&["classes"]).await.failed(),
            NOT_SIGNED_IN,
            "{backend}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn logout_forgets_the_session_even_when_the_server_is_unreachable() {
    let sandbox = Sandbox::new();
    let url = unreachable_url();
    sandbox.signed_in(&url, "a-token-that-must-never-be-printed");
    let run = sandbox.classkeys(&["logout"]).await;
    run.ok();
    assert!(
        run.stderr.starts_with("warning: could not end the session"),
        "{run:#?}"
    );
    assert!(run.stderr.contains(&url), "{run:#?}");
    assert!(!sandbox.token_file().exists());
    let again = sandbox.classkeys(&["logout"]).await;
    assert_eq!(again.ok(), "Not signed in; nothing to sign out of\n");
}

// ---------------------------------------------------------------------------------------
// Classes and learners
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn teacher_sees_only_their_classes_and_learners_while_the_lead_sees_the_school() {
    for backend in backends() {
        let server = TestServer::start_demo(backend).await;
        let teacher = Sandbox::new();
        assert_eq!(
            teacher
                .login(&server.url, "teacher1", DEMO_PASSWORD)
                .await
                .ok(),
            "Signed in to Demo Primary as Mr Hughes (teacher)\n",
            "{backend}"
        );
        let lead = Sandbox::new();
        lead.login(&server.url, "lead", DEMO_PASSWORD).await.ok();

        assert_eq!(
            teacher.classkeys(&["classes"]).await.ok(),
            "NAME              YEAR GROUP  TEACHERS            LEARNERS  ARCHIVED\n\
             1 Owls            Year 1      teacher1                  27  no\n\
             3 Badgers         Year 3      teacher1, teacher2        27  no\n\
             Reception Robins  Reception   teacher1                  27  no\n",
            "{backend}"
        );
        let mine = teacher.classkeys(&["classes", "--json"]).await.json();
        assert_eq!(names(&mine), ["1 Owls", "3 Badgers", "Reception Robins"]);
        let all = lead.classkeys(&["classes", "--json"]).await.json();
        assert_eq!(
            names(&all),
            [
                "1 Owls",
                "2 Foxes",
                "3 Badgers",
                "4B",
                "5 Kestrels",
                "6 Herons",
                "Reception Robins"
            ],
            "{backend}"
        );

        for who in [&teacher, &lead] {
            let found = who
                .classkeys(&["learners", "--search", "lukasz", "--json"])
                .await
                .json();
            assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
            assert_eq!(found[0]["username"], "lukasz.kowalski");
            assert_eq!(found[0]["given_name"], "Łukasz");
            assert_eq!(found[0]["family_name"], "Kowalski");
            assert_eq!(found[0]["classes"], json!(["3 Badgers"]));
            assert_eq!(found[0]["active"], true);
            let table = who.classkeys(&["learners", "--search", "lukasz"]).await;
            assert_eq!(
                table.ok(),
                "USERNAME         GIVEN NAME  FAMILY NAME  EMAIL  CLASSES    ACTIVE\n\
                 lukasz.kowalski  Łukasz      Kowalski     -      3 Badgers  yes\n",
                "{backend}"
            );
        }

        let learners = teacher.classkeys(&["learners", "--json"]).await.json();
        let learners = learners.as_array().expect("a JSON array");
        assert_eq!(learners.len(), 3 * 27, "{backend}");
        for l in learners {
            assert!(
                l["id"]
                    .as_str()
                    .is_some_and(|id| id.parse::<LearnerId>().is_ok()),
                "{l}"
            );
            for field in ["username", "given_name", "family_name"] {
                assert!(l[field].as_str().is_some_and(|s| !s.is_empty()), "{l}");
            }
            assert!(l["active"].is_boolean(), "{l}");
            let classes = l["classes"].as_array().expect("classes");
            assert!(
                !classes.is_empty()
                    && classes
                        .iter()
                        .all(|c| names(&mine)
                            .contains(&c.as_str().expect("classes are listed by name"))),
                "{l}"
            );
        }
        assert_eq!(
            lead.classkeys(&["learners", "--json"])
                .await
                .json()
                .as_array()
                .map(Vec::len),
            Some(7 * 27),
            "{backend}"
        );

        // A learner who is also in someone else's class shows only the teacher's class.
        lead.classkeys(&["learner", "enrol", "lukasz.kowalski", "--class", "4B"])
            .await
            .ok();
        for (who, classes) in [
            (&lead, json!(["3 Badgers", "4B"])),
            (&teacher, json!(["3 Badgers"])),
        ] {
            let found = who
                .classkeys(&["learners", "--search", "lukasz", "--json"])
                .await
                .json();
            assert_eq!(found[0]["classes"], classes, "{backend}");
        }

        let not_mine = teacher.classkeys(&["learners", "--class", "4B"]).await;
        assert_eq!(
            not_mine.failed(),
            "error: permission denied: class 4B is not one of your classes\n",
            "{backend}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn classes_are_listed_by_name_and_can_be_named_by_id() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "lead").await;
        assert_eq!(
            sandbox.classkeys(&["classes"]).await.ok(),
            "NAME              YEAR GROUP  TEACHERS            LEARNERS  ARCHIVED\n\
             1 Owls            Year 1      teacher1                  27  no\n\
             2 Foxes           Year 2      teacher2                  27  no\n\
             3 Badgers         Year 3      teacher1, teacher2        27  no\n\
             4B                Year 4      teacher2                  27  no\n\
             5 Kestrels        Year 5      teacher3                  27  no\n\
             6 Herons          Year 6      teacher3                  27  no\n\
             Reception Robins  Reception   teacher1                  27  no\n",
            "{backend}"
        );
        let classes = sandbox.classkeys(&["classes", "--json"]).await.json();
        let four_b = classes
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == "4B"))
            .expect("4B is listed");
        assert_eq!(four_b["teachers"], json!(["teacher2"]));
        assert_eq!(four_b["year_group"], "Year 4");
        assert_eq!(four_b["learner_count"], 27);
        assert_eq!(four_b["archived"], false);

        let id = four_b["id"].as_str().expect("an id");
        let by_id = sandbox
            .classkeys(&["learners", "--class", id, "--json"])
            .await
            .json();
        let by_id = by_id.as_array().expect("a JSON array");
        assert_eq!(by_id.len(), 27, "{backend}");
        assert!(by_id.iter().all(|l| l["classes"] == json!(["4B"])));
        server.stop().await;
    }
}

#[tokio::test]
async fn learners_of_a_class_with_more_than_one_page_are_each_listed_once() {
    for backend in backends() {
        let (server, sandbox) = demo_with_a_crowded_class(backend).await;
        let expected: BTreeSet<String> = hall_usernames().into_iter().collect();

        let hall = sandbox
            .classkeys(&["learners", "--class", "Hall", "--json"])
            .await
            .json();
        let (listed, repeated) = usernames(&hall);
        assert!(
            repeated.is_empty(),
            "listed twice: {repeated:?} ({backend})"
        );
        let missing: Vec<_> = expected.difference(&listed).collect();
        let extra: Vec<_> = listed.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, not in Hall {extra:?} ({backend})"
        );
        assert!(
            hall.as_array()
                .is_some_and(|a| a.iter().all(|l| l["classes"] == json!(["Hall"]))),
            "{backend}"
        );

        let table = sandbox.classkeys(&["learners", "--class", "hall"]).await;
        let rows: Vec<&str> = table.ok().lines().skip(1).collect();
        let in_table: BTreeSet<String> = rows
            .iter()
            .filter_map(|row| row.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        assert_eq!(rows.len(), expected.len(), "{backend}");
        assert!(in_table == expected, "the table lists Hall ({backend})");

        let school = sandbox.classkeys(&["learners", "--json"]).await.json();
        let (listed, repeated) = usernames(&school);
        assert!(
            repeated.is_empty(),
            "listed twice: {repeated:?} ({backend})"
        );
        assert_eq!(listed.len(), 7 * 27 + expected.len(), "{backend}");
        assert!(listed.is_superset(&expected), "{backend}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_learner_is_found_by_exact_username_even_behind_a_page_of_partial_matches() {
    for backend in backends() {
        let (server, sandbox) = demo_with_a_crowded_class(backend).await;
        // "hal" is part of all 521 usernames in Hall but the whole of none.
        assert_eq!(
            sandbox
                .classkeys(&["learner", "deactivate", "hal"])
                .await
                .failed(),
            "error: no learner with username hal among the learners you can see\n",
            "{backend}"
        );
        // "hall" matches 521 learners by search, and Ada Zwick's sorts last: past page one.
        assert_eq!(
            sandbox
                .classkeys(&["learner", "deactivate", "hall"])
                .await
                .ok(),
            "Deactivated hall (Ada Zwick): they can no longer sign in\n",
            "{backend}"
        );
        let hall = sandbox
            .classkeys(&["learners", "--class", "Hall", "--json"])
            .await
            .json();
        let inactive: Vec<&Value> = hall
            .as_array()
            .expect("a JSON array")
            .iter()
            .filter(|l| l["active"] == false)
            .map(|l| &l["username"])
            .collect();
        assert_eq!(inactive, [&json!("hall")], "only she was deactivated");
        server.stop().await;
    }
}

#[tokio::test]
async fn deactivating_a_learner_reports_it_in_one_line_or_as_json() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "lead").await;
        assert_eq!(
            sandbox
                .classkeys(&["learner", "deactivate", "zoe.adams"])
                .await
                .ok(),
            "Deactivated zoe.adams (Zoë Adams): they can no longer sign in\n",
            "{backend}"
        );
        let listed = sandbox
            .classkeys(&["learners", "--search", "zoe adams", "--json"])
            .await
            .json();
        assert_eq!(listed[0]["active"], false, "{listed}");
        let back = sandbox
            .classkeys(&["learner", "reactivate", "zoe.adams", "--json"])
            .await
            .json();
        assert_eq!(back["username"], "zoe.adams");
        assert_eq!(back["active"], true);
        assert_eq!(back["classes"], json!(["Reception Robins"]));
        server.stop().await;
    }
}

#[tokio::test]
async fn naming_a_class_you_cannot_see_depends_on_your_role() {
    for backend in backends() {
        let server = TestServer::start_demo(backend).await;
        let teacher = Sandbox::new();
        teacher
            .login(&server.url, "teacher1", DEMO_PASSWORD)
            .await
            .ok();
        let lead = Sandbox::new();
        lead.login(&server.url, "lead", DEMO_PASSWORD).await.ok();

        // For a teacher, a class that is someone else's and one that does not exist read the
        // same: the server tells them neither, and the CLI does not guess.
        for (args, class) in [
            (&["learners", "--class", "4B"][..], "4B"),
            (&["learners", "--class", "9Z"], "9Z"),
            (&["class", "rename", "4b", "4C"], "4b"),
            (
                &[
                    "learner",
                    "add",
                    "--class",
                    "2 Foxes",
                    "--given-name",
                    "Ada",
                    "--family-name",
                    "Zwick",
                ],
                "2 Foxes",
            ),
        ] {
            assert_eq!(
                teacher.classkeys(args).await.failed(),
                format!("error: permission denied: class {class} is not one of your classes\n"),
                "teacher1 {args:?} ({backend})"
            );
        }
        // A lead teacher sees every class, so for them it is simply not there.
        for args in [
            &["learners", "--class", "9Z"][..],
            &["class", "rename", "9Z", "9Y"],
        ] {
            assert_eq!(
                lead.classkeys(args).await.failed(),
                "error: no class named 9Z\n",
                "lead {args:?} ({backend})"
            );
        }
        // Nothing was changed by the refused commands.
        let classes = lead.classkeys(&["classes", "--json"]).await.json();
        assert!(names(&classes).contains(&"4B"), "{backend}");
        let zwick = lead
            .classkeys(&["learners", "--search", "zwick", "--json"])
            .await
            .json();
        assert_eq!(zwick, json!([]), "{backend}");
        server.stop().await;
    }
}

#[tokio::test]
async fn teacher_is_told_plainly_which_lead_only_things_they_may_not_do() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        for (args, reason) in [
            (
                &["class", "add", "7A"][..],
                "only lead teachers can create classes",
            ),
            (
                &["class", "archive", "1 Owls"],
                "only lead teachers can archive or restore classes",
            ),
            (
                &["class", "delete", "3 Badgers"],
                "only lead teachers can delete classes",
            ),
            (
                &["class", "unassign", "3 badgers", "--teacher", "teacher2"],
                "only lead teachers can assign teachers to classes",
            ),
            (
                &["class", "assign", "1 Owls", "--teacher", "teacher2"],
                "only lead teachers can assign teachers to classes",
            ),
        ] {
            assert_eq!(
                sandbox.classkeys(args).await.failed(),
                format!("error: permission denied: {reason}\n"),
                "teacher1 {args:?} ({backend})"
            );
        }
        // Their own classes are untouched and still theirs.
        let classes = sandbox.classkeys(&["classes", "--json"]).await.json();
        assert_eq!(
            names(&classes),
            ["1 Owls", "3 Badgers", "Reception Robins"],
            "{backend}"
        );
        assert!(
            classes
                .as_array()
                .is_some_and(|a| a.iter().all(|c| c["archived"] == false)),
            "{classes}"
        );
        let badgers = &classes[1];
        assert_eq!(badgers["teachers"], json!(["teacher1", "teacher2"]));
        server.stop().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    // The session points at an address where nothing listens: had the CLI sent anything,
    // the error would be about reaching the server.
    let sandbox = Sandbox::new();
    sandbox.signed_in(&unreachable_url(), "a-token-that-must-never-be-printed");
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

// ---------------------------------------------------------------------------------------
// Whole sessions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lead_teacher_runs_the_demo_school_from_the_command_line() {
    for backend in backends() {
        let server = TestServer::start_demo(backend).await;
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(DEMO_PASSWORD) && !stderr.contains(DEMO_PASSWORD),
        "{out:#?}"
    );

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

// ---------------------------------------------------------------------------------------
// Passwords, access codes, exports, login cards and the audit log
// ---------------------------------------------------------------------------------------

/// The usernames of a class's active learners, as `classkeys learners --class` lists them.
async fn class_usernames(sandbox: &Sandbox, class: &str) -> Vec<String> {
    let learners = sandbox
        .classkeys(&["learners", "--class", class, "--json"])
        .await
        .json();
    learners
        .as_array()
        .expect("a list")
        .iter()
        .filter(|l| l["active"] == true)
        .map(|l| l["username"].as_str().expect("a username").to_owned())
        .collect()
}

/// Reads a CSV file as `classkeys export` wrote it: BOM, header, rows.
fn read_csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).expect("the file was written");
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a UTF-8 BOM for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn a_reset_password_is_shown_once_then_revealed_exported_and_works() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let username = class_usernames(&sandbox, "1 Owls").await.remove(0);
        let reset = sandbox
            .classkeys(&[
                "reset",
                "--learner",
                &username,
                "--generate",
                "--style",
                "words",
                "--json",
            ])
            .await
            .json();
        let password = reset["codes"][0]["password"]
            .as_str()
            .expect("the new password")
            .to_owned();
        assert_eq!(password.split('-').count(), 3, "{password}");
        assert!(server.learner_signs_in(&username, &password).await);

        let hidden = sandbox.classkeys(&["codes", "--class", "1 Owls"]).await;
        assert!(!hidden.ok().contains(&password), "hidden unless --reveal");
        assert!(hidden.ok().contains("(hidden: use --reveal)"));
        let shown = sandbox
            .classkeys(&["codes", "--class", "1 Owls", "--reveal"])
            .await;
        assert!(shown.ok().contains(&password));

        let file = sandbox.dir.path().join("owls.csv");
        let run = sandbox
            .classkeys(&[
                "export",
                "--class",
                "1 Owls",
                "--out",
                file.to_str().unwrap(),
            ])
            .await;
        assert!(
            run.ok().starts_with("Wrote the access codes of 1 Owls"),
            "{run:?}"
        );
        let table = read_csv(&file);
        assert_eq!(table[0][3], "Username");
        let row = table
            .iter()
            .find(|r| r[3] == username)
            .expect("the learner's row");
        assert_eq!(row[4], password);
        assert!(row[6].ends_with("/s/demo/sign-in"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a file of passwords is private");
        }

        let log = sandbox.classkeys(&["audit", "--json"]).await.json();
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in [
            "password_reset",
            "parent_codes_shown",
            "passwords_revealed",
            "access_codes_exported",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(
            log[0]["device"]
                .as_str()
                .unwrap()
                .starts_with("classkeys command line"),
            "{log}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_pin_is_refused_for_a_learner_whose_year_group_needs_longer_passwords() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "lead").await;
        sandbox
            .classkeys(&["class", "add", "9 Hawks", "--year-group", "Year 9"])
            .await
            .ok();
        sandbox
            .classkeys(&[
                "learner",
                "add",
                "--class",
                "9 Hawks",
                "--given-name",
                "Amira",
                "--family-name",
                "Haddad",
                "--username",
                "amira.haddad",
            ])
            .await
            .ok();
        let refused = sandbox
            .classkeys(&[
                "reset",
                "--learner",
                "amira.haddad",
                "--generate",
                "--style",
                "pin",
            ])
            .await;
        let message = refused.failed();
        assert!(
            message.contains("too weak for this learner's year group"),
            "{message}"
        );
        // Without a style, the year group's own is generated, and it works.
        let reset = sandbox
            .classkeys(&["reset", "--learner", "amira.haddad", "--generate", "--json"])
            .await
            .json();
        let password = reset["codes"][0]["password"].as_str().unwrap().to_owned();
        assert!(password.len() >= 10, "{password}");
        assert!(server.learner_signs_in("amira.haddad", &password).await);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_typed_password_comes_from_stdin_and_a_weak_one_is_refused_with_its_reason() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let username = class_usernames(&sandbox, "3 Badgers").await.remove(0);
        let weak = sandbox
            .run_with_input(
                &["reset", "--learner", &username, "--password-stdin"],
                None,
                Some("password\n"),
            )
            .await;
        assert!(weak.failed().contains("too easy to guess"), "{weak:?}");
        let strong = sandbox
            .run_with_input(
                &[
                    "reset",
                    "--learner",
                    &username,
                    "--password-stdin",
                    "--must-change",
                ],
                None,
                Some("Violet-Harbour-Kite-93\n"),
            )
            .await;
        strong.ok();
        assert!(
            server
                .learner_signs_in(&username, "Violet-Harbour-Kite-93")
                .await
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_class_reset_gives_every_learner_a_new_password_at_once() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let usernames = class_usernames(&sandbox, "1 Owls").await;
        let codes = sandbox
            .classkeys(&[
                "reset",
                "--class",
                "1 Owls",
                "--mode",
                "individual",
                "--json",
            ])
            .await
            .json();
        let codes = codes["codes"].as_array().unwrap();
        let passwords: BTreeSet<&str> = codes
            .iter()
            .filter(|c| c["active"] == true)
            .map(|c| {
                c["password"]
                    .as_str()
                    .expect("every active learner has one")
            })
            .collect();
        assert_eq!(
            passwords.len(),
            usernames.len(),
            "one different password each"
        );
        // 1 Owls is Year 1: the default style is the PIN.
        assert!(
            passwords
                .iter()
                .all(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()))
        );
        let same = sandbox
            .classkeys(&[
                "reset", "--class", "1 Owls", "--mode", "same", "--style", "words",
            ])
            .await;
        assert!(
            same.stderr
                .contains("every learner of 1 Owls gets the same password"),
            "{same:?}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn only_lead_teachers_export_the_school_and_teachers_see_only_their_classes_codes() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let file = sandbox.dir.path().join("school.csv");
        let refused = sandbox
            .run(
                &["export", "--school", "--out", file.to_str().unwrap()],
                Some(DEMO_PASSWORD),
            )
            .await;
        assert!(
            refused
                .failed()
                .contains("only lead teachers can export the whole school"),
            "{refused:?}"
        );
        assert!(!file.exists(), "nothing written");
        let hidden = sandbox.classkeys(&["codes", "--class", "5 Kestrels"]).await;
        assert!(hidden.failed().contains("5 Kestrels"), "{hidden:?}");

        let lead = Sandbox::new();
        lead.login(&server.url, "lead", DEMO_PASSWORD).await.ok();
        let wrong = lead
            .run(
                &["export", "--school", "--out", file.to_str().unwrap()],
                Some("not-my-password"),
            )
            .await;
        assert!(wrong.failed().contains("not your password"), "{wrong:?}");
        let done = lead
            .run(
                &[
                    "export",
                    "--school",
                    "--out",
                    file.to_str().unwrap(),
                    "--json",
                ],
                Some(DEMO_PASSWORD),
            )
            .await
            .json();
        let table = read_csv(&file);
        assert_eq!(done["rows"].as_u64().unwrap() as usize, table.len() - 1);
        assert!(table.len() > 150, "the whole school");
        let students = sandbox.dir.path().join("students.csv");
        lead.run(
            &[
                "export",
                "--school",
                "--students",
                "--out",
                students.to_str().unwrap(),
            ],
            Some(DEMO_PASSWORD),
        )
        .await
        .ok();
        assert_eq!(read_csv(&students)[0][4], "Email");
        server.stop().await;
    }
}

#[tokio::test]
async fn login_cards_are_a_pdf_with_every_learners_name_and_username() {
    let (server, sandbox) = signed_in_to_demo(Backend::Sqlite, "teacher1").await;
    let file = sandbox.dir.path().join("badgers.pdf");
    let run = sandbox
        .classkeys(&[
            "cards",
            "--class",
            "3 Badgers",
            "--out",
            file.to_str().unwrap(),
            "--paper",
            "letter",
        ])
        .await;
    assert!(run.ok().contains("login cards for 3 Badgers"), "{run:?}");
    assert!(
        run.ok().contains("1 of them show no password"),
        "the learner-set one: {run:?}"
    );
    let text = std::process::Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (Debian package poppler-utils)");
    let text = String::from_utf8(text.stdout).unwrap();
    let learners = sandbox
        .classkeys(&["learners", "--class", "3 Badgers", "--json"])
        .await
        .json();
    for l in learners
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["active"] == true)
    {
        for field in ["given_name", "family_name", "username"] {
            let value = l[field].as_str().unwrap();
            assert!(text.contains(value), "{value} is on the cards");
        }
    }
    let bad = sandbox
        .classkeys(&[
            "cards",
            "--class",
            "3 Badgers",
            "--out",
            file.to_str().unwrap(),
            "--paper",
            "a5",
        ])
        .await;
    assert!(bad.failed().contains("--paper"), "{bad:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_messages_a_class_and_each_learner_gets_a_sign_in_link_of_their_own() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let body = sandbox.dir.path().join("message.txt");
        std::fs::write(&body, "\u{feff}Hello! Sign in here: [loginLink]\n").expect("write");
        let body = body.to_str().expect("a UTF-8 path");
        let report = sandbox
            .classkeys(&[
                "message",
                "--class",
                "1 Owls",
                "--subject",
                "Our class page",
                "--body-file",
                body,
                "--cc-me",
                "--json",
            ])
            .await
            .json();
        let sent = report["sent"].as_array().expect("sent").len();
        let not_reached = report["not_reached"].as_array().expect("not reached").len();
        assert!(sent > 0 && not_reached > 0, "{report}");
        assert_eq!(report["copy_sent"], true);

        let mails = server.mail_in_outbox(sent + 1).await;
        assert_eq!(
            mails.len(),
            sent + 1,
            "one for each learner reached, and the copy"
        );
        let links: BTreeSet<String> = mails
            .iter()
            .flat_map(|m| m.links(&format!("{}/s/demo/link/", server.url)))
            .collect();
        assert_eq!(links.len(), sent, "one link of their own per learner");
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.body.contains("Sign in here: [loginLink]"))
                .count(),
            1,
            "the teacher's copy keeps the tag"
        );

        let text = sandbox
            .classkeys(&[
                "message",
                "--learner",
                report["sent"][0]["username"].as_str().expect("a username"),
                "--subject",
                "Hi",
                "--body-file",
                body,
            ])
            .await;
        assert_eq!(
            text.ok(),
            "Sent to 1 learner, each with their own sign-in link.\n"
        );

        // A learner of another teacher's class is not one teacher1 can name.
        let refused = sandbox
            .classkeys(&[
                "message",
                "--learner",
                "aleksandr.petrov",
                "--subject",
                "Hi",
                "--body-file",
                body,
            ])
            .await;
        assert!(
            refused
                .failed()
                .contains("no learner with username aleksandr.petrov"),
            "{refused:?}"
        );
        let missing = sandbox
            .classkeys(&["message", "--class", "1 Owls", "--subject", "Hi"])
            .await;
        assert!(missing.status.code() == Some(2), "{missing:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn why_names_what_stops_a_learner_and_the_command_that_fixes_it() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let owls = sandbox
            .classkeys(&["learners", "--class", "1 Owls", "--json"])
            .await
            .json();
        let with_email = owls
            .as_array()
            .expect("learners")
            .iter()
            .find(|l| l["email"].is_string())
            .expect("a learner with an address");
        let username = with_email["username"].as_str().expect("a username");
        sandbox
            .classkeys(&["learner", "deactivate", username])
            .await
            .ok();

        let text = sandbox.classkeys(&["why", username]).await;
        let text = text.ok();
        assert!(text.contains("2 problems found."), "{text}");
        assert!(
            text.contains(
                "PROBLEM Account\n        The account was deactivated by Mr Hughes just now"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!("fix: classkeys learner reactivate {username}")),
            "{text}"
        );
        assert!(text.contains("/s/demo/sign-in"), "{text}");

        sandbox
            .classkeys(&["learner", "reactivate", username])
            .await
            .ok();
        let json = sandbox.classkeys(&["why", username, "--json"]).await.json();
        let problems: Vec<&Value> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["severity"] == "problem")
            .collect();
        assert!(
            problems.iter().all(|f| f["check"] == "password"),
            "reactivated, only the missing password is left: {json}"
        );
        assert_eq!(json["facts"]["active"], true);

        let sent = sandbox
            .classkeys(&["learner", "reset-link", username])
            .await;
        assert!(
            sent.ok()
                .starts_with(&format!("Sent {username} a link to choose a new password")),
            "{sent:?}"
        );
        assert_eq!(server.mail_in_outbox(1).await.len(), 1);
        let unlocked = sandbox.classkeys(&["learner", "unlock", username]).await;
        assert!(unlocked.ok().contains("was not waiting"), "{unlocked:?}");

        let refused = sandbox.classkeys(&["why", "aleksandr.petrov"]).await;
        assert!(
            refused
                .failed()
                .contains("no learner with username aleksandr.petrov"),
            "{refused:?}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn duplicates_are_listed_and_email_move_puts_the_address_on_the_right_account() {
    for backend in backends() {
        let (server, sandbox) = signed_in_to_demo(backend, "teacher1").await;
        let add = |username: &'static str, email: Option<&'static str>| {
            let sandbox = &sandbox;
            async move {
                let mut args = vec![
                    "learner",
                    "add",
                    "--class",
                    "1 Owls",
                    "--given-name",
                    "Sam",
                    "--family-name",
                    "Okafor",
                    "--username",
                    username,
                ];
                if let Some(email) = email {
                    args.extend(["--email", email]);
                }
                sandbox.classkeys(&args).await.ok().to_owned()
            }
        };
        add("sam.okafor", Some("sam@home.example")).await;
        add("sam.okafor2", None).await;

        let text = sandbox.classkeys(&["duplicates"]).await;
        let text = text.ok();
        assert!(text.contains("same name, same class:"), "{text}");
        assert!(
            text.contains("classkeys email move --from sam.okafor --to sam.okafor2"),
            "{text}"
        );

        let moved = sandbox
            .classkeys(&[
                "email",
                "move",
                "--from",
                "sam.okafor",
                "--to",
                "sam.okafor2",
            ])
            .await;
        assert_eq!(
            moved.ok(),
            "Moved sam@home.example from sam.okafor to sam.okafor2. sam.okafor was the same \
             learner's other account and is now deactivated.\n"
        );
        let json = sandbox
            .classkeys(&["learners", "--search", "Okafor", "--json"])
            .await
            .json();
        let by_name: BTreeMap<&str, (&Value, &Value)> = json
            .as_array()
            .expect("learners")
            .iter()
            .map(|l| (l["username"].as_str().unwrap(), (&l["email"], &l["active"])))
            .collect();
        assert_eq!(
            by_name["sam.okafor2"],
            (&json!("sam@home.example"), &json!(true))
        );
        assert_eq!(by_name["sam.okafor"], (&Value::Null, &json!(false)));

        let again = sandbox
            .classkeys(&[
                "email",
                "move",
                "--from",
                "sam.okafor",
                "--to",
                "sam.okafor2",
            ])
            .await;
        assert!(
            again
                .failed()
                .contains("sam.okafor has no email address to move"),
            "{again:?}"
        );
        let refused = sandbox
            .classkeys(&[
                "email",
                "move",
                "--from",
                "aleksandr.petrov",
                "--to",
                "sam.okafor2",
            ])
            .await;
        assert!(
            refused
                .failed()
                .contains("no learner with username aleksandr.petrov"),
            "{refused:?}"
        );
        server.stop().await;
    }
}

// ---------------------------------------------------------------------------------------
// Roster import
// ---------------------------------------------------------------------------------------

async fn learner_count(sandbox: &Sandbox) -> usize {
    sandbox
        .classkeys(&["learners", "--json"])
        .await
        .json()
        .as_array()
        .expect("learners")
        .len()
}

#[tokio::test]
async fn a_lead_teacher_imports_a_spreadsheet_after_seeing_what_it_will_do() {
    for backend in backends() {
        let (server, lead) = signed_in_to_demo(backend, "lead").await;
        let file = lead.dir.path().join("class-list.csv");
        std::fs::write(
            &file,
            "Student ID;First name;Surname;Form;Email\r\n\
             900;Zara;Quill;1 Owls;zara@home.example\r\n\
             901;Yusuf;Reed;9 Larks;\r\n\
             902;Bad;Address;1 Owls;not-an-address\r\n",
        )
        .expect("write the file");
        let path = file.to_str().expect("a UTF-8 path");
        let before = learner_count(&lead).await;

        let dry = lead.classkeys(&["import", path, "--dry-run"]).await;
        let text = dry.ok();
        assert!(text.contains("Classes to add: 9 Larks"), "{text}");
        assert!(text.contains("zara.quill"), "{text}");
        assert!(text.contains("yusuf.reed (made)"), "{text}");
        assert!(
            text.contains(
                "class-list.csv  4     email   \"not-an-address\" is not an email address"
            ),
            "the refused row names its file, line and column: {text}"
        );
        assert!(text.contains("Nothing was changed (--dry-run)."), "{text}");
        assert_eq!(learner_count(&lead).await, before);

        // Without an answer nothing is applied; with "y" it is.
        let unanswered = lead.classkeys(&["import", path]).await;
        assert!(
            unanswered.failed().contains("nothing was changed"),
            "{unanswered:?}"
        );
        assert_eq!(learner_count(&lead).await, before);
        let applied = lead
            .run_with_input(&["import", path], None, Some("y\n"))
            .await;
        assert_eq!(
            applied.ok(),
            "Imported: 1 class added, 0 renamed; 2 learners added, 0 changed, 0 deactivated.\n"
        );
        assert!(applied.stderr.contains("Apply these changes? [y/N]"));
        assert_eq!(learner_count(&lead).await, before + 2);

        let again = lead.classkeys(&["import", path, "--yes", "--json"]).await;
        let again = again.json();
        assert_eq!(again["preview"]["unchanged"], 2);
        assert!(again["applied"].is_null(), "nothing to apply: {again}");
        let text = lead.classkeys(&["import", path, "--yes"]).await;
        assert!(
            text.ok()
                .contains("Nothing to change: the school already matches this file."),
            "{text:?}"
        );

        // The school's own roster export imports as no change at all.
        let zip = lead.dir.path().join("school-oneroster.zip");
        let zip = zip.to_str().expect("a UTF-8 path");
        let wrote = lead
            .run(
                &["export", "--roster", "--format", "oneroster", "--out", zip],
                Some(DEMO_PASSWORD),
            )
            .await;
        let wrote = wrote.ok();
        assert!(
            wrote.starts_with("Wrote the school's roster as OneRoster 1.2 (")
                && wrote.contains(&format!("{} learners, ", before + 2)),
            "{wrote}"
        );
        let again = lead.classkeys(&["import", zip, "--dry-run"]).await;
        assert!(
            again
                .ok()
                .contains("Nothing to change: the school already matches this file."),
            "{again:?}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn import_refuses_teachers_and_a_file_too_large_before_reading_it() {
    let backend = backends()[0];
    let (server, teacher) = signed_in_to_demo(backend, "teacher1").await;
    let small = teacher.dir.path().join("roster.csv");
    std::fs::write(&small, "First name,Surname,Class\nA,B,1 Owls\n").expect("write");
    let refused = teacher
        .classkeys(&["import", small.to_str().expect("path"), "--dry-run"])
        .await;
    assert!(
        refused.failed().contains("lead teacher"),
        "a teacher is told who may import: {refused:?}"
    );

    // A 2 GB file that takes no disk: refused from its size, never read or sent.
    let huge = teacher.dir.path().join("everything.zip");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(2 << 30))
        .expect("a sparse file");
    let refused = teacher
        .classkeys(&["import", huge.to_str().expect("path"), "--dry-run"])
        .await;
    assert!(
        refused
            .failed()
            .contains("everything.zip is 2.0 GB, more than the 64 MB a roster file may be"),
        "{refused:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_spreadsheets_unrecognised_columns_are_mapped_by_hand() {
    let backend = backends()[0];
    let (server, lead) = signed_in_to_demo(backend, "lead").await;
    let file = lead.dir.path().join("export.csv");
    std::fs::write(&file, "Kid,Family,Room\nAda,Lovelace,1 Owls\n").expect("write");
    let path = file.to_str().expect("a UTF-8 path");
    let asked = lead.classkeys(&["import", path, "--dry-run"]).await;
    assert!(
        asked.failed().contains(
            "which column holds the given name? None is named so; the columns are: Kid, \
             Family, Room (map it as COLUMN=given_name); say it with --map COLUMN=field, \
             once per column"
        ),
        "{asked:?}"
    );
    let mapped = lead
        .classkeys(&[
            "import",
            path,
            "--dry-run",
            "--map",
            "Kid=given_name",
            "--map",
            "Family=family_name",
            "--map",
            "Room=class",
        ])
        .await;
    assert!(mapped.ok().contains("ada.lovelace (made)"), "{mapped:?}");

    // A district's export of two schools: which one is asked for, and --org answers.
    let district = lead.dir.path().join("district.zip");
    std::fs::write(
        &district,
        include_bytes!("../../roster/tests/fixtures/sis-two-schools.zip"),
    )
    .expect("write");
    let district = district.to_str().expect("a UTF-8 path");
    let asked = lead.classkeys(&["import", district, "--dry-run"]).await;
    assert!(
        asked.failed().contains(
            "Alder School (s-a), Birch School (s-b); import one of them with --org SOURCEDID"
        ),
        "{asked:?}"
    );
    let alder = lead
        .classkeys(&["import", district, "--dry-run", "--org", "s-a"])
        .await;
    assert!(alder.ok().contains("ana.alder (made)"), "{alder:?}");
    server.stop().await;
}
