//! The app's use cases against a real server (the demo school on SQLite, on loopback) and
//! the real credential store (Secret Service from gnome-keyring; `./scripts/test` runs
//! these tests inside a private D-Bus session with an unlocked keyring and sets
//! `CLASSKEYS_REQUIRE_KEYRING=1`, so there they fail rather than skip).
//!
//! "The network is down" is real too: the app talks to the server through [`Link`], a
//! loopback TCP relay the test can cut (its port then refuses connections and open
//! connections die) and restore on the same port. Nothing in the app knows about it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use classkeys_app::{
    App, AppErrorCode, ClassEdit, ConflictChoice, Connection, KeyringSecrets, LearnerEdit,
    SecretName, SecretStore,
};
use classkeys_client::Client;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::roster::{LearnerPatch, LearnerRecord};
use classkeys_protocol::sync::Record;
use classkeys_server::Backend;
use classkeys_server::testing::TestServer;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

const DEMO_PASSWORD: &str = "correct-horse-battery-42";

/// The real credential store, or `None` (with a note) when this machine has none and the
/// test script did not require one.
fn credential_store() -> Option<Arc<KeyringSecrets>> {
    match KeyringSecrets::probe() {
        Ok(store) => Some(Arc::new(store)),
        Err(e) => {
            assert_ne!(
                std::env::var("CLASSKEYS_REQUIRE_KEYRING").as_deref(),
                Ok("1"),
                "CLASSKEYS_REQUIRE_KEYRING=1 but the credential store does not work: {e}"
            );
            eprintln!("skipped: no working Secret Service here ({e})");
            None
        }
    }
}

fn password() -> Sensitive<String> {
    Sensitive::new(DEMO_PASSWORD.to_owned())
}

fn secret(server: &str, username: &str, name: &'static str) -> SecretName {
    SecretName {
        server: server.to_owned(),
        username: username.to_owned(),
        name,
    }
}

/// The lead teacher, working straight against the server with the API client.
async fn lead(server: &TestServer) -> Client {
    let (client, _) = Client::new(&server.url)
        .expect("server address")
        .sign_in(&SignInRequest {
            school: None,
            username: "lead".into(),
            password: DEMO_PASSWORD.into(),
        })
        .await
        .expect("the lead teacher signs in");
    client
}

/// Calls `check` until it says yes, failing after a generous deadline. The interval only
/// spaces the attempts; correctness never depends on it.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A loopback TCP relay to the server that the test can cut and restore.
struct Link {
    addr: SocketAddr,
    target: SocketAddr,
    relay: Option<JoinHandle<()>>,
}

impl Link {
    async fn to(server: &TestServer) -> Link {
        let target: SocketAddr = server
            .url
            .trim_start_matches("http://")
            .parse()
            .expect("the test server listens on an IP address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        Link {
            addr,
            target,
            relay: Some(tokio::spawn(relay(listener, target))),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening and drops every open connection.
    async fn cut(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.abort();
            let _ = relay.await;
        }
    }

    /// Listens again on the same port.
    async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind relay");
        self.relay = Some(tokio::spawn(relay(listener, self.target)));
    }
}

async fn relay(listener: TcpListener, target: SocketAddr) {
    // Dropping the set (when this task is aborted) aborts every connection with it.
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

/// A fresh app in its own data folder, signed in as `username` through `server_url`.
async fn signed_in(
    secrets: &Arc<KeyringSecrets>,
    server_url: &str,
    username: &str,
) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("data folder");
    let app = App::open(dir.path(), secrets.clone())
        .await
        .expect("app opens");
    let me = app
        .sign_in(server_url, None, username, &password())
        .await
        .expect("signs in");
    assert_eq!(me.username, username);
    (app, dir)
}

async fn learner_named(app: &App, query: &str) -> LearnerRecord {
    let found = app.search(query, 10).await.expect("search");
    assert_eq!(found.len(), 1, "one learner matches {query:?}: {found:?}");
    found.into_iter().next().expect("one learner")
}

fn rename(family_name: &str) -> LearnerEdit {
    LearnerEdit {
        family_name: Some(family_name.into()),
        ..LearnerEdit::default()
    }
}

