//! The replica as the desktop app lives it: killed mid-write, replaying pushes after a lost
//! answer against the real server (SQLite and PostgreSQL), conflicts and their resolution,
//! records leaving the replica, search and paging over the demo school, signing out.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use classkeys_client::Client;
use classkeys_domain::identity::Role;
use classkeys_domain::ids::{ClassId, LearnerId, OperationId, SchoolId, StaffId};
use classkeys_protocol::auth::{Me, SignInRequest};
use classkeys_protocol::roster::{ClassRecord, LearnerPatch, LearnerRecord};
use classkeys_protocol::sync::{
    Change, EntityKind, OpKind, Operation, Outcome, PullQuery, PullResponse, PushRequest, Record,
    RemovalReason,
};
use classkeys_server::Backend;
use classkeys_store::{Account, Due, Resolution, Store, SyncCounts};
use classkeys_testsupport::{TestServer, postgres_admin_url};
use rand::Rng;
use sqlx::Connection;
use time::OffsetDateTime;

use classkeys_testsupport::DEMO_PASSWORD as PASSWORD;

/// Set in the child process of the SIGKILL test: the store file it writes to.
const WRITER_ENV: &str = "CLASSKEYS_STORE_TEST_WRITER_DB";
const WRITER_TEST: &str = "writer_child_process";

// ---------------------------------------------------------------------------------------
// 1. Durability under SIGKILL.

/// Not a test of its own: the child process that `confirmed_changes_survive_the_app_being_
/// killed` starts (this same binary, filtered to this function) and kills.
#[test]
#[ignore = "the writer child of confirmed_changes_survive_the_app_being_killed, run by it"]
fn writer_child_process() {
    let Ok(path) = std::env::var(WRITER_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = Store::open(&path).await.expect("opening the store");
        let learners: Vec<LearnerId> = (0..7).map(|_| LearnerId::generate()).collect();
        // Bounded, so an orphaned child stops by itself; printing also panics (and so
        // stops the child) once the parent has closed the pipe.
        for i in 0..20_000 {
            let id = learners[i % learners.len()];
            let family = format!("Family {i}");
            let op = rename(id, &family, 1);
            let optimistic = Record::Learner(learner_record(id, "Sam", &family, 1));
            store
                .enqueue(&op, Some(&optimistic))
                .await
                .expect("queueing a change");
            println!("confirmed {}", op.id);
        }
    });
}

