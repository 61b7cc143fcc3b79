//! The server binary: its logs never hold passwords or tokens; its IT admin commands.

use std::process::Stdio;
use std::time::Duration;

use classkeys_client::Client;
use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{ClassPasswordReset, CodesPurpose, LearnerSignInRequest};
use classkeys_protocol::roster::LearnerQuery;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use crate::harness;

const PASSWORD: &str = "log-check-password-4711";

/// `classkeys-server serve` on the SQLite file in `dir`, as chatty as logging gets.
fn server(dir: &std::path::Path) -> tokio::process::Child {
    Command::new(env!("CARGO_BIN_EXE_classkeys-server"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env(
            "CLASSKEYS_DATABASE_URL",
            format!("sqlite://{}", dir.join("k.db").display()),
        )
        .env("CLASSKEYS_MASTER_KEY_FILE", dir.join("master.key"))
        .env("CLASSKEYS_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "trace,hyper=debug,h2=debug,rustls=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The address the server says it listens on, once it does.
async fn listening_url(
    stdout: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> String {
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("ClassKeys server listening on ") {
                return rest.trim().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server starts listening within a minute")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_logs_never_contain_passwords_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    // An explicitly configured key file must exist: only the embedded default's own key
    // file is created on first start. The server refuses to start without it.
    let status = tokio::time::timeout(Duration::from_secs(30), server(dir.path()).wait())
        .await
        .expect("the server stops when its key file is missing")
        .unwrap();
    assert!(!status.success());

    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    #[cfg(unix)]
    {
        // Written with the usual umask, the key is readable by everyone: refused, saying how
        // to fix it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = tokio::time::timeout(
            Duration::from_secs(30),
            server(dir.path()).wait_with_output(),
        )
        .await
        .expect("the server stops when its key file is readable by others")
        .unwrap();
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("can be read by other users"), "{said}");
        assert!(said.contains("chmod 600"), "{said}");
    }
    harness::write_private_key(&key_file);
    let mut child = server(dir.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let stderr_task = tokio::spawn(async move {
        let mut log = String::new();
        stderr.read_to_string(&mut log).await.ok();
        log
    });
    let url = listening_url(&mut stdout).await;
    // The database it created holds hashes and sealed secrets: its owner's alone, and so
    // are SQLite's files beside it.
    #[cfg(unix)]
    for name in ["k.db", "k.db-wal", "k.db-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }

    let anon = Client::new(&url).unwrap();
    let wrong = SignInRequest {
        school: Some("demo".into()),
        username: "teacher1".into(),
        password: format!("{PASSWORD}-wrong"),
        device_token: None,
    };
    assert!(anon.sign_in(&wrong).await.is_err());
    let (teacher, session) = anon
        .sign_in(&SignInRequest {
            school: Some("demo".into()),
            username: "teacher1".into(),
            password: PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap();
    let classes = teacher.classes().await.unwrap();
    assert_eq!(classes.len(), 3);

    // Credential work at its chattiest: a class reset, a reveal, an export, learner sign-ins.
    let owls = classes.iter().find(|c| c.name == "1 Owls").unwrap();
    let learners = teacher
        .learners(&LearnerQuery {
            class_id: Some(owls.id),
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let passwords = harness::new_passwords(&learners, PasswordStyle::Words);
    let codes = teacher
        .class_passwords_reset(
            owls.id,
            &ClassPasswordReset::Individual {
                passwords: passwords.clone(),
                must_change: false,
            },
        )
        .await
        .unwrap();
    teacher
        .class_access_codes(owls.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    teacher.class_access_codes_export(owls.id).await.unwrap();
    let learner_session = anon
        .learner_sign_in(&LearnerSignInRequest {
            school: "demo".into(),
            username: learners[0].username.clone(),
            password: passwords[0].password.clone(),
            device_token: None,
        })
        .await
        .unwrap();
    teacher.sign_out().await.unwrap();

    // SIGTERM: the server shuts down gracefully and flushes its log.
    let pid = child.id().unwrap();
    Command::new("kill")
        .arg(pid.to_string())
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the server stops on SIGTERM")
        .unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits cleanly: {status}"
    );
    let log = stderr_task.await.unwrap();
    assert!(log.contains("staff signed in"), "logging was on:\n{log}");
    assert!(log.contains("/api/v1/auth/sign-in"), "requests were logged");
    assert!(!log.contains(PASSWORD), "the log contains a password");
    assert!(
        !log.contains(&session.token),
        "the log contains a session token"
    );
    assert!(
        log.contains("class passwords reset"),
        "credential work was logged"
    );
    assert!(log.contains("learner signed in"));
    for p in &passwords {
        assert!(
            !log.contains(&p.password),
            "the log contains a learner's password"
        );
    }
    for c in &codes.codes {
        assert!(
            !log.contains(&c.parent_code),
            "the log contains a parent access code"
        );
    }
    assert!(
        !log.contains(&learner_session.token),
        "the log contains a learner's session token"
    );
}

/// Runs the server binary with a database in `dir` and returns its output.
async fn admin(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_classkeys-server"))
        .args(args)
        .env(
            "CLASSKEYS_DATABASE_URL",
            format!("sqlite://{}", dir.join("k.db").display()),
        )
        .env("CLASSKEYS_MASTER_KEY_FILE", dir.join("master.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_admin_creates_a_school_and_staff_accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    harness::write_private_key(&dir.path().join("master.key"));
    let text = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let out = admin(
        dir.path(),
        &[
            "school",
            "create",
            "--name",
            "St Mary's Primary",
            "--slug",
            "st-marys",
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Created school St Mary's Primary"));

    let set = |extra: &'static [&'static str]| {
        let mut args = vec!["school", "set", "--slug", "st-marys"];
        args.extend_from_slice(extra);
        args
    };
    let out = admin(dir.path(), &set(&["--crest-colour", "red"]), "").await;
    assert!(!out.status.success());
    assert!(text(&out).contains("six hex digits"), "{}", text(&out));
    let out = admin(dir.path(), &set(&["--sign-in-link-hours", "100"]), "").await;
    assert!(!out.status.success());
    assert!(text(&out).contains("1 to 72 hours"), "{}", text(&out));
    let look = set(&["--crest-colour", "#7A1F2B", "--sign-in-link-hours", "48"]);
    let out = admin(dir.path(), &look, "").await;
    assert!(out.status.success(), "{}", text(&out));

    let create = [
        "staff",
        "create",
        "--school",
        "st-marys",
        "--username",
        "ahmed",
        "--role",
        "lead_teacher",
    ];
    let out = admin(dir.path(), &create, "short\n").await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 10 characters"),
        "{}",
        text(&out)
    );
    let out = admin(dir.path(), &create, "a-long-password\n").await;
    assert!(out.status.success(), "{}", text(&out));
    let out = admin(dir.path(), &create, "a-long-password\n").await;
    assert!(!out.status.success(), "the same username twice is refused");
    assert!(text(&out).contains("already taken"), "{}", text(&out));
    let mut wrong_role = create;
    wrong_role[7] = "headmaster";
    let out = admin(dir.path(), &wrong_role, "a-long-password\n").await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("teacher or lead_teacher"),
        "{}",
        text(&out)
    );

    // The account signs in through a running server; deactivating it ends the session.
    let mut child = Command::new(env!("CARGO_BIN_EXE_classkeys-server"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "CLASSKEYS_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("k.db").display()),
        )
        .env("CLASSKEYS_MASTER_KEY_FILE", dir.path().join("master.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = listening_url(&mut stdout).await;
    let (lead, session) = Client::new(&url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: None,
            username: "ahmed".into(),
            password: "a-long-password".into(),
            device_token: None,
        })
        .await
        .unwrap();
    assert_eq!(session.staff.school_name, "St Mary's Primary");
    let crest = reqwest::get(format!("{url}/s/st-marys/crest.css"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(crest.contains("--crest: #7a1f2b"), "{crest}");
    assert!(lead.classes().await.unwrap().is_empty());
    let out = admin(
        dir.path(),
        &[
            "staff",
            "deactivate",
            "--school",
            "st-marys",
            "--username",
            "ahmed",
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let err = lead.classes().await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(classkeys_protocol::ErrorCode::Unauthenticated)
    );
}
