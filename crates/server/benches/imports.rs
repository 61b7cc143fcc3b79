//! Benchmark: a first roster import of a whole school — 10,000 learners in 334 classes
//! from a OneRoster zip, every username made by ClassKeys, every third learner with an
//! address — previewed and applied through the API, against inserting the same rows
//! (classes, learners, their usernames and addresses, enrolments) with multi-row
//! `INSERT`s in one transaction straight into the database, measured in the same run.
//!
//! The import's time is everything a lead teacher waits for: uploading the file,
//! unzipping and reading it, planning against the school, keeping the plan, and applying it
//! in one change with its audit entry. Each import goes into a fresh, empty school; runs
//! of the two alternate, and the medians are compared.
//!
//! Targets (`DESIGN.md` §10): at most 10 s, and at most 5 × the plain inserts. The
//! benchmark exits with a failure when either is missed.
//!
//! Run with `cargo bench -p classkeys-server --bench imports` (SQLite; also PostgreSQL
//! when `CLASSKEYS_TEST_POSTGRES_URL` is set).

use std::time::{Duration, Instant};

use classkeys_client::Client;
use classkeys_domain::text::{identity_key, search_fold};
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::imports::ImportQuery;
use classkeys_roster::export::{
    Export, ExportClass, ExportEnrollment, ExportOrg, ExportUser, SchoolYear, oneroster_zip,
};
use classkeys_roster::oneroster::Role;
use classkeys_server::Backend;
use classkeys_testsupport::{DEMO_PASSWORD, TestServer, postgres_admin_url, seed_large_school};

const LEARNERS: usize = 10_000;
const CLASSES: usize = 334;
/// Imports (and baselines) per engine, alternating.
const RUNS: usize = 3;
/// Rows per baseline statement, as the import writes them.
const ROWS: usize = 500;
const TARGET: Duration = Duration::from_secs(10);
const TARGET_RATIO: f64 = 5.0;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

const FAMILIES: [&str; 6] = ["Nowak", "Nguyễn", "Ó Briain", "Петров", "Smith", "García"];

fn given(i: usize) -> String {
    format!("Pupil{i}")
}

fn email(i: usize) -> Option<String> {
    i.is_multiple_of(3)
        .then(|| format!("pupil{i}@bench.example"))
}

/// The school's export: 10,000 students, 334 classes, one class each.
fn export() -> Vec<u8> {
    let modified = "2026-09-01T08:00:00.000Z".to_owned();
    let export = Export {
        org: ExportOrg {
            sourced_id: "org-bench".into(),
            name: "Benchmark School".into(),
        },
        year: SchoolYear::of(2026, 9),
        now: modified.clone(),
        users: (0..LEARNERS)
            .map(|i| ExportUser {
                sourced_id: format!("stu-{i}"),
                role: Role::Student,
                username: String::new(),
                given_name: given(i),
                family_name: FAMILIES[i % FAMILIES.len()].into(),
                email: email(i),
                enabled: true,
                modified: modified.clone(),
            })
            .collect(),
        classes: (0..CLASSES)
            .map(|c| ExportClass {
                sourced_id: format!("cls-{c}"),
                title: format!("Class {c:03}"),
                modified: modified.clone(),
            })
            .collect(),
        enrollments: (0..LEARNERS)
            .map(|i| ExportEnrollment {
                class: format!("cls-{}", i % CLASSES),
                user: format!("stu-{i}"),
                role: Role::Student,
            })
            .collect(),
    };
    oneroster_zip(&export).expect("the export")
}

