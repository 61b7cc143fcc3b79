//! Benchmark: learner search over a 100,000-learner replica (DESIGN §10: ≤ 20 ms a query).
//!
//! Run with `cargo bench -p classkeys-store --bench search`. The store is filled through
//! `Store::apply_pull` (one transaction, multi-row inserts), then each query is answered
//! `RUNS` times by `Store::search` and, as the baseline measured in the same run, by the
//! same filter written as `LIKE '%word%'` over the folded text column (what the replica
//! would do without its trigram index; SQLite answers it by walking the list-order index,
//! which holds the folded text, and stops at the fiftieth match, so it is fast when matches
//! are spread through the list and slow when they are rare or cluster at its end). Both must
//! return the same learners; the table shows the median time of each and their ratio.

use std::time::{Duration, Instant};

use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::text::search_fold;
use classkeys_protocol::roster::{ClassRecord, LearnerRecord};
use classkeys_protocol::sync::{Change, PullResponse, Record};
use classkeys_store::Store;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use time::OffsetDateTime;

const LEARNERS: usize = 100_000;
const CLASSES: usize = 3_334;
const RUNS: usize = 21;
const LIMIT: u32 = 50;
const TARGET: Duration = Duration::from_millis(20);

const GIVEN: [&str; 24] = [
    "Amelia",
    "Oliver",
    "Aisha",
    "Chen",
    "Priya",
    "Kwame",
    "Sofia",
    "Mateo",
    "Freya",
    "Oisín",
    "Niamh",
    "Yusuf",
    "Leila",
    "Hiroshi",
    "Ingrid",
    "Björn",
    "Chloé",
    "François",
    "Łukasz",
    "Zoë",
    "Siobhán",
    "Александр",
    "Mohammed",
    "Văn An",
];
const FAMILY: [&str; 24] = [
    "Smith",
    "Jones",
    "Nowak",
    "Kowalski",
    "O'Brien",
    "Nguyễn",
    "Petrov",
    "Müller",
    "García",
    "Dubois",
    "Rossi",
    "Andersson",
    "Yilmaz",
    "Okafor",
    "Tanaka",
    "Kim",
    "Ali",
    "Khan",
    "Petrova",
    "Novák",
    "Søren",
    "Ærø",
    "Петров",
    "Adams",
];

const QUERIES: [&str; 14] = [
    "lukasz",
    "obrien",
    "aleksandr",
    "kowalski",
    "zoe adams",
    "smith",
    "ali",
    "al",
    "zz",
    "mo ali",
    "home.example",
    "77777",
    "xyzzy",
    "smith 999",
];

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("replica.db");
    let store = Store::open(&path).await.expect("opening the store");

    let page = school();
    let filling = Instant::now();
    store.apply_pull(&page).await.expect("filling the store");
    let filled_in = filling.elapsed();
    let (_, total) = store.learners(None, 0, 1).await.expect("counting");
    assert_eq!(total as usize, LEARNERS);
    println!(
        "learner search over {LEARNERS} learners ({CLASSES} classes), limit {LIMIT}, median of {RUNS} runs"
    );
    println!(
        "filled through apply_pull (one transaction, batched inserts) in {:.2} s",
        filled_in.as_secs_f64()
    );

    // The baseline reads the same file through its own pool, read-only.
    let baseline = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&path).read_only(true))
        .await
        .expect("opening the baseline connection");

    println!(
        "{:<14} {:>8} {:>12} {:>14} {:>8} {:>8}",
        "query", "found", "store ms", "LIKE ms (base)", "ratio", "≤ 20 ms"
    );
    let mut worst = Duration::ZERO;
    for query in QUERIES {
        let mut ours = Vec::with_capacity(RUNS);
        let mut theirs = Vec::with_capacity(RUNS);
        let mut found = Vec::new();
        let mut expected = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            found = store.search(query, LIMIT).await.expect("searching");
            ours.push(t.elapsed());
            let t = Instant::now();
            expected = like_search(&baseline, query).await;
            theirs.push(t.elapsed());
        }
        let found_ids: Vec<String> = found.iter().map(|l| l.id.to_string()).collect();
        assert_eq!(
            found_ids, expected,
            "{query:?}: the index and LIKE disagree"
        );
        let (ours, theirs) = (median(ours), median(theirs));
        worst = worst.max(ours);
        println!(
            "{:<14} {:>8} {:>12.3} {:>14.3} {:>8.3} {:>8}",
            format!("{query:?}"),
            found.len(),
            ms(ours),
            ms(theirs),
            ours.as_secs_f64() / theirs.as_secs_f64(),
            if ours <= TARGET { "yes" } else { "NO" }
        );
    }
    println!(
        "slowest median {:.3} ms against the 20 ms target: {}",
        ms(worst),
        if worst <= TARGET { "met" } else { "MISSED" }
    );
    store.close().await;
    baseline.close().await;
}

/// The baseline: the same rule (every folded word is a substring), by scanning.
async fn like_search(pool: &sqlx::SqlitePool, query: &str) -> Vec<String> {
    let folded = search_fold(query);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut sql = String::from("SELECT l.id FROM learner l WHERE 1 = 1");
    for _ in &words {
        sql.push_str(" AND l.search_text LIKE ?");
    }
    sql.push_str(" ORDER BY l.family_key, l.given_key, l.id LIMIT ?");
    let mut q = sqlx::query_scalar::<_, String>(&sql);
    for w in &words {
        q = q.bind(format!("%{w}%"));
    }
    q.bind(LIMIT).fetch_all(pool).await.expect("the LIKE query")
}

/// A school of `LEARNERS` learners over `CLASSES` classes, names from a mix of scripts, a
/// third with email addresses, as one pull page.
fn school() -> PullResponse {
    let now = OffsetDateTime::now_utc();
    let classes: Vec<ClassId> = (0..CLASSES).map(|_| ClassId::generate()).collect();
    let mut changes: Vec<Change> = classes
        .iter()
        .enumerate()
        .map(|(i, id)| Change::Upsert {
            record: Record::Class(ClassRecord {
                id: *id,
                name: format!("Class {i}"),
                year_group: None,
                archived: false,
                teachers: Vec::new(),
                learner_count: 0,
                version: 1,
                updated_at: now,
            }),
        })
        .collect();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: usize| {
        // xorshift64: deterministic, so every run searches the same school.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for i in 0..LEARNERS {
        let given = GIVEN[next(GIVEN.len())];
        let family = FAMILY[next(FAMILY.len())];
        let base = search_fold(&format!("{given} {family}")).replace(' ', ".");
        let email = (i % 3 == 0).then(|| format!("{base}.{i}@home.example"));
        changes.push(Change::Upsert {
            record: Record::Learner(LearnerRecord {
                id: LearnerId::generate(),
                username: format!("{base}{i}"),
                given_name: given.into(),
                family_name: family.into(),
                email,
                active: true,
                classes: vec![classes[i % CLASSES]],
                password: Default::default(),
                must_change_password: false,
                version: 1,
                updated_at: now,
            }),
        });
    }
    PullResponse {
        changes,
        cursor: "bench".into(),
        more: false,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
