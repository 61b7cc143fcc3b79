//! The app's use cases against a real server (the demo school on SQLite, on loopback) and
//! the real credential store (Secret Service from gnome-keyring; `./scripts/test` runs
//! these tests inside a private D-Bus session with an unlocked keyring and sets
//! `CLASSKEYS_REQUIRE_KEYRING=1`, so there they fail rather than skip).
//!
//! "The network is down" is real too: the app talks to the server through [`Link`], a
//! loopback TCP relay the test can cut (its port then refuses connections and open
//! connections die) and restore on the same port. Nothing in the app knows about it.

use std::sync::Arc;

use classkeys_app::{
    App, AppErrorCode, ClassEdit, ConflictChoice, Connection, KeyringSecrets, LearnerEdit,
    NewLearnerInput, SecretName, SecretStore,
};
use classkeys_client::Client;
use classkeys_domain::ids::ClassId;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::diagnosis::{Check, Fix, MailState};
use classkeys_protocol::messages::NewMessage;
use classkeys_protocol::roster::{ClassRecord, LearnerPatch, LearnerRecord, NewLearner};
use classkeys_protocol::sync::Record;
use classkeys_server::Backend;
use classkeys_testsupport::{DEMO_PASSWORD, Link, TestServer, eventually};

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
            device_token: None,
        })
        .await
        .expect("the lead teacher signs in");
    client
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

async fn class_named(app: &App, name: &str) -> ClassRecord {
    app.classes()
        .await
        .expect("classes")
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("the class {name} is on this computer"))
}

