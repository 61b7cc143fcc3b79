//! Benchmarks for credentials (DESIGN §10), each against a baseline measured in the same run:
//!
//! 1. one argon2id hash (m = 19 MiB, t = 2, p = 1) against the C reference implementation
//!    (`argon2` command, Debian package `argon2`): target ≤ 1.1 ×;
//! 2. bulk hashing of 2,000 passwords: target ≥ 0.85 × the C reference run at the same
//!    parallelism (and, for the record, against cores ÷ one-hash time);
//! 3. a class of 30 reset with individual passwords over loopback: target
//!    ≤ 1.3 × (30 × one hash ÷ cores);
//! 4. the school-wide access-code export of 100,000 learners, unsealing included: target
//!    ≤ 0.5 s, and ≤ 3 × `sqlite3 -csv` dumping the same rows (on PostgreSQL, with
//!    `CLASSKEYS_BENCH_BACKEND=postgres`, against `psql` with `\copy … TO STDOUT WITH CSV`);
//! 5. a class of 30 reset while 300 learner sign-ins with wrong passwords arrive at once
//!    (each from an address of its own, through a trusted proxy, so per-address throttling
//!    does not thin them out), and again while 300 clients send them without pause: target
//!    ≤ 2 × the same reset unloaded, with the process's peak memory reported.
//!
//! Run with `cargo bench -p classkeys-server --bench credentials` (`CLASSKEYS_BENCH_LEARNERS`
//! changes the export's school size; seeding 100,000 learners takes a few minutes).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use classkeys_client::Client;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{ClassPasswordReset, SchoolExportKind, SchoolExportRequest};
use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::Backend;
use classkeys_server::password::{PasswordHasher, Work, hash_blocking};
use classkeys_testsupport::{
    TestServer, new_passwords, seed_large_school, seed_sealed_credentials,
};

use classkeys_testsupport::DEMO_PASSWORD as PASSWORD;
const RUNS: usize = 7;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[tokio::main]
async fn main() {
    match std::env::var("CLASSKEYS_BENCH_ONLY").as_deref() {
        Ok("export") => return school_export().await,
        Ok("hashing") => return bulk_hashing(argon2_against_reference()).await,
        Ok("flood") => return reset_under_flood().await,
        _ => {}
    }
    let one_hash = argon2_against_reference();
    bulk_hashing(one_hash).await;
    class_reset(one_hash).await;
    reset_under_flood().await;
    school_export().await;
}

/// One run of the C reference `argon2` command (Debian package `argon2`), process start
/// included.
fn reference(memory_kib: &str, passes: &str) -> Duration {
    let start = Instant::now();
    let mut child = Command::new("argon2")
        .args([
            "saltsaltsaltsalt",
            "-id",
            "-t",
            passes,
            "-k",
            memory_kib,
            "-p",
            "1",
            "-l",
            "32",
            "-r",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the C reference `argon2` is installed (Debian package argon2)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple")
        .unwrap();
    assert!(child.wait().unwrap().success());
    start.elapsed()
}

/// Our argon2id in this process against the C reference, both single-threaded.
fn argon2_against_reference() -> Duration {
    let ours = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                hash_blocking(b"correct horse battery staple").unwrap();
                start.elapsed()
            })
            .collect(),
    );
    // Starting a process costs something too: measured with a negligible hash, and taken off.
    let start_up = median((0..RUNS).map(|_| reference("8", "1")).collect());
    let c = median((0..RUNS).map(|_| reference("19456", "2")).collect());
    let c = c.saturating_sub(start_up);
    println!(
        "argon2id m=19456 KiB t=2 p=1: ours {} · C reference {} (process start {} taken off) · ratio {:.2} (target ≤ 1.10)",
        ms(ours),
        ms(c),
        ms(start_up),
        ours.as_secs_f64() / c.as_secs_f64()
    );
    ours
}