#[tokio::test]
async fn a_teacher_sees_only_their_three_classes_and_finds_lukasz_typed_without_accents() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let (app, _dir) = signed_in(&secrets, &server.url, "teacher1").await;

    let mut names: Vec<String> = app
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, ["1 Owls", "3 Badgers", "Reception Robins"]);

    let lukasz = learner_named(&app, "lukasz").await;
    assert_eq!(
        (lukasz.given_name.as_str(), lukasz.family_name.as_str()),
        ("Łukasz", "Kowalski")
    );

    let status = app.status().await.expect("status");
    assert_eq!(status.connection, Connection::Online);
    assert_eq!((status.waiting, status.conflicts), (0, 0));

    // The session lives in the credential store, under this server and username.
    for name in ["session-token", "device-key"] {
        assert!(
            secrets
                .get(&secret(&server.url, "teacher1", name))
                .expect("credential store answers")
                .is_some(),
            "{name} is kept"
        );
    }
    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn an_edit_reaches_the_server_but_a_teacher_cannot_archive_their_class() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let (app, _dir) = signed_in(&secrets, &server.url, "teacher1").await;
    let lukasz = learner_named(&app, "lukasz").await;

    let shown = app
        .learner_update(lukasz.id, rename("Kowalski-Nowak"))
        .await
        .expect("edit");
    assert_eq!(shown.family_name, "Kowalski-Nowak");
    let on_server = lead(&server)
        .await
        .learner(lukasz.id)
        .await
        .expect("read back");
    assert_eq!(on_server.family_name, "Kowalski-Nowak");
    assert_eq!(on_server.version, lukasz.version + 1);
    assert_eq!(app.status().await.expect("status").waiting, 0);

    let class = app.classes().await.expect("classes")[0].clone();
    let refused = app
        .class_update(
            class.id,
            ClassEdit {
                archived: Some(true),
                ..ClassEdit::default()
            },
        )
        .await
        .expect_err("teachers may not archive");
    assert_eq!(refused.code, AppErrorCode::Forbidden, "{refused}");
    assert!(refused.message.contains("lead teacher"), "{refused}");
    assert_eq!(
        app.status().await.expect("status").waiting,
        0,
        "nothing queued"
    );

    let invalid = app
        .learner_update(lukasz.id, rename("   "))
        .await
        .expect_err("an empty name is refused before queuing");
    assert_eq!(invalid.code, AppErrorCode::InvalidInput, "{invalid}");

    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn an_edit_made_offline_waits_and_then_reaches_the_server_exactly_once() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let mut link = Link::to(&server).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let lukasz = learner_named(&app, "lukasz").await;

    link.cut().await;
    let shown = app
        .learner_update(lukasz.id, rename("Offline"))
        .await
        .expect("an edit offline succeeds locally");
    assert_eq!(shown.family_name, "Offline");
    let status = app.status().await.expect("status");
    assert_eq!(status.connection, Connection::Offline);
    assert_eq!(status.waiting, 1);
    assert_eq!(status.problem.map(|p| p.code), Some(AppErrorCode::Offline));
    assert_eq!(
        app.learner(lukasz.id).await.expect("shown").family_name,
        "Offline"
    );

    link.restore().await;
    // At once: "Sync now" does not wait for the retry time the failed send left.
    let status = app.sync_now().await.expect("sync");
    assert_eq!(status.waiting, 0);
    assert_eq!(status.connection, Connection::Online);
    let on_server = lead(&server)
        .await
        .learner(lukasz.id)
        .await
        .expect("read back");
    assert_eq!(on_server.family_name, "Offline");
    assert_eq!(
        on_server.version,
        lukasz.version + 1,
        "applied exactly once"
    );
    app.sync_now().await.expect("sync again");
    let again = lead(&server)
        .await
        .learner(lukasz.id)
        .await
        .expect("read back");
    assert_eq!(again.version, on_server.version, "nothing is sent twice");

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

#[tokio::test]
async fn conflicting_edits_by_the_lead_are_shown_and_each_resolution_does_what_it_says() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let mut link = Link::to(&server).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let lead = lead(&server).await;
    let reception = app
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .find(|c| c.name == "Reception Robins")
        .expect("teacher1 teaches Reception Robins");
    let page = app
        .class_learners(reception.id, 0, 2)
        .await
        .expect("learners");
    let [theirs_wins, mine_wins] = [page.learners[0].clone(), page.learners[1].clone()];

    link.cut().await;
    for learner in [&theirs_wins, &mine_wins] {
        app.learner_update(learner.id, rename("Mine"))
            .await
            .expect("offline edit");
        lead.learner_update(
            learner.id,
            &LearnerPatch {
                family_name: Some("Theirs".into()),
                base_version: Some(learner.version),
                ..LearnerPatch::default()
            },
        )
        .await
        .expect("the lead edits the same learner");
    }
    link.restore().await;
    assert_eq!(app.sync_now().await.expect("sync").conflicts, 2);

    let conflicts = app.conflicts().await.expect("conflicts");
    assert_eq!(conflicts.len(), 2);
    for c in &conflicts {
        let Record::Learner(theirs) = &c.theirs else {
            panic!("a learner conflict: {c:?}");
        };
        assert_eq!(theirs.family_name, "Theirs");
    }
    let conflict_of = |id| {
        conflicts
            .iter()
            .find(|c| matches!(&c.theirs, Record::Learner(l) if l.id == id))
            .expect("a conflict for this learner")
            .mine
            .id
    };

    let status = app
        .resolve_conflict(conflict_of(theirs_wins.id), ConflictChoice::TakeTheirs)
        .await
        .expect("take theirs");
    assert_eq!(status.conflicts, 1);
    assert_eq!(
        app.learner(theirs_wins.id)
            .await
            .expect("shown")
            .family_name,
        "Theirs"
    );
    let server_side = lead.learner(theirs_wins.id).await.expect("read back");
    assert_eq!(server_side.family_name, "Theirs");
    assert_eq!(server_side.version, theirs_wins.version + 1, "nothing sent");

    app.resolve_conflict(conflict_of(mine_wins.id), ConflictChoice::KeepMine)
        .await
        .expect("keep mine");
    eventually("my change is delivered over theirs", || async {
        let status = app.sync_now().await.expect("sync");
        status.waiting == 0 && status.conflicts == 0
    })
    .await;
    let server_side = lead.learner(mine_wins.id).await.expect("read back");
    assert_eq!(server_side.family_name, "Mine");
    assert_eq!(
        server_side.version,
        mine_wins.version + 2,
        "theirs, then mine"
    );
    assert_eq!(app.learner(mine_wins.id).await.expect("shown"), server_side);

    let resolved_again = app
        .resolve_conflict(conflict_of(mine_wins.id), ConflictChoice::TakeTheirs)
        .await
        .expect_err("already resolved");
    assert_eq!(resolved_again.code, AppErrorCode::NotFound);

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