#[test]
fn confirmed_changes_survive_the_app_being_killed() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for round in 0..10 {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("replica.db");
        let kill_after = rand::rng().random_range(20..=200);
        let mut child = Command::new(&exe)
            .args([
                WRITER_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the writer");
        let stdout = child.stdout.take().expect("the writer's output");
        let mut lines = BufReader::new(stdout).lines();
        let mut confirmed: Vec<OperationId> = Vec::new();
        while confirmed.len() < kill_after {
            match lines.next() {
                Some(Ok(line)) => confirmed.extend(confirmation(&line)),
                other => panic!(
                    "round {round}: the writer stopped after {} confirmations: {other:?}",
                    confirmed.len()
                ),
            }
        }
        // Child::kill is SIGKILL on Unix: no destructor, no flush, no chance to finish.
        child.kill().expect("killing the writer");
        child.wait().expect("reaping the writer");
        // Lines already in the pipe were printed after a commit: they are confirmed too.
        confirmed.extend(lines.map_while(|l| l.ok()).filter_map(|l| confirmation(&l)));

        runtime.block_on(check_after_kill(&path, &confirmed, round));
    }
}

/// The operation id a writer's line confirms. Found anywhere in the line: the test harness
/// prints `test writer_child_process ... ` without a newline just before the first one.
fn confirmation(line: &str) -> Option<OperationId> {
    let (_, id) = line.split_once("confirmed ")?;
    Some(id.trim().parse().expect("an operation id"))
}

async fn check_after_kill(path: &Path, confirmed: &[OperationId], round: usize) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the killed writer's file");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("checking integrity");
    assert_eq!(integrity, "ok", "round {round}");
    // The search index must agree with the learners it indexes (rank 1: check the content).
    sqlx::query("INSERT INTO learner_search (learner_search, rank) VALUES ('integrity-check', 1)")
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("round {round}: the search index is damaged: {e}"));
    conn.close().await.ok();

    let store = Store::open(path).await.expect("reopening the store");
    let queued = store
        .pending(100_000, Due::Any)
        .await
        .expect("reading the outbox");
    let ids: Vec<OperationId> = queued.iter().map(|op| op.id).collect();
    assert!(
        ids.len() >= confirmed.len(),
        "round {round}: {} confirmed changes, {} queued",
        confirmed.len(),
        ids.len()
    );
    // Every confirmed change is queued once, in the order made; at most the one change
    // committed but not yet announced when the kill came follows.
    assert_eq!(&ids[..confirmed.len()], confirmed, "round {round}");
    assert!(
        ids.len() <= confirmed.len() + 1,
        "round {round}: unexplained extra changes"
    );
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "round {round}: a change queued twice"
    );
    // And each learner shows the last change made to them.
    let mut last: HashMap<LearnerId, String> = HashMap::new();
    for op in &queued {
        if let OpKind::LearnerUpdate {
            learner_id,
            family_name: Some(family),
            ..
        } = &op.op
        {
            last.insert(*learner_id, family.clone());
        }
    }
    for (id, family) in last {
        let shown = store.learner(id).await.expect("reading a learner");
        assert_eq!(
            shown.map(|l| l.family_name),
            Some(family),
            "round {round}: a learner shows a change other than their last"
        );
    }
    store.close().await;
}

// ---------------------------------------------------------------------------------------
// 2. Exactly-once replay against the real server.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_replayed_after_a_lost_answer_changes_each_learner_once_on_sqlite() {
    a_push_replayed_after_a_lost_answer_changes_each_learner_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_replayed_after_a_lost_answer_changes_each_learner_once_on_postgres() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set CLASSKEYS_TEST_POSTGRES_URL to run on PostgreSQL");
        return;
    }
    a_push_replayed_after_a_lost_answer_changes_each_learner_once(Backend::Postgres).await;
}