fn new_learner(given: &str, family: &str, classes: Vec<ClassId>) -> NewLearnerInput {
    NewLearnerInput {
        given_name: given.into(),
        family_name: family.into(),
        classes,
        ..NewLearnerInput::default()
    }
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
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
        .class_learners(Some(reception.id), 0, 2)
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
        // The change in words, as the teacher made it: only the family name.
        assert!(
            c.description.starts_with("Change ")
                && c.description.ends_with("'s family name to Mine"),
            "{}",
            c.description
        );
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
    eventually("my change is delivered over theirs", async || {
        let status = app.sync_now().await.expect("sync");
        if status.waiting == 0 && status.conflicts == 0 {
            Ok(())
        } else {
            Err(status)
        }
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
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
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
async fn the_app_opens_on_its_own_copy_when_the_server_is_down() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let before = app.classes().await.expect("classes");
    app.close().await;
    drop(app);

    link.cut().await;
    let app = App::open(dir.path(), secrets.clone())
        .await
        .expect("app reopens");
    let me = app
        .resume()
        .await
        .expect("resuming needs no network")
        .expect("a kept session");
    assert_eq!(me.username, "teacher1");
    assert_eq!(app.classes().await.expect("classes offline"), before);
    let page = app
        .class_learners(Some(before[0].id), 0, 100)
        .await
        .expect("learners offline");
    assert_eq!(page.total, before[0].learner_count);
    let status = app.sync_now().await.expect("offline is not an error");
    assert_eq!(status.connection, Connection::Offline);

    link.restore().await;
    let status = app.sync_now().await.expect("back online");
    assert_eq!(status.connection, Connection::Online);
    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn the_session_resumes_after_a_restart_and_sign_out_leaves_nothing_behind() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
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

#[tokio::test]
async fn a_lead_creates_a_class_and_learners_in_it_and_all_reach_the_server() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (app, _dir) = signed_in(&secrets, &server.url, "lead").await;
    let lead = lead(&server).await;

    let swifts = app
        .class_create("5 Swifts", Some("Year 5"))
        .await
        .expect("create a class");
    assert_eq!(
        (swifts.name.as_str(), swifts.year_group.as_deref()),
        ("5 Swifts", Some("Year 5"))
    );
    let amara = app
        .learner_create(new_learner("Amara", "Okafor", vec![swifts.id]))
        .await
        .expect("create a learner");
    assert_eq!(amara.username, "amara.okafor", "suggested from the names");
    assert_eq!(amara.classes, [swifts.id]);
    // The demo school has a Zoë Adams already: the suggestion shown is the server's.
    let zoe = app
        .learner_create(NewLearnerInput {
            email: Some("  ".into()),
            ..new_learner("Zoë", "Adams", vec![swifts.id])
        })
        .await
        .expect("create a second Zoë Adams");
    assert_eq!(zoe.username, "zoe.adams2");
    assert_eq!(zoe.email, None, "a blank email is no email");
    assert_eq!(app.status().await.expect("status").waiting, 0);

    let on_server = lead
        .class(swifts.id)
        .await
        .expect("the class is on the server");
    assert_eq!(on_server.name, "5 Swifts");
    assert_eq!(on_server.learner_count, 2);
    for shown in [&amara, &zoe] {
        let learner = lead.learner(shown.id).await.expect("on the server");
        assert_eq!(&learner, shown, "shown exactly as the server has it");
    }
    assert_eq!(class_named(&app, "5 Swifts").await.learner_count, 2);

    let taken = app
        .class_create("5 SWIFTS", None)
        .await
        .expect_err("class names are unique ignoring case");
    assert_eq!(taken.code, AppErrorCode::InvalidInput, "{taken}");
    let typed = app
        .learner_create(NewLearnerInput {
            username: Some("Amara.Okafor".into()),
            ..new_learner("Amara", "Okafor", vec![swifts.id])
        })
        .await
        .expect_err("a username on this computer is refused before queuing");
    assert_eq!(typed.code, AppErrorCode::InvalidInput, "{typed}");
    assert!(
        typed.message.contains("Amara Okafor (amara.okafor)"),
        "{typed}"
    );
    assert_eq!(app.status().await.expect("status").waiting, 0);

    // A second class for Amara, then out of the first: both counts follow.
    let owls = class_named(&app, "1 Owls").await;
    let shown = app.learner_enrol(amara.id, owls.id).await.expect("enrol");
    assert_eq!(shown.classes.len(), 2);
    let shown = app
        .learner_unenrol(amara.id, swifts.id)
        .await
        .expect("unenrol");
    assert_eq!(shown.classes, [owls.id]);
    assert_eq!(
        lead.learner(amara.id).await.expect("read back").classes,
        [owls.id]
    );
    assert_eq!(class_named(&app, "5 Swifts").await.learner_count, 1);
    assert_eq!(
        class_named(&app, "1 Owls").await.learner_count,
        owls.learner_count + 1
    );
    assert_eq!(
        lead.class(owls.id).await.expect("read back").learner_count,
        28
    );

    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_cannot_create_a_class_assign_teachers_or_see_the_staff_list() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (app, _dir) = signed_in(&secrets, &server.url, "teacher1").await;
    let owls = class_named(&app, "1 Owls").await;
    let me = app.me().expect("signed in");

    let refused = app
        .class_create("Secret Club", None)
        .await
        .expect_err("teachers may not create classes");
    assert_eq!(refused.code, AppErrorCode::Forbidden, "{refused}");
    assert!(refused.message.contains("lead teacher"), "{refused}");
    let refused = app
        .class_unassign_teacher(owls.id, me.id)
        .await
        .expect_err("teachers may not change who teaches a class");
    assert_eq!(refused.code, AppErrorCode::Forbidden, "{refused}");
    let refused = app.staff().await.expect_err("no staff list for teachers");
    assert_eq!(refused.code, AppErrorCode::Forbidden, "{refused}");

    let status = app.status().await.expect("status");
    assert_eq!((status.waiting, status.rejected), (0, 0), "nothing queued");
    assert_eq!(app.classes().await.expect("classes").len(), 3);
    let on_server = lead(&server).await.classes().await.expect("classes");
    assert!(on_server.iter().all(|c| c.name != "Secret Club"));
    assert_eq!(
        lead(&server)
            .await
            .class(owls.id)
            .await
            .expect("class")
            .teachers,
        owls.teachers
    );

    let homeless = app
        .learner_create(new_learner("Sam", "Lee", Vec::new()))
        .await
        .expect_err("a teacher's new learner needs one of their classes");
    assert_eq!(homeless.code, AppErrorCode::InvalidInput, "{homeless}");

    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn a_move_made_offline_waits_and_then_reaches_the_server_exactly_once() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let lukasz = learner_named(&app, "lukasz").await;
    let badgers = class_named(&app, "3 Badgers").await;
    let owls = class_named(&app, "1 Owls").await;
    assert_eq!(lukasz.classes, [badgers.id]);

    link.cut().await;
    let shown = app
        .learner_move(lukasz.id, badgers.id, owls.id)
        .await
        .expect("a move offline succeeds locally");
    assert_eq!(shown.classes, [owls.id]);
    let status = app.status().await.expect("status");
    assert_eq!(
        (status.connection, status.waiting),
        (Connection::Offline, 1)
    );
    // The class pages and counts show the move at once.
    let owls_page = app
        .class_learners(Some(owls.id), 0, 100)
        .await
        .expect("owls");
    assert!(owls_page.learners.iter().any(|l| l.id == lukasz.id));
    assert_eq!(owls_page.total, owls.learner_count + 1);
    assert_eq!(
        class_named(&app, "3 Badgers").await.learner_count,
        badgers.learner_count - 1
    );

    link.restore().await;
    let status = app.sync_now().await.expect("sync");
    assert_eq!(
        (status.waiting, status.conflicts, status.rejected),
        (0, 0, 0)
    );
    let lead = lead(&server).await;
    let on_server = lead.learner(lukasz.id).await.expect("read back");
    assert_eq!(on_server.classes, [owls.id]);
    assert_eq!(
        on_server.version,
        lukasz.version + 1,
        "applied exactly once"
    );
    assert_eq!(app.learner(lukasz.id).await.expect("shown"), on_server);
    assert_eq!(lead.class(owls.id).await.expect("owls").learner_count, 28);
    assert_eq!(
        lead.class(badgers.id).await.expect("badgers").learner_count,
        26
    );
    assert_eq!(class_named(&app, "1 Owls").await.learner_count, 28);

    app.sync_now().await.expect("sync again");
    assert_eq!(
        lead.learner(lukasz.id).await.expect("read back").version,
        on_server.version,
        "nothing is sent twice"
    );
    let not_there = app
        .learner_move(lukasz.id, badgers.id, owls.id)
        .await
        .expect_err("he has left 3 Badgers");
    assert_eq!(not_there.code, AppErrorCode::InvalidInput, "{not_there}");
    assert!(not_there.message.contains("3 Badgers"), "{not_there}");

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

#[tokio::test]
async fn a_lead_assigns_teacher2_to_a_class_and_teacher2_sees_it_after_syncing() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (lead_app, _lead_dir) = signed_in(&secrets, &server.url, "lead").await;
    let (teacher2, _teacher2_dir) = signed_in(&secrets, &server.url, "teacher2").await;
    assert_eq!(teacher2.classes().await.expect("classes").len(), 3);
    assert!(teacher2.search("lukasz", 10).await.expect("search").len() == 1);
    assert!(
        teacher2
            .search("zoe adams", 10)
            .await
            .expect("search")
            .is_empty()
    );

    let staff = lead_app
        .staff()
        .await
        .expect("the lead sees the staff list");
    let usernames: Vec<&str> = staff.iter().map(|s| s.username.as_str()).collect();
    assert_eq!(usernames, ["lead", "teacher1", "teacher2", "teacher3"]);
    let ms_kowalczyk = staff
        .iter()
        .find(|s| s.username == "teacher2")
        .expect("teacher2");
    let robins = class_named(&lead_app, "Reception Robins").await;
    let shown = lead_app
        .class_assign_teacher(robins.id, ms_kowalczyk.id)
        .await
        .expect("assign");
    let teachers: Vec<&str> = shown.teachers.iter().map(|t| t.username.as_str()).collect();
    assert_eq!(teachers, ["teacher1", "teacher2"]);

    teacher2.sync_now().await.expect("teacher2 syncs");
    let theirs = class_named(&teacher2, "Reception Robins").await;
    assert_eq!(theirs.learner_count, 27);
    assert_eq!(
        teacher2
            .class_learners(Some(robins.id), 0, 100)
            .await
            .expect("learners")
            .total,
        27
    );
    let zoe = learner_named(&teacher2, "zoe adams").await;
    assert_eq!(zoe.classes, [robins.id]);

    lead_app
        .class_unassign_teacher(robins.id, ms_kowalczyk.id)
        .await
        .expect("unassign");
    teacher2.sync_now().await.expect("teacher2 syncs again");
    let names: Vec<String> = teacher2
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(!names.contains(&"Reception Robins".to_owned()), "{names:?}");
    assert!(
        teacher2
            .search("zoe adams", 10)
            .await
            .expect("search")
            .is_empty()
    );

    teacher2.sign_out().await.expect("sign out");
    lead_app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn a_change_refused_by_the_server_is_listed_in_words_and_can_be_dismissed() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let robins = class_named(&app, "Reception Robins").await;

    link.cut().await;
    let sam = app
        .learner_create(NewLearnerInput {
            username: Some("sam.lee".into()),
            ..new_learner("Sam", "Lee", vec![robins.id])
        })
        .await
        .expect("created offline");
    assert_eq!(sam.username, "sam.lee");
    assert_eq!(
        class_named(&app, "Reception Robins").await.learner_count,
        28
    );
    // Meanwhile the lead gives that username to someone else.
    lead(&server)
        .await
        .learner_create(&NewLearner {
            id: None,
            given_name: "Samira".into(),
            family_name: "Leeds".into(),
            username: Some("sam.lee".into()),
            email: None,
            classes: Vec::new(),
        })
        .await
        .expect("the lead takes the username");

    link.restore().await;
    let status = app.sync_now().await.expect("sync");
    assert_eq!((status.waiting, status.rejected), (0, 1));
    let rejected = app.rejected().await.expect("rejected");
    assert_eq!(rejected.len(), 1);
    let refusal = &rejected[0];
    assert_eq!(
        refusal.description,
        "Add the learner Sam Lee with the username sam.lee to Reception Robins"
    );
    assert_eq!(refusal.reason.code, AppErrorCode::InvalidInput);
    assert!(
        refusal.reason.message.contains("sam.lee"),
        "{}",
        refusal.reason
    );
    // The learner who was never created is gone from the screens.
    assert_eq!(
        app.learner(sam.id).await.expect_err("gone").code,
        AppErrorCode::NotFound
    );
    assert_eq!(
        class_named(&app, "Reception Robins").await.learner_count,
        27
    );

    let status = app.rejected_dismiss(refusal.id).await.expect("dismissed");
    assert_eq!(status.rejected, 0);
    assert!(app.rejected().await.expect("rejected").is_empty());
    let again = app
        .rejected_dismiss(refusal.id)
        .await
        .expect_err("already dismissed");
    assert_eq!(again.code, AppErrorCode::NotFound);

    // Online, the same refusal is the edit's own error, not a list entry.
    let lukasz = learner_named(&app, "lukasz").await;
    let refused = app
        .learner_update(
            lukasz.id,
            LearnerEdit {
                username: Some("sam.lee".into()),
                ..LearnerEdit::default()
            },
        )
        .await
        .expect_err("the server refuses at once");
    assert_eq!(refused.code, AppErrorCode::InvalidInput, "{refused}");
    assert!(refused.message.contains("sam.lee"), "{refused}");
    assert_eq!(app.learner(lukasz.id).await.expect("shown"), lukasz);
    let status = app.status().await.expect("status");
    assert_eq!((status.waiting, status.rejected), (0, 0));

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

#[tokio::test]
async fn the_whole_school_page_lists_all_189_demo_learners_for_the_lead_only() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (lead_app, _lead_dir) = signed_in(&secrets, &server.url, "lead").await;

    let first = lead_app
        .class_learners(None, 0, 100)
        .await
        .expect("first page");
    let second = lead_app
        .class_learners(None, 100, 100)
        .await
        .expect("second page");
    assert_eq!((first.total, second.total), (189, 189));
    assert_eq!((first.learners.len(), second.learners.len()), (100, 89));
    let mut ids: Vec<_> = first
        .learners
        .iter()
        .chain(&second.learners)
        .map(|l| l.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 189, "no learner on two pages");
    assert_eq!(lead_app.classes().await.expect("classes").len(), 7);

    // A teacher's "everyone" is the learners of their own three classes.
    let (teacher1, _teacher1_dir) = signed_in(&secrets, &server.url, "teacher1").await;
    assert_eq!(
        teacher1
            .class_learners(None, 0, 500)
            .await
            .expect("teacher's learners")
            .total,
        81
    );

    teacher1.sign_out().await.expect("sign out");
    lead_app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn a_learner_added_offline_shows_the_username_the_server_then_gives_them() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let robins = class_named(&app, "Reception Robins").await;

    link.cut().await;
    // Reception Robins has a Zoë Adams already, so the suggestion is numbered.
    let shown = app
        .learner_create(new_learner("Zoë", "Adams", vec![robins.id]))
        .await
        .expect("created offline");
    assert_eq!(shown.username, "zoe.adams2");
    assert_eq!(app.status().await.expect("status").waiting, 1);
    assert_eq!(
        app.class_learners(Some(robins.id), 0, 100)
            .await
            .expect("learners")
            .total,
        28
    );

    link.restore().await;
    assert_eq!(app.sync_now().await.expect("sync").waiting, 0);
    let on_server = lead(&server)
        .await
        .learner(shown.id)
        .await
        .expect("created");
    assert_eq!(on_server.username, "zoe.adams2");
    assert_eq!(app.learner(shown.id).await.expect("shown"), on_server);

    app.sign_out().await.expect("sign out");
    link.cut().await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// Passwords and access codes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_teacher_resets_a_learner_and_a_class_and_downloads_the_same_codes() {
    use classkeys_app::ClassResetMode;
    use classkeys_domain::generator::PasswordStyle;
    use classkeys_protocol::credentials::{PasswordSource, PasswordState};

    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (app, dir) = signed_in(&secrets, &server.url, "teacher1").await;
    let owls = class_named(&app, "1 Owls").await;

    // The class's default style is the one for its age: Year 1 gets PINs.
    let styles = app.password_styles(Some(owls.id)).await.expect("styles");
    let default = styles.iter().find(|s| s.default).expect("a default");
    assert_eq!(default.style, PasswordStyle::Pin);

    // One learner: preview, regenerate, apply.
    let learner = app
        .class_learners(Some(owls.id), 0, 1)
        .await
        .expect("learners")
        .learners
        .remove(0);
    let first = app
        .password_generate(PasswordStyle::Words)
        .expect("preview");
    let second = app
        .password_generate(PasswordStyle::Words)
        .expect("regenerate");
    assert_ne!(first.expose(), second.expose());
    let codes = app
        .learner_password_set(learner.id, second.clone(), PasswordSource::Generated, false)
        .await
        .expect("applied");
    assert_eq!(
        codes.codes[0].password.as_deref(),
        Some(second.expose().as_str())
    );
    assert!(
        server
            .learner_signs_in(&learner.username, second.expose())
            .await
    );
    // The replica learns who set it with the sync that follows.
    assert_eq!(
        app.learner(learner.id).await.expect("learner").password,
        PasswordState::SetByTeacher
    );

    // A typed weak password is refused with the server's reason, and nothing changes.
    let err = app
        .learner_password_set(
            learner.id,
            Sensitive::new("password".into()),
            PasswordSource::Typed,
            false,
        )
        .await
        .expect_err("too weak");
    assert_eq!(err.code, AppErrorCode::InvalidInput);
    assert!(err.message.contains("too easy to guess"), "{err}");
    assert!(
        server
            .learner_signs_in(&learner.username, second.expose())
            .await
    );

    // The whole class, one password each, as previewed.
    let preview = app
        .class_reset_preview(owls.id, ClassResetMode::Individual, PasswordStyle::Pin)
        .await
        .expect("preview");
    assert_eq!(preview.len() as i64, owls.learner_count);
    let codes = app
        .class_reset_apply(
            owls.id,
            ClassResetMode::Individual,
            preview.clone(),
            PasswordSource::Generated,
            true,
        )
        .await
        .expect("applied");
    for line in &preview {
        let code = codes
            .codes
            .iter()
            .find(|c| c.learner_id == line.learner_id)
            .expect("a code");
        assert_eq!(code.password.as_deref(), Some(line.password.as_str()));
        assert!(code.must_change);
    }

    // The CSV download holds exactly the codes shown.
    let file = dir.path().join("owls.csv");
    let saved = app.class_codes_export(owls.id, &file).await.expect("saved");
    assert_eq!(saved.learners, preview.len());
    let bytes = std::fs::read(&file).expect("the file");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    for code in &codes.codes {
        let line = format!("{},{}", code.username, code.password.as_deref().unwrap());
        assert!(text.contains(&line), "{line} in the CSV");
        assert!(text.contains(&code.parent_code));
    }

    // Login cards.
    let pdf = dir.path().join("owls.pdf");
    let saved = app
        .class_cards(owls.id, classkeys_cards::Paper::A4, &pdf)
        .await
        .expect("cards");
    assert_eq!(saved.learners, preview.len());
    assert!(std::fs::read(&pdf).expect("the PDF").starts_with(b"%PDF"));

    // A teacher may not export the school.
    let err = app
        .school_export(
            classkeys_protocol::credentials::SchoolExportKind::AccessCodes,
            password(),
            &dir.path().join("school.csv"),
        )
        .await
        .expect_err("teachers cannot");
    assert_eq!(err.code, AppErrorCode::Forbidden);
    assert!(
        err.message
            .contains("only lead teachers can export the whole school"),
        "{err}"
    );
    assert!(!dir.path().join("school.csv").exists());

    // The audit log shows what this teacher did.
    let log = app.audit(None, None).await.expect("audit");
    assert!(log.items.len() >= 4, "{:?}", log.items);
    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn credential_work_offline_says_it_needs_the_server_and_changes_nothing() {
    use classkeys_protocol::credentials::PasswordSource;

    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let badgers = class_named(&app, "3 Badgers").await;
    let before = lead(&server)
        .await
        .class_access_codes(
            badgers.id,
            classkeys_protocol::credentials::CodesPurpose::Reveal,
        )
        .await
        .expect("codes");

    link.cut().await;
    let err = app
        .class_access_codes(badgers.id, true)
        .await
        .expect_err("offline");
    assert_eq!(err.code, AppErrorCode::Offline);
    assert!(err.message.contains("needs the server"), "{err}");
    let learner = before.codes[0].learner_id;
    let err = app
        .learner_password_set(
            learner,
            Sensitive::new("Violet-Harbour-Kite-93".into()),
            PasswordSource::Typed,
            false,
        )
        .await
        .expect_err("offline");
    assert!(err.message.contains("nothing was changed"), "{err}");
    let file = dir.path().join("badgers.csv");
    assert!(app.class_codes_export(badgers.id, &file).await.is_err());
    assert!(!file.exists(), "no half-written file");

    link.restore().await;
    let after = lead(&server)
        .await
        .class_access_codes(
            badgers.id,
            classkeys_protocol::credentials::CodesPurpose::Reveal,
        )
        .await
        .expect("codes");
    assert_eq!(before.codes, after.codes, "nothing changed on the server");
    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn offline_a_class_shows_its_usernames_and_parent_codes_kept_sealed_on_this_computer() {
    use classkeys_protocol::credentials::PasswordState;

    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let badgers = class_named(&app, "3 Badgers").await;
    let online = app
        .class_access_codes(badgers.id, false)
        .await
        .expect("codes");
    assert!(!online.offline);
    assert!(!online.codes.codes.is_empty());
    assert!(online.codes.codes.iter().all(|c| !c.parent_code.is_empty()));

    link.cut().await;
    let offline = app
        .class_access_codes(badgers.id, false)
        .await
        .expect("the list shows offline");
    assert!(offline.offline, "and says it is from this computer");
    let table = |codes: &classkeys_protocol::credentials::AccessCodes| -> Vec<(String, String, String, PasswordState)> {
        codes
            .codes
            .iter()
            .map(|c| {
                (
                    format!("{} {}", c.given_name, c.family_name),
                    c.username.clone(),
                    c.parent_code.clone(),
                    c.password_state,
                )
            })
            .collect()
    };
    assert_eq!(table(&offline.codes), table(&online.codes));
    assert_eq!(offline.codes.sign_in_url, online.codes.sign_in_url);
    assert_eq!(offline.codes.class_name.as_deref(), Some("3 Badgers"));
    assert!(offline.codes.codes.iter().all(|c| c.password.is_none()));
    let err = app
        .class_access_codes(badgers.id, true)
        .await
        .expect_err("revealing needs the server");
    assert_eq!(err.code, AppErrorCode::Offline);

    // What the replica keeps is sealed: no parent code is in any of its files as text.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("data folder") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            files.push(std::fs::read(&path).expect("read"));
        }
    }
    assert!(!files.is_empty());
    for code in &online.codes.codes {
        let needle = code.parent_code.as_bytes();
        assert!(
            files
                .iter()
                .all(|f| !f.windows(needle.len()).any(|w| w == needle)),
            "the parent code of {} is in the replica in plain text",
            code.username
        );
    }

    link.restore().await;
    app.sign_out().await.expect("sign out");
    server.stop().await;
}

#[tokio::test]
async fn the_diagnosis_names_a_deactivated_learner_and_offline_shows_what_this_computer_knows() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let mut link = Link::to(&server.url).await;
    let (app, _dir) = signed_in(&secrets, &link.url(), "teacher1").await;
    let owls = class_named(&app, "1 Owls").await;
    let learner = app
        .class_learners(Some(owls.id), 0, 100)
        .await
        .expect("learners")
        .learners
        .into_iter()
        .find(|l| l.email.is_some())
        .expect("a learner with an address");
    app.learner_set_active(learner.id, false)
        .await
        .expect("deactivated");

    let view = app.learner_diagnosis(learner.id).await.expect("diagnosis");
    let diagnosis = view.diagnosis.expect("the server answered");
    let problem = diagnosis.problems().next().expect("a problem");
    assert_eq!(problem.check, Check::Account);
    assert_eq!(problem.fixes, [Fix::Reactivate]);
    assert!(
        problem.says.contains("deactivated by Mr Hughes"),
        "{}",
        problem.says
    );

    link.cut().await;
    let view = app
        .learner_diagnosis(learner.id)
        .await
        .expect("offline is not an error");
    assert!(view.diagnosis.is_none());
    assert!(
        view.offline
            .as_deref()
            .is_some_and(|s| s.contains("cannot be reached")),
        "{view:?}"
    );
    assert!(!view.known.active);
    assert_eq!(view.known.email, learner.email);
    let unlock = app
        .learner_unlock(learner.id)
        .await
        .expect_err("needs the server");
    assert_eq!(unlock.code, AppErrorCode::Offline);

    link.restore().await;
    app.learner_set_active(learner.id, true)
        .await
        .expect("reactivated");
    let view = app.learner_diagnosis(learner.id).await.expect("diagnosis");
    assert!(
        view.diagnosis
            .expect("online again")
            .problems()
            .all(|f| f.check == Check::Password),
        "reactivated: only the missing password remains"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_message_lists_who_it_will_not_reach_and_follows_each_copy_until_it_has_left() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let (app, _dir) = signed_in(&secrets, &server.url, "teacher1").await;
    let owls = class_named(&app, "1 Owls").await;
    let recipients = app
        .message_recipients(Vec::new(), Some(owls.id))
        .await
        .expect("recipients");
    assert!(!recipients.reached.is_empty() && !recipients.not_reached.is_empty());
    assert!(recipients.reached.iter().all(|r| r.email.is_some()));
    assert!(
        recipients
            .not_reached
            .iter()
            .all(|r| r.why_not == Some("no email address"))
    );
    assert_eq!(recipients.tag, "[loginLink]");

    let report = app
        .message_send(NewMessage {
            class_id: Some(owls.id),
            learner_ids: Vec::new(),
            subject: "Sign in".into(),
            body: "Your link: [loginLink]".into(),
            cc_me: true,
        })
        .await
        .expect("sent");
    assert_eq!(report.sent.len(), recipients.reached.len());
    assert_eq!(report.not_reached.len(), recipients.not_reached.len());
    let status = eventually("every copy has left", async || {
        let status = app
            .message_status(&report.message_id)
            .await
            .map_err(|e| e.message)?;
        if status.waiting() {
            return Err(format!("{status:?}"));
        }
        Ok(status)
    })
    .await;
    assert_eq!(status.copies.len(), report.sent.len() + 1);
    assert!(status.copies.iter().all(|c| c.state == MailState::Sent));
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_cannot_move_an_address_from_a_learner_of_another_class() {
    let Some(secrets) = credential_store() else {
        return;
    };
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let lead = lead(&server).await;
    let foxes = lead
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .find(|c| c.name == "2 Foxes")
        .expect("2 Foxes");
    let fox = lead
        .learner_create(&NewLearner {
            id: None,
            given_name: "Fen".into(),
            family_name: "Hart".into(),
            username: Some("fen.hart".into()),
            email: Some("fen@home.example".into()),
            classes: vec![foxes.id],
        })
        .await
        .expect("a learner of another class");
    let (app, _dir) = signed_in(&secrets, &server.url, "teacher1").await;
    let owls = class_named(&app, "1 Owls").await;
    let owl = app
        .class_learners(Some(owls.id), 0, 1)
        .await
        .expect("learners")
        .learners
        .remove(0);

    let refused = app
        .learner_email_move(owl.id, fox.id)
        .await
        .expect_err("not one of teacher1's learners");
    assert_eq!(refused.code, AppErrorCode::NotFound);
    assert_eq!(
        lead.learner(fox.id)
            .await
            .expect("the fox")
            .email
            .as_deref(),
        Some("fen@home.example"),
        "the address stays where it was"
    );
    server.stop().await;
}
