//! The server killed with SIGKILL in the middle of whole-class password resets: after every
//! restart the class has all its old passwords or all its new ones, and the database checks
//! clean.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use classkeys_client::Client;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{ClassPasswordReset, LearnerPassword, LearnerSignInRequest};
use classkeys_protocol::roster::LearnerQuery;
use rand::Rng;
use sqlx::{Connection, Row};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const STAFF_PASSWORD: &str = "crash-test-password-1234";
const CLASS: &str = "1 Owls";

/// Rounds of reset-and-kill; `CLASSKEYS_CRASH_ROUNDS` changes it.
fn rounds() -> usize {
    std::env::var("CLASSKEYS_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
}

struct Server {
    child: Child,
    url: String,
}

async fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_classkeys-server"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("CLASSKEYS_DATABASE_URL", database_url(dir))
        .env("CLASSKEYS_MASTER_KEY_FILE", dir.join("master.key"))
        .env("CLASSKEYS_DEMO_PASSWORD", STAFF_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("ClassKeys server listening on ") {
                return rest.trim().to_owned();
            }
        }
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("the server exited before listening:\n{log}");
    })
    .await
    .expect("the server starts within a minute");
    // Keep reading stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, url }
}

fn database_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("k.db").display())
}

/// The class's learners as stored: id → (password hash, credential epoch).
async fn stored(dir: &std::path::Path) -> HashMap<String, (Option<String>, i64)> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&database_url(dir))
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT l.id, l.password_hash, l.credential_epoch FROM learner l
         JOIN enrollment e ON e.learner_id = l.id JOIN class c ON c.id = e.class_id
         WHERE c.name = $1 AND l.status = 'active'",
    )
    .bind(CLASS)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, "ok", "the database is damaged");
    let broken_keys = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(broken_keys.is_empty(), "rows point at nothing");
    conn.close().await.ok();
    rows.into_iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                (r.get::<Option<String>, _>(1), r.get::<i64, _>(2)),
            )
        })
        .collect()
}

async fn sign_in(url: &str) -> Client {
    Client::new(url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: Some("demo".into()),
            username: "teacher1".into(),
            password: STAFF_PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap()
        .0
}

async fn learner_signs_in(url: &str, username: &str, password: &str) -> bool {
    Client::new(url)
        .unwrap()
        .learner_sign_in(&LearnerSignInRequest {
            school: "demo".into(),
            username: username.into(),
            password: password.into(),
            device_token: None,
        })
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_resets_are_all_or_nothing_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    crate::harness::write_private_key(&dir.path().join("master.key"));
    let mut server = start(dir.path()).await;
    let teacher = sign_in(&server.url).await;
    let class = teacher
        .classes()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == CLASS)
        .unwrap();
    let learners = teacher
        .learners(&LearnerQuery {
            class_id: Some(class.id),
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let usernames: HashMap<String, String> = learners
        .iter()
        .map(|l| (l.id.to_string(), l.username.clone()))
        .collect();
    let new_passwords = || -> Vec<LearnerPassword> {
        let mut rng = rand::rng();
        learners
            .iter()
            .map(|l| LearnerPassword {
                learner_id: l.id,
                password: generator::generate(PasswordStyle::Words, &mut rng)
                    .expose()
                    .clone(),
            })
            .collect()
    };
    let reset = |client: Client, passwords: Vec<LearnerPassword>| async move {
        client
            .class_passwords_reset(
                class.id,
                &ClassPasswordReset::Individual {
                    passwords,
                    must_change: false,
                },
            )
            .await
    };

    // One undisturbed reset: its passwords are the class's, and its length sets the range of
    // moments at which the server is killed later.
    let mut current = new_passwords();
    let started = Instant::now();
    reset(teacher, current.clone()).await.unwrap();
    let one_reset = started.elapsed();

    let (mut applied, mut untouched) = (0, 0);
    for round in 0..rounds() {
        let teacher = sign_in(&server.url).await;
        let before = stored(dir.path()).await;
        let next = new_passwords();
        let request = tokio::spawn(reset(teacher, next.clone()));
        // A random moment from just after the request leaves to well after a reset would
        // finish: before hashing, during it, inside the transaction, and after the commit.
        let moment = one_reset.mul_f64(rand::rng().random_range(0.0..1.3));
        tokio::time::sleep(moment).await;
        server.child.start_kill().unwrap();
        server.child.wait().await.unwrap();
        let _ = request.await.unwrap();

        server = start(dir.path()).await;
        let after = stored(dir.path()).await;
        assert_eq!(after.len(), learners.len(), "round {round}: learners lost");
        let changed = after
            .iter()
            .filter(|(id, (hash, _))| before[*id].0 != *hash)
            .count();
        let epochs: std::collections::HashSet<i64> = after.values().map(|(_, e)| *e).collect();
        assert!(
            changed == 0 || changed == learners.len(),
            "round {round}: {changed} of {} passwords changed",
            learners.len()
        );
        assert_eq!(
            epochs.len(),
            1,
            "round {round}: the learners' epochs differ"
        );
        if changed == 0 {
            untouched += 1;
        } else {
            applied += 1;
            current = next;
        }
        // The passwords the database says are current open an account; check one at random.
        let pick = &current[rand::rng().random_range(0..current.len())];
        let username = &usernames[&pick.learner_id.to_string()];
        assert!(
            learner_signs_in(&server.url, username, &pick.password).await,
            "round {round}: {username} cannot sign in with the current password"
        );
    }
    assert!(
        applied > 0 && untouched > 0,
        "the kills should land both before and after commits: {applied} applied, {untouched} untouched"
    );
    eprintln!(
        "{applied} resets applied, {untouched} untouched of {} kills",
        rounds()
    );
    server.child.start_kill().ok();
}