async fn bulk_hashing(one_hash: Duration) {
    const N: usize = 2_000;
    let hasher = PasswordHasher::new();
    let passwords: Vec<Sensitive<String>> = (0..N)
        .map(|_| generator::generate(PasswordStyle::Words, &mut rand::rng()))
        .collect();
    let start = Instant::now();
    hasher.hash_many(Work::Staff, passwords).await.unwrap();
    let took = start.elapsed();
    let rate = N as f64 / took.as_secs_f64();
    let ideal = cores() as f64 / one_hash.as_secs_f64();

    // The C reference at the same parallelism: one process after another on each core, the
    // cost of starting each process taken off as in the single-hash comparison.
    const PER_CORE: usize = 60;
    let start_up = median((0..RUNS).map(|_| reference("8", "1")).collect());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores() {
            scope.spawn(|| {
                for _ in 0..PER_CORE {
                    reference("19456", "2");
                }
            });
        }
    });
    let c_took = start
        .elapsed()
        .saturating_sub(start_up.mul_f64(PER_CORE as f64));
    let c_rate = (PER_CORE * cores()) as f64 / c_took.as_secs_f64();
    println!(
        "bulk hashing of {N}: {:.1} s, {rate:.1} hashes/s · C reference at the same parallelism ({} cores × {PER_CORE}): {c_rate:.1}/s · ratio {:.2} (target ≥ 0.85) · cores ÷ one hash {ideal:.1}/s, ratio {:.2}",
        took.as_secs_f64(),
        cores(),
        rate / c_rate,
        rate / ideal
    );
}

async fn sign_in_lead(server: &TestServer, school: &str) -> Client {
    Client::new(&server.url)
        .unwrap()
        .sign_in(&SignInRequest {
            school: Some(school.into()),
            username: "lead".into(),
            password: PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap()
        .0
}

async fn class_reset(one_hash: Duration) {
    let server = TestServer::start(Backend::Sqlite).await;
    // 10 classes of 30.
    seed_large_school(&server, "reset", 10, 300).await;
    let lead = sign_in_lead(&server, "reset").await;
    let classes = lead.classes().await.unwrap();
    let took =
        median(futures_in_order(classes.iter().take(RUNS).map(|c| timed_reset(&lead, c))).await);
    let ideal = one_hash.mul_f64(30.0 / cores() as f64);
    println!(
        "class of 30, individual passwords, loopback: {} · ideal 30 × {} ÷ {} cores = {} · ratio {:.2} (target ≤ 1.30)",
        ms(took),
        ms(one_hash),
        cores(),
        ms(ideal),
        took.as_secs_f64() / ideal.as_secs_f64()
    );
    server.stop().await;
}

async fn timed_reset(lead: &Client, class: &classkeys_protocol::roster::ClassRecord) -> Duration {
    let learners = lead
        .learners(&LearnerQuery {
            class_id: Some(class.id),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let passwords = new_passwords(&learners, PasswordStyle::Words);
    assert_eq!(passwords.len(), 30, "every benchmark class has 30 learners");
    let start = Instant::now();
    lead.class_passwords_reset(
        class.id,
        &ClassPasswordReset::Individual {
            passwords,
            must_change: false,
        },
    )
    .await
    .unwrap();
    start.elapsed()
}

/// This process's peak resident memory so far (`VmHWM`), in MiB.
fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn reset_under_flood() {
    let mut settings = classkeys_server::Settings {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Default::default()
    };
    // The flood is to reach the hashing slots: the address and school limits, which would
    // soon turn all of it away with 429, are lifted for the measurement.
    settings.throttle.per_address = i64::MAX;
    settings.throttle.per_school = i64::MAX;
    let server = TestServer::start_with(Backend::Sqlite, settings).await;
    seed_large_school(&server, "flood", 10, 300).await;
    let lead = sign_in_lead(&server, "flood").await;
    let classes = lead.classes().await.unwrap();
    const ROUNDS: usize = 3;
    let unloaded =
        median(futures_in_order(classes[..ROUNDS].iter().map(|c| timed_reset(&lead, c))).await);
    let memory_before = peak_memory_mib();
    for (round, sustained) in [(1, false), (2, true)] {
        let classes = &classes[round * ROUNDS..(round + 1) * ROUNDS];
        let mut samples = Vec::new();
        let (mut checked, mut turned_away) = (0, 0);
        for class in classes {
            let flood = Flood::start(&server.url, sustained);
            samples.push(timed_reset(&lead, class).await);
            let (c, t) = flood.stop().await;
            checked += c;
            turned_away += t;
        }
        let loaded = median(samples);
        println!(
            "class of 30 reset during {}: {} · unloaded {} · ratio {:.2} (target ≤ 2.00) · sign-ins checked {checked}, turned away {turned_away} · peak memory {:.0} MiB before, {:.0} MiB after",
            if sustained {
                "a storm of 300 clients sending sign-ins without pause"
            } else {
                "300 parallel learner sign-ins"
            },
            ms(loaded),
            ms(unloaded),
            loaded.as_secs_f64() / unloaded.as_secs_f64(),
            memory_before,
            peak_memory_mib(),
        );
    }
    server.stop().await;
}

/// 300 clients sending learner sign-ins with wrong passwords, each from an address of its
/// own: once each, or (`sustained`) again and again until stopped.
struct Flood {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<(usize, usize)>>,
}

impl Flood {
    const CLIENTS: usize = 300;

    fn start(url: &str, sustained: bool) -> Flood {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let clients = (0..Self::CLIENTS)
            .map(|i| {
                let client = Client::new(url).unwrap();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let address = format!("198.18.{}.{}", i / 250, i % 250 + 1);
                    let body = serde_json::json!({"school": "flood",
                        "username": format!("learner{i:05}"), "password": "wrong-password"});
                    let (mut checked, mut turned_away) = (0, 0);
                    loop {
                        let (status, _) = client
                            .raw_forwarded(
                                classkeys_protocol::paths::LEARNER_SIGN_IN,
                                &address,
                                body.clone(),
                            )
                            .await
                            .unwrap();
                        match status {
                            401 => checked += 1,
                            429 | 503 => turned_away += 1,
                            other => panic!("a sign-in answered {other}"),
                        }
                        if !sustained || stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return (checked, turned_away);
                        }
                    }
                })
            })
            .collect();
        Flood { stop, clients }
    }

    /// Stops it; how many sign-ins were checked, and how many turned away.
    async fn stop(self) -> (usize, usize) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut totals = (0, 0);
        for client in self.clients {
            let (c, t) = client.await.unwrap();
            totals.0 += c;
            totals.1 += t;
        }
        totals
    }
}

