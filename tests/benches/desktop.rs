//! Benchmarks of the desktop app in its real window (DESIGN §10):
//!
//! - **start to class list on screen** with a 10,000-learner replica (target ≤ 1.5 s,
//!   release build);
//! - **memory of all the app's processes** (the app, WebKit's web and network processes)
//!   with those 10,000 learners loaded and scrolled through (target ≤ 200 MB).
//!
//! Run (release, inside a D-Bus session with an unlocked keyring, on a display):
//!
//! ```text
//! cargo build --release -p classkeys-desktop
//! dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
//!     exec xvfb-run -a cargo bench -p classkeys-e2e --bench desktop'
//! ```
//!
//! The baseline, measured in the same run and interleaved with it, is the same app started
//! with an empty data folder until its sign-in screen shows: the ratio is what a signed-in
//! start with a school's worth of data costs on top of opening the window at all.
//!
//! Times come from the page itself: the app leaves a performance mark when it has painted
//! the class list (or the sign-in screen), and `performance.timeOrigin` + that mark's time
//! is compared with the wall-clock time just before the app was asked to start. Polling
//! through WebDriver only waits for the mark; it adds nothing to the figure.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use classkeys_app::{App, KeyringSecrets};
use classkeys_domain::secret::Sensitive;
use classkeys_e2e::{AppWindow, MemoryUse, eventually, memory_use};
use classkeys_server::Backend;
use classkeys_testsupport::{TestServer, seed_large_school};
use serde_json::Value;

const LEARNERS: usize = 10_000;
const CLASSES: usize = 334;
const RUNS: usize = 5;
use classkeys_testsupport::DEMO_PASSWORD as PASSWORD;

#[tokio::main]
async fn main() {
    println!(
        "desktop app, release binary {}",
        AppWindow::binary().display()
    );
    let server = TestServer::start(Backend::Sqlite).await;
    seed_large_school(&server, "bench", CLASSES, LEARNERS).await;

    // The replica a lead teacher's computer holds after signing in: the real sign-in and
    // first sync, with the session token in the real credential store.
    let data = tempfile::tempdir().expect("data folder");
    let secrets =
        Arc::new(KeyringSecrets::probe().expect(
            "a credential store: run inside dbus-run-session with an unlocked gnome-keyring",
        ));
    let app = App::open(data.path(), secrets).await.expect("app state");
    app.sign_in(
        &server.url,
        Some("bench"),
        "lead",
        &Sensitive::new(PASSWORD.into()),
    )
    .await
    .expect("signing in");
    let page = app.class_learners(None, 0, 1).await.expect("whole school");
    assert_eq!(page.total, i64::try_from(LEARNERS).expect("fits"));
    app.close().await;
    drop(app);

    let mut loaded = Vec::new();
    let mut baseline = Vec::new();
    let mut memory = None;
    let mut baseline_memory = None;
    for run in 0..RUNS {
        let empty = tempfile::tempdir().expect("empty data folder");
        let (time, window) = start(empty.path(), &server.url, "classkeys:sign-in").await;
        baseline.push(time);
        if run == RUNS - 1 {
            baseline_memory = Some(app_memory(&window));
        }
        drop(window);

        let (time, window) = start(data.path(), &server.url, "classkeys:class-list").await;
        loaded.push(time);
        let classes = window
            .webdriver()
            .execute(
                "return document.querySelectorAll('[data-testid=class-item]').length;",
                vec![],
            )
            .await
            .expect("counting classes");
        assert_eq!(
            classes.as_u64(),
            Some(CLASSES as u64),
            "every class is listed"
        );
        if run == RUNS - 1 {
            let (shown, _) = app_memory(&window);
            println!(
                "  (all processes before scrolling: {:.0} MB PSS, {:.0} MB anonymous)",
                mb(shown.pss),
                mb(shown.anonymous)
            );
            scroll_through_school(&window).await;
            memory = Some(app_memory(&window));
        }
        drop(window);
    }

    let (loaded, baseline) = (median(&mut loaded), median(&mut baseline));
    println!(
        "start to class list, {LEARNERS} learners in {CLASSES} classes (median of {RUNS}): \
         {:.0} ms; baseline (empty app to sign-in screen): {:.0} ms; ratio {:.2}x; target <= 1500 ms",
        ms(loaded),
        ms(baseline),
        ms(loaded) / ms(baseline)
    );
    let (memory, processes) = memory.expect("measured");
    let (baseline_memory, baseline_processes) = baseline_memory.expect("measured");
    println!(
        "memory of all app processes, {LEARNERS} learners loaded and scrolled through: \
         {:.0} MB PSS ({:.0} MB of it anonymous) in {processes} processes; baseline \
         (sign-in screen): {:.0} MB PSS ({:.0} MB anonymous) in {baseline_processes}; \
         ratio {:.2}x; target <= 200 MB",
        mb(memory.pss),
        mb(memory.anonymous),
        mb(baseline_memory.pss),
        mb(baseline_memory.anonymous),
        memory.pss as f64 / baseline_memory.pss as f64
    );
}