async fn lead_of(server: &TestServer, slug: &str) -> Client {
    seed_large_school(server, slug, 0, 0).await;
    let (lead, _) = Client::new(&server.url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: Some(slug.into()),
            username: "lead".into(),
            password: DEMO_PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap();
    lead
}

/// Preview and apply, as a lead teacher waits for them.
async fn import(server: &TestServer, slug: &str, file: &[u8]) -> Duration {
    let lead = lead_of(server, slug).await;
    let start = Instant::now();
    let preview = lead
        .import_preview(&ImportQuery::default(), file.to_vec())
        .await
        .expect("the preview");
    let applied = lead
        .import_apply(preview.import_id, false)
        .await
        .expect("the import");
    let took = start.elapsed();
    assert_eq!(
        (applied.added, applied.classes_added),
        (LEARNERS, CLASSES),
        "{:?}",
        applied.skipped.first()
    );
    took
}

/// `$1, …` rows for a multi-row `VALUES`.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same rows, inserted with multi-row statements in one transaction.
async fn baseline(server: &TestServer, slug: &str) -> Duration {
    lead_of(server, slug).await;
    let state = server.state();
    let school: String = sqlx::query_scalar("SELECT id FROM school WHERE slug = $1")
        .bind(slug)
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    let start = Instant::now();
    let (mut tx, seq) = state.db.begin_change(&school).await.unwrap();
    let now = classkeys_server::db::now_ms();
    let class_ids: Vec<String> = (0..CLASSES)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    for (n, batch) in class_ids.chunks(ROWS).enumerate() {
        let sql = format!(
            "INSERT INTO class (id, school_id, name, name_key, source_id, version, seq, created_at,
                                updated_at) VALUES {}",
            values(batch.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for (k, id) in batch.iter().enumerate() {
            let c = n * ROWS + k;
            let name = format!("Class {c:03}");
            query = query
                .bind(id)
                .bind(&school)
                .bind(name.clone())
                .bind(name.to_lowercase())
                .bind(format!("cls-{c}"))
                .bind(1_i64)
                .bind(seq)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    let learner_ids: Vec<String> = (0..LEARNERS)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let username = |i: usize| format!("{}.{}", given(i).to_lowercase(), i % FAMILIES.len());
    for (n, batch) in learner_ids.chunks(ROWS).enumerate() {
        let sql = format!(
            "INSERT INTO learner (id, school_id, source_id, username, given_name, family_name,
                                  email, status, search_key, sort_key, version, seq, created_at,
                                  updated_at) VALUES {}",
            values(batch.len(), 14)
        );
        let mut query = sqlx::query(&sql);
        for (k, id) in batch.iter().enumerate() {
            let i = n * ROWS + k;
            let family = FAMILIES[i % FAMILIES.len()];
            query = query
                .bind(id)
                .bind(&school)
                .bind(format!("stu-{i}"))
                .bind(username(i))
                .bind(given(i))
                .bind(family)
                .bind(email(i))
                .bind("active")
                .bind(search_fold(&format!(
                    "{} {family} {}",
                    given(i),
                    username(i)
                )))
                .bind(search_fold(&format!("{family} {}", given(i))))
                .bind(1_i64)
                .bind(seq)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    let identities: Vec<(String, &String)> = learner_ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            std::iter::once((identity_key(&username(i)), id))
                .chain(email(i).map(|e| (identity_key(&e), id)))
        })
        .collect();
    for batch in identities.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO identity_key (school_id, ident, owner_id) VALUES {}",
            values(batch.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for (key, owner) in batch {
            query = query.bind(&school).bind(key).bind(*owner);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    for (n, batch) in learner_ids.chunks(ROWS).enumerate() {
        let sql = format!(
            "INSERT INTO enrollment (learner_id, class_id) VALUES {}",
            values(batch.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (k, id) in batch.iter().enumerate() {
            query = query.bind(id).bind(&class_ids[(n * ROWS + k) % CLASSES]);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if postgres_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    let file = export();
    println!(
        "first import of {LEARNERS} learners in {CLASSES} classes ({} KB zip), medians of {RUNS} alternating runs",
        file.len() / 1024
    );
    let mut missed = false;
    for backend in backends {
        let server = TestServer::start(backend).await;
        let mut imports = Vec::new();
        let mut baselines = Vec::new();
        for run in 0..RUNS {
            imports.push(import(&server, &format!("import{run}"), &file).await);
            baselines.push(baseline(&server, &format!("baseline{run}")).await);
        }
        let (import, baseline) = (median(imports), median(baselines));
        let ratio = import.as_secs_f64() / baseline.as_secs_f64();
        let met = import <= TARGET && ratio <= TARGET_RATIO;
        missed |= !met;
        println!(
            "{backend:?}: preview + apply {:.2} s; multi-row INSERTs {:.2} s; {ratio:.1} × ({})",
            import.as_secs_f64(),
            baseline.as_secs_f64(),
            if met { "targets met" } else { "TARGET MISSED" }
        );
        server.stop().await;
    }
    if missed {
        std::process::exit(1);
    }
}
