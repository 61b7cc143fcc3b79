//! Benchmark: first sync of a 10,000-learner school over loopback (DESIGN §10: ≤ 2 s), and
//! a delta of 100 changes (≤ 100 ms).
//!
//! Run with `cargo bench -p classkeys-server --bench sync_pull` (SQLite; also PostgreSQL when
//! `CLASSKEYS_TEST_POSTGRES_URL` is set). The baseline, measured in the same run, is reading
//! the same rows straight from the database with two plain queries: the ratio is what the
//! sync protocol costs on top (visibility checks, paging, HTTP, JSON).

use std::time::{Duration, Instant};

use classkeys_client::Client;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::roster::LearnerPatch;
use classkeys_protocol::sync::PullQuery;
use classkeys_server::Backend;
use classkeys_testsupport::{TestServer, postgres_admin_url, seed_large_school};

const LEARNERS: usize = 10_000;
const CLASSES: usize = 334;
const RUNS: usize = 5;
use classkeys_testsupport::DEMO_PASSWORD as PASSWORD;

#[tokio::main]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if postgres_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    println!("first sync of a {LEARNERS}-learner school, {CLASSES} classes, median of {RUNS} runs");
    for backend in backends {
        run(backend).await;
    }
}

async fn run(backend: Backend) {
    let server = TestServer::start(backend).await;
    let seeding = Instant::now();
    seed_large_school(&server, "bench", CLASSES, LEARNERS).await;
    let seeded_in = seeding.elapsed();
    let anon = Client::new(&server.url).unwrap();
    let (lead, _) = anon
        .sign_in(&SignInRequest {
            school: Some("bench".into()),
            username: "lead".into(),
            password: PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap();

    let mut baseline = Vec::new();
    let mut first = Vec::new();
    let mut cursor = String::new();
    for _ in 0..RUNS {
        baseline.push(raw_read(&server).await);
        let (took, count, end) = pull_all(&lead, None).await;
        assert_eq!(count, LEARNERS + CLASSES + 1, "every record arrives once");
        first.push(took);
        cursor = end;
    }

    // A delta: 100 learners renamed, then pulled from the last cursor.
    let page = lead
        .learners(&classkeys_protocol::roster::LearnerQuery {
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    for learner in &page.items {
        lead.learner_update(
            learner.id,
            &LearnerPatch {
                family_name: Some(format!("{} Renamed", learner.family_name)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let (delta, count, _) = pull_all(&lead, Some(cursor)).await;
    assert_eq!(count, 100, "the delta carries exactly the changed learners");

    let base = median(&mut baseline);
    let full = median(&mut first);
    println!(
        "{backend:>10}: first sync {:>7.1} ms (target <= 2000 ms) | raw DB read {:>6.1} ms | ratio {:>5.1}x | delta of 100 {:>6.1} ms (target <= 100 ms) | seeding took {:.1} s",
        ms(full),
        ms(base),
        full.as_secs_f64() / base.as_secs_f64(),
        ms(delta),
        seeded_in.as_secs_f64(),
    );
    server.stop().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Pulls until the server has nothing more; returns time, record count and final cursor.
async fn pull_all(client: &Client, mut cursor: Option<String>) -> (Duration, usize, String) {
    let start = Instant::now();
    let mut count = 0;
    loop {
        let page = client
            .sync_pull(&PullQuery {
                cursor: cursor.clone(),
                limit: Some(1000),
            })
            .await
            .unwrap();
        count += page.changes.len();
        cursor = Some(page.cursor);
        if !page.more {
            break;
        }
    }
    (start.elapsed(), count, cursor.unwrap_or_default())
}

/// A learner row as stored, for the baseline: decoded to pay the cost of decoding, not read.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct RawLearner {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: String,
    version: i64,
    updated_at: i64,
}

/// The baseline: the same learner and enrolment rows read with two plain queries.
async fn raw_read(server: &TestServer) -> Duration {
    let pool = server.state().db.pool();
    let start = Instant::now();
    let learners: Vec<RawLearner> = sqlx::query_as(
        "SELECT id, username, given_name, family_name, email, status, version, updated_at
         FROM learner",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let enrolments: Vec<(String, String)> =
        sqlx::query_as("SELECT learner_id, class_id FROM enrollment")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(learners.len(), LEARNERS);
    assert_eq!(enrolments.len(), LEARNERS);
    start.elapsed()
}