/// Awaits futures one after another, collecting their outputs.
async fn futures_in_order<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut out = Vec::new();
    for future in futures {
        out.push(future.await);
    }
    out
}

async fn school_export() {
    let learners: usize = std::env::var("CLASSKEYS_BENCH_LEARNERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let backend = match std::env::var("CLASSKEYS_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let server = TestServer::start(backend).await;
    let seeding = Instant::now();
    seed_large_school(&server, "export", learners / 30, learners).await;
    seed_sealed_credentials(&server, "export").await;
    println!(
        "seeded {learners} learners with sealed codes on {backend:?} in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );
    let lead = sign_in_lead(&server, "export").await;
    let request = SchoolExportRequest {
        kind: SchoolExportKind::AccessCodes,
        password: PASSWORD.into(),
    };
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let csv = lead.school_export(&request).await.unwrap();
        samples.push(start.elapsed());
        size = csv.len();
        let rows = csv.iter().filter(|b| **b == b'\n').count() - 1;
        assert_eq!(rows, learners, "every learner exported");
    }
    let took = median(samples);

    // The baseline: the database's own shell dumping the same rows (sealed, as stored) as
    // CSV: `sqlite3 -csv`, or `psql` with `\copy … TO STDOUT WITH CSV`.
    let query = "SELECT c.name, l.given_name, l.family_name, l.username, l.password_sealed,
                        l.parent_code_sealed FROM learner l
                 JOIN enrollment e ON e.learner_id = l.id JOIN class c ON c.id = e.class_id
                 ORDER BY l.sort_key";
    let url = server.database_url().to_owned();
    let (shell, mut command) = match backend {
        Backend::Sqlite => {
            let mut command = Command::new("sqlite3");
            command.args(["-csv", url.strip_prefix("sqlite://").unwrap(), query]);
            ("sqlite3 -csv", command)
        }
        Backend::Postgres => {
            let mut command = Command::new("psql");
            let copy = format!("\\copy ({}) TO STDOUT WITH CSV", query.replace('\n', " "));
            command.args([url.as_str(), "-X", "-q", "-c", &copy]);
            ("psql \\copy", command)
        }
    };
    let mut dump = || {
        let start = Instant::now();
        let out = command
            .output()
            .expect("the database shell is installed (Debian packages sqlite3, postgresql-client)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.len() > learners * 50);
        start.elapsed()
    };
    let baseline = median((0..RUNS).map(|_| dump()).collect());
    println!(
        "school export of {learners} learners on {backend:?} (re-authentication, unsealing 2 × {learners}, CSV, HTTP): {} for {:.1} MB · {shell} of the same rows {} · ratio {:.2} (targets ≤ 500 ms, ≤ 3.00)",
        ms(took),
        size as f64 / 1e6,
        ms(baseline),
        took.as_secs_f64() / baseline.as_secs_f64()
    );
    server.stop().await;
}
