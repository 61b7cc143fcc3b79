//! Benchmark: "why can't they sign in?" and the duplicates list on a 10,000-learner school,
//! each against a baseline measured in the same run, interleaved:
//!
//! - one learner's diagnosis against reading that learner (`GET /api/v1/learners/{id}`):
//!   the diagnosis reads the learner, their throttle row, mail, links, and compares their
//!   address with every other address in the school;
//! - the whole school's likely duplicates (a lead teacher) against one page of 500
//!   learners (`GET /api/v1/learners?limit=500`): both read the school's learners once.
//!
//! The seeded addresses (`learner{i}@bench.example` for every third learner) differ from
//! each other by one letter in thousands of pairs, more than a real school has: the worst
//! case for the look-alike search, and the list is cut at its bound.
//!
//! Run with `cargo bench -p classkeys-server --bench diagnosis` (SQLite; also PostgreSQL
//! when `CLASSKEYS_TEST_POSTGRES_URL` is set).

use std::future::Future;
use std::time::{Duration, Instant};

use classkeys_client::Client;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::Backend;
use classkeys_testsupport::{DEMO_PASSWORD, TestServer, postgres_admin_url, seed_large_school};

const LEARNERS: usize = 10_000;
const CLASSES: usize = 334;
/// Requests of each kind: enough for a stable median.
const RUNS: usize = 40;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn timed<T, E: std::fmt::Debug>(request: impl Future<Output = Result<T, E>>) -> Duration {
    let start = Instant::now();
    request.await.expect("the request succeeds");
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if postgres_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    println!("{LEARNERS} learners in {CLASSES} classes, medians of {RUNS} interleaved requests");
    for backend in backends {
        run(backend).await;
    }
}

async fn run(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_large_school(&server, "bench", CLASSES, LEARNERS).await;
    let (lead, _) = Client::new(&server.url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: Some("bench".into()),
            username: "lead".into(),
            password: DEMO_PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap();
    let learner = lead
        .learners(&LearnerQuery {
            q: Some("learner03000".into()),
            ..LearnerQuery::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(learner.email.is_some(), "a learner with an address");
    let diagnosis = lead.learner_diagnosis(learner.id).await.unwrap();
    let duplicates = lead.learner_duplicates().await.unwrap();
    let page = LearnerQuery {
        limit: Some(500),
        ..LearnerQuery::default()
    };

    let (mut read, mut diagnose, mut listed, mut found) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        read.push(timed(lead.learner(learner.id)).await);
        diagnose.push(timed(lead.learner_diagnosis(learner.id)).await);
        listed.push(timed(lead.learners(&page)).await);
        found.push(timed(lead.learner_duplicates()).await);
    }
    let (read, diagnose) = (median(read), median(diagnose));
    let (listed, found) = (median(listed), median(found));
    println!("{backend}:");
    println!(
        "  diagnosis          {} (reading the learner: {}) = {:.1} ×; {} look-alikes named",
        ms(diagnose),
        ms(read),
        diagnose.as_secs_f64() / read.as_secs_f64(),
        diagnosis.facts.look_alikes.len()
    );
    println!(
        "  duplicates         {} (a page of 500 learners: {}) = {:.1} ×; {} pairs listed{}",
        ms(found),
        ms(listed),
        found.as_secs_f64() / listed.as_secs_f64(),
        duplicates.pairs.len(),
        if duplicates.truncated {
            " (cut at the bound)"
        } else {
            ""
        }
    );
    server.stop().await;
}