/// Starts the app on `data_dir` and returns how long it took until it set `mark`.
async fn start(data_dir: &std::path::Path, server: &str, mark: &str) -> (Duration, AppWindow) {
    let env: [(&str, OsString); 3] = [
        ("CLASSKEYS_DATA_DIR", data_dir.as_os_str().to_owned()),
        ("CLASSKEYS_SERVER", OsString::from(server)),
        // No background sync during the measurement.
        ("CLASSKEYS_SYNC_INTERVAL_SECS", OsString::from("3600")),
    ];
    let asked = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let window = AppWindow::open(&env).await;
    let script = "const m = performance.getEntriesByName(arguments[0]);
                  return m.length ? performance.timeOrigin + m[0].startTime : null;";
    let shown_at = eventually(
        &format!("the app sets the mark {mark}"),
        async || match window
            .webdriver()
            .execute(script, vec![Value::from(mark)])
            .await
        {
            Ok(Value::Number(n)) => n.as_f64().ok_or_else(|| "not a number".to_owned()),
            Ok(other) => Err(other.to_string()),
            Err(e) => Err(e.to_string()),
        },
    )
    .await;
    let took = Duration::from_secs_f64((shown_at / 1000.0 - asked.as_secs_f64()).max(0.0));
    (took, window)
}

/// Scrolls the whole school's table from top to bottom, a screen at a time, so that the
/// memory figure includes every page of learners having been fetched and drawn.
async fn scroll_through_school(window: &AppWindow) {
    let script = r#"const body = document.querySelector('#main .vbody');
        if (!body) return false;
        const before = body.scrollTop;
        body.scrollTop = before + body.clientHeight * 4;
        return body.scrollTop + body.clientHeight >= body.scrollHeight;"#;
    eventually(
        "the whole school has been scrolled through",
        async || match window.webdriver().execute(script, vec![]).await {
            Ok(Value::Bool(true)) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;
    eventually("the last rows are drawn", async || {
        match window
            .webdriver()
            .execute(
                "return document.querySelectorAll('#main .vrow.loading').length;",
                vec![],
            )
            .await
        {
            Ok(v) if v.as_u64() == Some(0) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// The memory of all the app's processes together, and how many there are.
fn app_memory(window: &AppWindow) -> (MemoryUse, usize) {
    let pids = window.app_processes();
    assert!(!pids.is_empty(), "the app's processes were not found");
    let mut total = MemoryUse::default();
    for &pid in &pids {
        let Some(used) = memory_use(pid) else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        println!(
            "  {:<16} {:>4.0} MB PSS, {:>4.0} MB anonymous",
            name.trim(),
            mb(used.pss),
            mb(used.anonymous)
        );
        total = total + used;
    }
    (total, pids.len())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}