async fn a_push_replayed_after_a_lost_answer_changes_each_learner_once(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let teacher1 = sign_in(&server, "teacher1").await;
    let (store, _dir) = fresh_store().await;
    pull_all(&store, &teacher1, Some(40)).await;

    let (before, total) = store.learners(None, 0, 5).await.unwrap();
    assert!(total >= 5, "teacher1 sees {total} learners");
    for learner in &before {
        let family = format!("{} Renamed", learner.family_name);
        let op = rename(learner.id, &family, learner.version);
        let mut optimistic = learner.clone();
        optimistic.family_name = family;
        store
            .enqueue(&op, Some(&Record::Learner(optimistic)))
            .await
            .unwrap();
    }
    // The teacher sees the renames at once, before any push.
    for learner in &before {
        let shown = store.learner(learner.id).await.unwrap().unwrap();
        assert_eq!(
            shown.family_name,
            format!("{} Renamed", learner.family_name)
        );
    }
    assert_eq!(store.status().await.unwrap().waiting, 5);

    let batch = store.pending(100, Due::Now).await.unwrap();
    assert_eq!(batch.len(), 5);
    let request = PushRequest {
        operations: batch.clone(),
    };
    // The first answer is lost (say, the connection dropped); the client replays the batch.
    let lost = teacher1.sync_push(&request).await.unwrap();
    let answer = teacher1.sync_push(&request).await.unwrap();
    assert_eq!(answer, lost, "a replay gets the stored outcomes");
    store.settle(&answer.results).await.unwrap();
    // Settling a late copy of the same answer changes nothing.
    store.settle(&lost.results).await.unwrap();

    for learner in &before {
        let on_server = teacher1.learner(learner.id).await.unwrap();
        assert_eq!(
            on_server.version,
            learner.version + 1,
            "changed exactly once"
        );
        assert_eq!(
            on_server.family_name,
            format!("{} Renamed", learner.family_name)
        );
        let shown = store.learner(learner.id).await.unwrap().unwrap();
        assert_eq!(shown, on_server, "the replica holds the server's record");
    }
    assert_eq!(store.status().await.unwrap(), SyncCounts::default());
    assert!(store.pending(100, Due::Any).await.unwrap().is_empty());

    // The next pull brings the same records back and changes nothing.
    pull_all(&store, &teacher1, None).await;
    for learner in &before {
        let shown = store.learner(learner.id).await.unwrap().unwrap();
        assert_eq!(shown.version, learner.version + 1);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// 3. Conflicts.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_change_becomes_a_conflict_that_keep_mine_and_take_theirs_each_resolve() {
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let teacher1 = sign_in(&server, "teacher1").await;
    let lead = sign_in(&server, "lead").await;
    let (store, _dir) = fresh_store().await;
    pull_all(&store, &teacher1, None).await;
    let (learners, _) = store.learners(None, 0, 2).await.unwrap();
    let [mine, theirs] = [&learners[0], &learners[1]];

    // Meanwhile the lead teacher renames both learners on the server.
    for learner in [mine, theirs] {
        lead.learner_update(
            learner.id,
            &LearnerPatch {
                family_name: Some(format!("{} (lead)", learner.family_name)),
                base_version: Some(learner.version),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    // Offline, teacher1 renames them too, from the versions they saw.
    let mut ops = HashMap::new();
    for learner in [mine, theirs] {
        let family = format!("{} (teacher1)", learner.family_name);
        let op = rename(learner.id, &family, learner.version);
        let mut optimistic = learner.clone();
        optimistic.family_name = family;
        store
            .enqueue(&op, Some(&Record::Learner(optimistic)))
            .await
            .unwrap();
        ops.insert(learner.id, op.id);
    }
    push_and_settle(&store, &teacher1).await;

    let conflicts = store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 2);
    for conflict in &conflicts {
        let Record::Learner(current) = &conflict.current else {
            panic!("a learner's conflict carries a {:?}", conflict.current);
        };
        let seen = if current.id == mine.id { mine } else { theirs };
        assert_eq!(current.version, seen.version + 1);
        assert_eq!(current.family_name, format!("{} (lead)", seen.family_name));
    }
    assert_eq!(
        store.status().await.unwrap(),
        SyncCounts {
            waiting: 0,
            conflicts: 2,
            rejected: 0
        }
    );
    // Until decided, the teacher's own change stays on screen and nothing is resent — also
    // after the pull that follows every push, which carries the lead's version of both.
    pull_all(&store, &teacher1, None).await;
    let shown = store.learner(mine.id).await.unwrap().unwrap();
    assert_eq!(
        shown.family_name,
        format!("{} (teacher1)", mine.family_name)
    );
    assert!(store.pending(10, Due::Any).await.unwrap().is_empty());

    // Keep mine: resent under a new id, over the lead's version, and applied.
    let old_id = ops[&mine.id];
    let new_id = store
        .resolve_conflict(old_id, Resolution::KeepMine)
        .await
        .unwrap()
        .expect("keeping mine queues a new operation");
    assert_ne!(new_id, old_id);
    let queued = store.pending(10, Due::Now).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].id, new_id);
    assert_eq!(queued[0].base_version, Some(mine.version + 1));
    // Shown with the version it will have once applied: a further edit builds on it.
    assert_eq!(
        store.learner(mine.id).await.unwrap().unwrap().version,
        mine.version + 2
    );
    push_and_settle(&store, &teacher1).await;
    let on_server = teacher1.learner(mine.id).await.unwrap();
    assert_eq!(
        on_server.family_name,
        format!("{} (teacher1)", mine.family_name)
    );
    assert_eq!(on_server.version, mine.version + 2);
    assert_eq!(store.learner(mine.id).await.unwrap().unwrap(), on_server);

    // Take theirs: my change is dropped and the lead's record shown; the server is untouched.
    let none = store
        .resolve_conflict(ops[&theirs.id], Resolution::TakeTheirs)
        .await
        .unwrap();
    assert_eq!(none, None);
    let on_server = teacher1.learner(theirs.id).await.unwrap();
    assert_eq!(
        on_server.family_name,
        format!("{} (lead)", theirs.family_name)
    );
    assert_eq!(on_server.version, theirs.version + 1);
    assert_eq!(store.learner(theirs.id).await.unwrap().unwrap(), on_server);

    assert_eq!(store.status().await.unwrap(), SyncCounts::default());
    assert!(store.conflicts().await.unwrap().is_empty());
    // A conflict already resolved cannot be resolved again.
    assert!(
        store
            .resolve_conflict(old_id, Resolution::TakeTheirs)
            .await
            .is_err()
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// 4. Records leaving the replica; search and paging over the demo school; signing out.

#[tokio::test]
async fn removals_and_tombstones_take_records_out_and_a_page_applied_twice_changes_nothing() {
    let (store, _dir) = fresh_store().await;
    let (owls, herons) = (ClassId::generate(), ClassId::generate());
    let (ada, ben) = (LearnerId::generate(), LearnerId::generate());
    let mut ben_record = learner_record(ben, "Ben", "Okafor", 3);
    ben_record.classes = vec![owls, herons];
    let mut ada_record = learner_record(ada, "Ada", "Lovelace", 1);
    ada_record.classes = vec![owls];
    let first = page(
        vec![
            // A learner may arrive before a class they are in.
            upsert(Record::Learner(ada_record.clone())),
            upsert(Record::Class(class_record(owls, "1 Owls"))),
            upsert(Record::Class(class_record(herons, "6 Herons"))),
            upsert(Record::Learner(ben_record.clone())),
        ],
        "10",
    );
    for _ in 0..2 {
        store.apply_pull(&first).await.unwrap();
        let classes = store.classes().await.unwrap();
        assert_eq!(
            classes
                .iter()
                .map(|c| (c.name.as_str(), c.learner_count))
                .collect::<Vec<_>>(),
            [("1 Owls", 2), ("6 Herons", 1)]
        );
        assert_eq!(store.learners(None, 0, 10).await.unwrap().1, 2);
        assert_eq!(store.learner(ben).await.unwrap(), Some(ben_record.clone()));
    }
    assert_eq!(store.cursor().await.unwrap().as_deref(), Some("10"));

    // An older copy of a record (a page fetched before a push settled) does not win.
    let mut stale = ben_record.clone();
    stale.family_name = "Old".into();
    stale.version = 2;
    store
        .apply_pull(&page(vec![upsert(Record::Learner(stale))], "11"))
        .await
        .unwrap();
    assert_eq!(
        store.learner(ben).await.unwrap().unwrap().family_name,
        "Okafor"
    );

    // The teacher loses 1 Owls, and Ada (only in 1 Owls) with it; Ada is then deleted.
    let second = page(
        vec![
            Change::Remove {
                kind: EntityKind::Class,
                id: owls.0,
                reason: RemovalReason::NoLongerVisible,
            },
            Change::Remove {
                kind: EntityKind::Learner,
                id: ada.0,
                reason: RemovalReason::Deleted,
            },
        ],
        "12",
    );
    for _ in 0..2 {
        store.apply_pull(&second).await.unwrap();
        let classes = store.classes().await.unwrap();
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].id, herons);
        assert_eq!(store.learner(ada).await.unwrap(), None);
        assert!(store.search("lovelace", 10).await.unwrap().is_empty());
        let ben_now = store.learner(ben).await.unwrap().unwrap();
        assert_eq!(
            ben_now.classes,
            [herons],
            "the lost class is off Ben's record"
        );
        assert_eq!(store.learners(Some(owls), 0, 10).await.unwrap().1, 0);
        assert_eq!(store.learners(Some(herons), 0, 10).await.unwrap().1, 1);
    }
    assert_eq!(store.cursor().await.unwrap().as_deref(), Some("12"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_school_replica_is_searchable_and_pages_cover_each_class_once() {
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let lead = sign_in(&server, "lead").await;
    let (store, dir) = fresh_store().await;
    pull_all(&store, &lead, Some(100)).await;

    for (query, expected) in [
        ("lukasz", "Łukasz Kowalski"),
        ("obrien", "Siobhán O'Brien"),
        ("aleksandr", "Александр Петров"),
        ("ZOE adams", "Zoë Adams"),
        ("nguyen", "Văn An Nguyễn"),
    ] {
        let found: Vec<String> = store
            .search(query, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|l| format!("{} {}", l.given_name, l.family_name))
            .collect();
        assert!(
            found.contains(&expected.to_owned()),
            "{query:?} found {found:?}"
        );
    }

    let server_classes = lead.classes().await.unwrap();
    let classes = store.classes().await.unwrap();
    assert_eq!(classes.len(), server_classes.len());
    let mut everyone = BTreeSet::new();
    for class in &classes {
        let on_server = server_classes
            .iter()
            .find(|c| c.id == class.id)
            .expect("the class is on the server");
        assert_eq!(
            class.learner_count, on_server.learner_count,
            "{}",
            class.name
        );
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let (page, total) = store.learners(Some(class.id), offset, 7).await.unwrap();
            assert_eq!(total, class.learner_count);
            if page.is_empty() {
                break;
            }
            offset += 7;
            seen.extend(page);
        }
        let ids: BTreeSet<LearnerId> = seen.iter().map(|l| l.id).collect();
        assert_eq!(
            ids.len(),
            seen.len(),
            "{}: a learner on two pages",
            class.name
        );
        assert_eq!(seen.len() as i64, class.learner_count, "{}", class.name);
        assert!(seen.iter().all(|l| l.classes.contains(&class.id)));
        let keys: Vec<(String, String)> = seen
            .iter()
            .map(|l| {
                (
                    classkeys_domain::text::search_fold(&l.family_name),
                    classkeys_domain::text::search_fold(&l.given_name),
                )
            })
            .collect();
        assert!(
            keys.is_sorted(),
            "{}: not by family then given name",
            class.name
        );
        everyone.extend(ids);
    }
    let (_, total) = store.learners(None, 0, 1).await.unwrap();
    assert_eq!(everyone.len() as i64, total, "every learner is in a class");

    // Signing out leaves nothing behind: not in the replica, not in the file.
    store.clear().await.unwrap();
    assert!(store.classes().await.unwrap().is_empty());
    assert_eq!(store.learners(None, 0, 10).await.unwrap().1, 0);
    assert!(store.search("kowalski", 10).await.unwrap().is_empty());
    assert_eq!(store.cursor().await.unwrap(), None);
    assert_eq!(store.account().await.unwrap(), None);
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(8).any(|w| w == b"Kowalski"),
            "{} still holds a learner's name",
            path.display()
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn signing_in_as_someone_else_wipes_the_previous_replica() {
    let (store, _dir) = fresh_store().await;
    let teacher = account("http://keys.school.example", "teacher1");
    assert!(
        !store.set_account(&teacher).await.unwrap(),
        "nothing to wipe"
    );
    let id = LearnerId::generate();
    store
        .apply_pull(&page(
            vec![upsert(Record::Learner(learner_record(
                id, "Ada", "Lovelace", 1,
            )))],
            "5",
        ))
        .await
        .unwrap();
    store.enqueue(&rename(id, "Byron", 1), None).await.unwrap();

    // The same teacher again keeps everything.
    assert!(!store.set_account(&teacher).await.unwrap());
    assert!(store.learner(id).await.unwrap().is_some());
    assert_eq!(store.status().await.unwrap().waiting, 1);

    let other = account("http://keys.school.example", "teacher2");
    assert!(store.set_account(&other).await.unwrap(), "wiped");
    assert_eq!(store.learner(id).await.unwrap(), None);
    assert_eq!(store.status().await.unwrap(), SyncCounts::default());
    assert_eq!(store.cursor().await.unwrap(), None);
    assert_eq!(store.account().await.unwrap(), Some(other));
}

// ---------------------------------------------------------------------------------------
// Helpers.

async fn fresh_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = Store::open(dir.path().join("replica.db"))
        .await
        .expect("opening a fresh store");
    (store, dir)
}

async fn sign_in(server: &TestServer, username: &str) -> Client {
    let (client, _) = Client::new(&server.url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: Some("demo".into()),
            username: username.into(),
            password: PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap_or_else(|e| panic!("signing in as {username}: {e}"));
    client
}

/// Pulls until the server has nothing more, as the app's sync loop does.
async fn pull_all(store: &Store, client: &Client, limit: Option<u32>) {
    for _ in 0..10_000 {
        let page = client
            .sync_pull(&PullQuery {
                cursor: store.cursor().await.unwrap(),
                limit,
            })
            .await
            .expect("pulling changes");
        store.apply_pull(&page).await.unwrap();
        if !page.more {
            return;
        }
    }
    panic!("the pull never ends");
}

/// Pushes every due change and settles the answer.
async fn push_and_settle(store: &Store, client: &Client) {
    let operations = store.pending(500, Due::Now).await.unwrap();
    let answer = client
        .sync_push(&PushRequest { operations })
        .await
        .expect("pushing changes");
    for result in &answer.results {
        if let Outcome::Rejected { error } = &result.outcome {
            panic!("the server refused {}: {error}", result.id);
        }
    }
    store.settle(&answer.results).await.unwrap();
}

fn rename(id: LearnerId, family: &str, base_version: i64) -> Operation {
    Operation {
        id: OperationId::generate(),
        base_version: Some(base_version),
        op: OpKind::LearnerUpdate {
            learner_id: id,
            given_name: None,
            family_name: Some(family.into()),
            username: None,
            email: None,
        },
    }
}

fn learner_record(id: LearnerId, given: &str, family: &str, version: i64) -> LearnerRecord {
    LearnerRecord {
        id,
        username: format!("{}.{}", given.to_lowercase(), id.0.simple()),
        given_name: given.into(),
        family_name: family.into(),
        email: None,
        active: true,
        classes: Vec::new(),
        password: Default::default(),
        must_change_password: false,
        version,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn class_record(id: ClassId, name: &str) -> ClassRecord {
    ClassRecord {
        id,
        name: name.into(),
        year_group: None,
        archived: false,
        teachers: Vec::new(),
        learner_count: 0,
        version: 1,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn upsert(record: Record) -> Change {
    Change::Upsert { record }
}

fn page(changes: Vec<Change>, cursor: &str) -> PullResponse {
    PullResponse {
        changes,
        cursor: cursor.into(),
        more: false,
    }
}

fn account(server: &str, username: &str) -> Account {
    Account {
        server: server.into(),
        staff: Me {
            id: StaffId::from(uuid_for(username)),
            username: username.into(),
            display_name: username.into(),
            role: Role::Teacher,
            school_id: SchoolId::from(uuid_for("demo")),
            school_name: "Demo Primary".into(),
            school_slug: "demo".into(),
        },
    }
}

/// A fixed id per name, so the same teacher signs in as the same id.
fn uuid_for(name: &str) -> uuid::Uuid {
    let n = name.bytes().fold(0_u128, |h, b| {
        h.wrapping_mul(131).wrapping_add(u128::from(b))
    });
    uuid::Uuid::from_u128(n)
}