#[tokio::test]
async fn an_edit_made_after_keeping_mine_but_before_it_is_confirmed_follows_it_without_a_conflict()
{
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let mut link = Link::to(&server).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let lead = lead(&server).await;
    let lukasz = learner_named(&app, "lukasz").await;

    link.cut().await;
    app.learner_update(lukasz.id, rename("Mine"))
        .await
        .expect("offline edit");
    lead.learner_update(
        lukasz.id,
        &LearnerPatch {
            family_name: Some("Theirs".into()),
            base_version: Some(lukasz.version),
            ..LearnerPatch::default()
        },
    )
    .await
    .expect("the lead edits the same learner");
    link.restore().await;
    assert_eq!(app.sync_now().await.expect("sync").conflicts, 1);
    let conflict = app.conflicts().await.expect("conflicts")[0].mine.id;

    // Offline again, so my kept change is still unconfirmed when I edit the learner again.
    link.cut().await;
    let status = app
        .resolve_conflict(conflict, ConflictChoice::KeepMine)
        .await
        .expect("keep mine");
    assert_eq!((status.waiting, status.conflicts), (1, 0));
    let shown = app
        .learner_update(
            lukasz.id,
            LearnerEdit {
                given_name: Some("Luke".into()),
                ..LearnerEdit::default()
            },
        )
        .await
        .expect("a second edit, offline");
    assert_eq!(shown.given_name, "Luke");
    // Based on my kept change as the server will number it (theirs, then mine), and shown
    // with the version it will have after that.
    assert_eq!(shown.version, lukasz.version + 3);

    link.restore().await;
    let status = app.sync_now().await.expect("sync");
    assert_eq!(
        (status.waiting, status.conflicts, status.rejected),
        (0, 0, 0)
    );
    let on_server = lead.learner(lukasz.id).await.expect("read back");
    assert_eq!(
        (
            on_server.given_name.as_str(),
            on_server.family_name.as_str()
        ),
        ("Luke", "Mine")
    );
    assert_eq!(
        on_server.version,
        lukasz.version + 3,
        "theirs, then mine, then my second edit"
    );
    assert_eq!(app.learner(lukasz.id).await.expect("shown"), on_server);

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

#[tokio::test]
async fn the_session_resumes_after_a_restart_and_sign_out_leaves_nothing_behind() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite, DEMO_PASSWORD).await;
    let (app, dir) = signed_in(&secrets, &server.url, "teacher1").await;
    app.close().await;
    drop(app);

    let app = App::open(dir.path(), secrets.clone())
        .await
        .expect("app reopens");
    let classes = app.classes().await.expect_err("no session before resuming");
    assert_eq!(classes.code, AppErrorCode::Unauthenticated);
    let me = app.resume().await.expect("resume").expect("a kept session");
    assert_eq!(me.username, "teacher1");
    assert_eq!(app.classes().await.expect("classes").len(), 3);
    assert_eq!(
        app.sync_now()
            .await
            .expect("the kept token works")
            .connection,
        Connection::Online
    );

    let token = secrets
        .get(&secret(&server.url, "teacher1", "session-token"))
        .expect("credential store answers")
        .expect("token kept");
    app.sign_out().await.expect("sign out");

    for name in ["session-token", "device-key"] {
        assert!(
            secrets
                .get(&secret(&server.url, "teacher1", name))
                .expect("credential store answers")
                .is_none(),
            "{name} is gone"
        );
    }
    let ended = Client::new(&server.url)
        .expect("server address")
        .with_token(token.expose().clone())
        .me()
        .await
        .expect_err("the server session ended too");
    assert_eq!(
        ended.code(),
        Some(classkeys_protocol::ErrorCode::Unauthenticated)
    );
    app.close().await;
    drop(app);

    let replica = classkeys_store::Store::open(dir.path().join("replica.db"))
        .await
        .expect("replica opens");
    assert_eq!(replica.account().await.expect("account"), None);
    assert!(replica.classes().await.expect("classes").is_empty());
    assert_eq!(replica.learners(None, 0, 10).await.expect("learners").1, 0);
    assert_eq!(replica.status().await.expect("status"), Default::default());

    let app = App::open(dir.path(), secrets.clone())
        .await
        .expect("app reopens");
    assert_eq!(app.resume().await.expect("resume"), None);
    server.stop().await;
}
