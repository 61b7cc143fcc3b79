//! One test's world: a demo server, the app in a window signed in to it (or about to be),
//! and the WebDriver session that works the window the way a teacher would, plus a few
//! ways of reading the screen that survive the UI re-rendering under them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use classkeys_client::Client;
use classkeys_server::{Backend, Settings};
use classkeys_testsupport::TestServer;
use fantoccini::elements::Element;
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::{Mutex, MutexGuard};

use crate::DEMO_PASSWORD;
use crate::driver::TauriDriver;
use classkeys_testsupport::Link;
use classkeys_testsupport::eventually;

/// One desktop at a time in this process (see the crate docs).
static TURN: Mutex<()> = Mutex::const_new(());

/// How the app reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the server's port: stopping the server is what takes the app offline.
    Direct,
    /// Through a [`Link`] the test can cut while the server stays up for other clients.
    ThroughLink,
}

/// The sync status line in the top bar, as the teacher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The words shown, such as "Offline · 1 change waiting".
    pub text: String,
    /// `online`, `offline` or `unknown` (empty before the first answer).
    pub connection: String,
    /// Changes made here that the server has not confirmed.
    pub waiting: u32,
    /// Changes that wait for the teacher's decision.
    pub conflicts: u32,
    /// Changes the server refused.
    pub rejected: u32,
}

/// A row of a learner table, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerRow {
    /// The learner's id (the row's `data-id`).
    pub id: String,
    /// The name cell: "Family, Given".
    pub name: String,
    /// The username cell.
    pub username: String,
}

/// A demo server and the app in a window, driven through WebDriver. Dropping it kills the
/// app and its driver and throws away the app's data and the server's database.
pub struct Desktop {
    // Field order is drop order: the app dies first, the turn is given up last. The data
    // folder in `work` outlives every app started on it.
    /// `None` only inside [`Desktop::restart_app_killed`], between the kill and the start.
    driver: Option<TauriDriver>,
    webdriver: fantoccini::Client,
    link: Option<Link>,
    server: TestServer,
    app_server_url: String,
    /// The app and the environment it runs with, to start it again on the same data.
    app: PathBuf,
    env: Vec<(&'static str, OsString)>,
    /// The driver's log of each app started, oldest first.
    logs: Vec<PathBuf>,
    work: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Desktop {
    /// The demo school on a fresh server, and the app on its sign-in screen, talking to the
    /// server directly.
    pub async fn start() -> Desktop {
        Self::start_with(Route::Direct).await
    }

    /// As [`Desktop::start`], choosing how the app reaches the server.
    ///
    /// # Panics
    /// When something the tests need is missing (see the crate docs), or the app does not
    /// show its sign-in screen in time.
    pub async fn start_with(route: Route) -> Desktop {
        Self::start_with_settings(route, Settings::default()).await
    }

    /// As [`Desktop::start_with`], with the server started on `settings` (its mail going
    /// to a real SMTP server, say).
    pub async fn start_with_settings(route: Route, settings: Settings) -> Desktop {
        // Checked before waiting for the turn, so a machine without a display says so at
        // once instead of after every earlier test.
        require_display();
        let app = app_binary();
        let turn = TURN.lock().await;

        let server = TestServer::start_demo_with(Backend::Sqlite, settings).await;
        let link = match route {
            Route::Direct => None,
            Route::ThroughLink => Some(Link::to(&server.url).await),
        };
        let app_server_url = link.as_ref().map_or_else(|| server.url.clone(), Link::url);

        let work = tempfile::tempdir().expect("a folder for the app's data");
        let data_dir = work.path().join("data");
        std::fs::create_dir(&data_dir).expect("creating the app's data folder");
        let log = work.path().join("tauri-driver.log");
        let downloads = work.path().join("downloads");
        std::fs::create_dir(&downloads).expect("creating the downloads folder");
        let env = vec![
            // Downloads go here without the native save dialog, which WebDriver cannot drive.
            ("CLASSKEYS_SAVE_DIR", downloads.into_os_string()),
            // And the open dialog always answers with this file.
            (
                "CLASSKEYS_OPEN_FILE",
                work.path().join("roster-file").into_os_string(),
            ),
            ("CLASSKEYS_DATA_DIR", data_dir.into_os_string()),
            ("CLASSKEYS_SERVER", OsString::from(&app_server_url)),
            // The background sync is how changes reach the server after an outage without
            // anyone clicking; once a second keeps those tests short.
            ("CLASSKEYS_SYNC_INTERVAL_SECS", OsString::from("1")),
        ];
        let driver = TauriDriver::spawn(&env, &log);
        let webdriver = open_session(&driver, &app, &log).await;
        let desktop = Desktop {
            driver: Some(driver),
            webdriver,
            link,
            server,
            app_server_url,
            app,
            env,
            logs: vec![log],
            work,
            _turn: turn,
        };
        desktop.shown("view-sign-in").await;
        desktop
    }

    /// Kills the app the way a power cut or a crash would, then starts it again on the same
    /// data folder, keyring and server address, in a new WebDriver session, and waits until
    /// it shows either the signed-in app or the sign-in screen (the caller asserts which).
    ///
    /// SIGKILL, to the process group of the driver, WebKit and the app (as dropping the
    /// driver does), rather than closing the window: the app gets no chance to save or flush
    /// anything on the way out, so what the next start finds is only what it had already
    /// made durable. The next start waits until none of the killed processes is left, so
    /// two apps never share the data folder.
    ///
    /// # Panics
    /// When the killed processes linger, or the new app does not open or show either screen.
    pub async fn restart_app_killed(&mut self) {
        let killed = self.driver.take().expect("an app is running");
        let group = killed.pid();
        drop(killed);
        eventually(
            "the killed app's processes are gone",
            async || match live_members(group) {
                0 => Ok(()),
                left => Err(format!("{left} left in process group {group}")),
            },
        )
        .await;

        let log = self
            .work
            .path()
            .join(format!("tauri-driver-{}.log", self.logs.len() + 1));
        let driver = TauriDriver::spawn(&self.env, &log);
        self.logs.push(log.clone());
        let webdriver = open_session(&driver, &self.app, &log).await;
        self.driver = Some(driver);
        // The old session's client goes now; its driver is gone, so it closes nothing.
        self.webdriver = webdriver;
        eventually(
            "the restarted app shows the signed-in app or the sign-in screen",
            async || {
                if self.is_shown("view-sign-in").await {
                    return Ok(());
                }
                let who = self.text_now("whoami").await;
                if self.is_shown("whoami").await && !who.is_empty() {
                    Ok(())
                } else {
                    Err(who)
                }
            },
        )
        .await;
    }

    /// The server.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// The server, to pause and resume it.
    pub fn server_mut(&mut self) -> &mut TestServer {
        &mut self.server
    }

    /// The link between the app and the server.
    ///
    /// # Panics
    /// When the desktop was started with [`Route::Direct`].
    pub fn link_mut(&mut self) -> &mut Link {
        self.link
            .as_mut()
            .expect("this desktop was started with Route::ThroughLink")
    }

    /// Where the app saves downloads (CSV files, login cards).
    pub fn downloads(&self) -> PathBuf {
        self.work.path().join("downloads")
    }

    /// The file the app reads whenever it asks which file to open (a roster to import).
    pub fn file_to_open(&self) -> PathBuf {
        self.work.path().join("roster-file")
    }

    /// A staff member working straight against the server with the API client, as a
    /// colleague at another computer would.
    pub async fn api(&self, username: &str) -> Client {
        self.server.staff_client(username).await
    }

    /// Signs in on the sign-in screen as the demo staff member `username`, and waits until
    /// the signed-in app shows.
    ///
    /// # Panics
    /// When the screen does not offer this test's server, the app has no credential store,
    /// or signing in fails.
    pub async fn sign_in(&self, username: &str) {
        let server = self.shown("sign-in-server").await;
        let expected = self.app_server_url.clone();
        eventually(
            "the sign-in screen suggests the test's server",
            async || {
                let value = server.prop("value").await.map_err(|e| e.to_string())?;
                if value.as_deref() == Some(expected.as_str()) {
                    Ok(())
                } else {
                    Err(format!("{value:?}"))
                }
            },
        )
        .await;
        // Known by now: the app asked for its settings before filling in the address.
        if self.is_shown("credential-warning").await {
            panic!(
                "the app has no credential store: {:?}. Run the tests inside a D-Bus session \
                 with an unlocked gnome-keyring (./scripts/test does).",
                self.text("credential-warning").await
            );
        }
        self.fill("sign-in-username", username).await;
        self.fill("sign-in-password", DEMO_PASSWORD).await;
        self.screenshot("sign-in").await;
        self.click("sign-in-submit").await;
        eventually("the app shows who is signed in", async || {
            if self.is_shown("sign-in-error").await {
                panic!("signing in failed: {}", self.text("sign-in-error").await);
            }
            let who = self.text_now("whoami").await;
            if self.is_shown("whoami").await && !who.is_empty() {
                Ok(())
            } else {
                Err(who)
            }
        })
        .await;
    }

    // --- finding and working elements ----------------------------------------------------

    /// The element with `data-testid="{testid}"`, once it exists (shown or not).
    pub async fn find(&self, testid: &str) -> Element {
        self.find_css(&testid_css(testid)).await
    }

    /// The first element matching `css`, once one exists.
    pub async fn find_css(&self, css: &str) -> Element {
        eventually(&format!("{css} exists"), async || {
            self.webdriver
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// The element with `data-testid="{testid}"`, once it is shown.
    pub async fn shown(&self, testid: &str) -> Element {
        let css = testid_css(testid);
        eventually(&format!("{testid} is shown"), async || {
            let element = self
                .webdriver
                .find(Locator::Css(&css))
                .await
                .map_err(|e| e.to_string())?;
            match element.is_displayed().await {
                Ok(true) => Ok(element),
                Ok(false) => Err("present but hidden".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// Whether the element with `data-testid="{testid}"` is on screen right now.
    pub async fn is_shown(&self, testid: &str) -> bool {
        match self.webdriver.find(Locator::Css(&testid_css(testid))).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Clicks the element with `data-testid="{testid}"` once it is shown and clickable
    /// (not covered by, say, a toast).
    pub async fn click(&self, testid: &str) {
        self.click_css(&testid_css(testid)).await;
    }

    /// Clicks the first element matching `css` once it is shown and clickable.
    pub async fn click_css(&self, css: &str) {
        eventually(&format!("{css} can be clicked"), async || {
            let element = self
                .webdriver
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            element.click().await.map_err(|e| e.to_string())
        })
        .await;
    }

    /// Replaces the text of the input `data-testid="{testid}"` by typing `text` into it.
    pub async fn fill(&self, testid: &str, text: &str) {
        let css = testid_css(testid);
        eventually(&format!("{testid} takes the text {text:?}"), async || {
            let element = self
                .webdriver
                .find(Locator::Css(&css))
                .await
                .map_err(|e| e.to_string())?;
            element.clear().await.map_err(|e| e.to_string())?;
            element.send_keys(text).await.map_err(|e| e.to_string())?;
            match element.prop("value").await {
                Ok(Some(value)) if value == text => Ok(()),
                Ok(value) => Err(format!("the field holds {value:?}")),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    }

    /// The text of the element `data-testid="{testid}"` as shown (trimmed), once it is shown.
    pub async fn text(&self, testid: &str) -> String {
        let css = testid_css(testid);
        // Looked up afresh on every try: lists are redrawn under the test's feet, and an
        // element from before a redraw answers only "stale".
        eventually(&format!("{testid} is shown"), async || {
            let element = self
                .webdriver
                .find(Locator::Css(&css))
                .await
                .map_err(|e| e.to_string())?;
            match element.is_displayed().await {
                // innerText, not WebDriver's element text: WebKitWebDriver answers "" for
                // the text of a <button>.
                Ok(true) => match self
                    .webdriver
                    .execute(
                        "return arguments[0].innerText;",
                        vec![serde_json::to_value(&element).map_err(|e| e.to_string())?],
                    )
                    .await
                {
                    Ok(Value::String(text)) => Ok(text.trim().to_owned()),
                    Ok(other) => Err(other.to_string()),
                    Err(e) => Err(e.to_string()),
                },
                Ok(false) => Err("present but hidden".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// The text content of the first element `data-testid="{testid}"` right now, shown or
    /// not; empty when there is none.
    pub async fn text_now(&self, testid: &str) -> String {
        let found = self
            .js(
                "const el = document.querySelector(arguments[0]); return el ? el.textContent : '';",
                vec![json!(testid_css(testid))],
            )
            .await;
        found.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the element `data-testid="{testid}"` shows exactly `expected`.
    pub async fn wait_for_text(&self, testid: &str, expected: &str) {
        eventually(&format!("{testid} reads {expected:?}"), async || {
            let text = self.text_now(testid).await;
            if text.trim() == expected && self.is_shown(testid).await {
                Ok(())
            } else {
                Err(text)
            }
        })
        .await;
    }

    /// Waits until the element `data-testid="{testid}"` is shown with some text, and returns
    /// that text.
    pub async fn wait_for_nonempty(&self, testid: &str) -> String {
        eventually(&format!("{testid} shows some text"), async || {
            let text = self.text_now(testid).await;
            if !text.trim().is_empty() && self.is_shown(testid).await {
                Ok(text.trim().to_owned())
            } else {
                Err(text)
            }
        })
        .await
    }

    /// Runs `script` in the window (arguments as `arguments[i]`) and returns its answer.
    ///
    /// # Panics
    /// When the script throws or WebDriver fails.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.webdriver
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("running a script in the window: {e}"))
    }

    /// The text of the alert dialog open in the window, if there is one.
    pub async fn open_alert(&self) -> Option<String> {
        match self.webdriver.get_alert_text().await {
            Ok(text) => Some(text),
            Err(e) if e.is_no_such_alert() => None,
            Err(e) => panic!("asking WebDriver for an alert: {e}"),
        }
    }

    // --- reading the screens -------------------------------------------------------------

    /// The sync status line as it is now.
    pub async fn status(&self) -> Status {
        let seen = self
            .js(
                r#"const el = document.querySelector('[data-testid="sync-status"]');
                   return { text: el.textContent, connection: el.dataset.connection ?? '',
                            waiting: el.dataset.waiting ?? '0', conflicts: el.dataset.conflicts ?? '0',
                            rejected: el.dataset.rejected ?? '0' };"#,
                vec![],
            )
            .await;
        let field = |name: &str| seen[name].as_str().unwrap_or_default().to_owned();
        let count = |name: &str| field(name).parse().unwrap_or(u32::MAX);
        Status {
            text: field("text"),
            connection: field("connection"),
            waiting: count("waiting"),
            conflicts: count("conflicts"),
            rejected: count("rejected"),
        }
    }

    /// Waits until the status line satisfies `wanted` (described by `what`), and returns it.
    pub async fn wait_for_status(&self, what: &str, wanted: impl Fn(&Status) -> bool) -> Status {
        eventually(&format!("the status line says {what}"), async || {
            let status = self.status().await;
            if wanted(&status) {
                Ok(status)
            } else {
                Err(status)
            }
        })
        .await
    }

    /// The names of the classes in the sidebar, in order (without "Whole school").
    pub async fn class_names(&self) -> Vec<String> {
        let names = self
            .js(
                r#"return [...document.querySelectorAll('[data-testid="class-item"]')]
                       .map((el) => el.dataset.className);"#,
                vec![],
            )
            .await;
        strings(&names)
    }

    /// The learner rows the current screen has drawn, top to bottom. A long table only
    /// draws the rows in view and a few either side.
    pub async fn rows(&self) -> Vec<LearnerRow> {
        let rows = self
            .js(
                r#"return [...document.querySelectorAll('#main [data-testid="learner-row"]')]
                       .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
                       .map((row) => ({
                           id: row.dataset.id,
                           name: row.querySelector('[data-testid="learner-name"]')?.textContent ?? '',
                           username: row.querySelector('[data-testid="learner-username"]')?.textContent ?? '',
                       }));"#,
                vec![],
            )
            .await;
        rows.as_array()
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        let field = |name: &str| row[name].as_str().unwrap_or_default().to_owned();
                        LearnerRow {
                            id: field("id"),
                            name: field("name"),
                            username: field("username"),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Opens the class `name` from the sidebar and waits for its screen.
    pub async fn open_class(&self, name: &str) {
        self.click_css(&format!(
            r#"[data-testid="class-item"][data-class-name="{}"]"#,
            css_string(name)
        ))
        .await;
        self.wait_for_text("class-title", name).await;
    }

    /// Types `query` into the search box and waits until the results for it are shown.
    pub async fn search(&self, query: &str) {
        self.fill("search", query).await;
        self.shown("view-search").await;
        eventually(
            &format!("the search for {query:?} has answered"),
            async || {
                let summary = self.text_now("search-summary").await;
                if summary.contains(&format!("“{query}”")) {
                    Ok(())
                } else {
                    Err(summary)
                }
            },
        )
        .await;
    }

    /// The row of learner `id` in the table on screen, scrolling the table until it is
    /// drawn.
    pub async fn row(&self, id: &str) -> LearnerRow {
        eventually(&format!("the row of learner {id} is drawn"), async || {
            let rows = self.rows().await;
            if let Some(row) = rows.iter().find(|row| row.id == id) {
                return Ok(row.clone());
            }
            self.scroll_table().await;
            Err(rows)
        })
        .await
    }

    /// Opens the learner `id` from the table on screen, scrolling it until the row is
    /// drawn, and waits until the learner screen shows them.
    pub async fn open_learner(&self, id: &str) {
        let css = format!(
            r#"#main [data-testid="learner-row"][data-id="{}"]"#,
            css_string(id)
        );
        eventually(
            &format!("the row of learner {id} can be opened"),
            async || match self.webdriver.find(Locator::Css(&css)).await {
                Ok(row) => row.click().await.map_err(|e| e.to_string()),
                Err(e) => {
                    self.scroll_table().await;
                    Err(e.to_string())
                }
            },
        )
        .await;
        self.shown("view-learner").await;
        self.shown("learner-title").await;
    }

    /// Scrolls the table on screen one screen down, or back to the top from the bottom.
    async fn scroll_table(&self) {
        self.js(
            r#"const body = document.querySelector('#main .vbody');
               if (body) body.scrollTop = body.scrollTop + body.clientHeight >= body.scrollHeight
                   ? 0 : body.scrollTop + body.clientHeight;"#,
            vec![],
        )
        .await;
    }

    /// Saves a PNG screenshot as `$CLASSKEYS_SCREENSHOTS/{name}.png`, when that is set.
    pub async fn screenshot(&self, name: &str) {
        if crate::screenshot_folder().is_none() {
            return;
        }
        // Toasts and loading rows fade on their own; a picture of a settled screen is what
        // the README wants, so put away the toast and wait for the table (if any) to load.
        self.js("document.getElementById('toast').hidden = true;", vec![])
            .await;
        eventually("the screen has settled", async || {
            let loading = self
                .js(
                    "return document.querySelectorAll('#main .vrow.loading').length;",
                    vec![],
                )
                .await;
            if loading.as_u64() == Some(0) {
                Ok(())
            } else {
                Err(loading)
            }
        })
        .await;
        let png = self
            .webdriver
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("taking a screenshot: {e}"));
        crate::save_screenshot(name, &png);
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // The app's own complaints are the best clue to a failure; show the end of them.
        if std::thread::panicking() {
            for log in &self.logs {
                print_log_tail(log);
            }
        }
    }
}

/// Opens the WebDriver session, which starts the app. tauri-driver needs a moment before
/// it answers; anything but "not listening yet" is a failure with the driver's log shown.
pub(crate) async fn open_session(
    driver: &TauriDriver,
    app: &Path,
    log: &Path,
) -> fantoccini::Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("wry"));
    capabilities.insert(
        "tauri:options".into(),
        json!({ "application": app.to_string_lossy() }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    eventually("tauri-driver opens a session on the app", async || {
        let session = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&url)
            .await;
        match session {
            Ok(client) => Ok(client),
            Err(
                e @ (fantoccini::error::NewSessionError::Failed(_)
                | fantoccini::error::NewSessionError::FailedC(_)
                | fantoccini::error::NewSessionError::Lost(_)),
            ) => Err(e.to_string()),
            Err(e) => {
                print_log_tail(log);
                panic!(
                    "tauri-driver could not start the app {}: {e}",
                    app.display()
                )
            }
        }
    })
    .await
}

/// The app to test: `$CLASSKEYS_DESKTOP_BIN`, or `classkeys-desktop` beside this test
/// binary's `deps/` folder (the same target folder and profile).
pub(crate) fn app_binary() -> PathBuf {
    let (app, how) = match std::env::var_os("CLASSKEYS_DESKTOP_BIN").filter(|p| !p.is_empty()) {
        Some(path) => (PathBuf::from(path), "CLASSKEYS_DESKTOP_BIN"),
        None => {
            let me = std::env::current_exe().expect("the test binary's path");
            let profile_dir = me
                .parent()
                .and_then(Path::parent)
                .expect("the test binary lives in <target>/<profile>/deps");
            (profile_dir.join("classkeys-desktop"), "the target folder")
        }
    };
    if !app.is_file() {
        panic!(
            "the desktop app is not built: no {} (from {how}). Build it with cargo build -p \
             classkeys-desktop",
            app.display()
        );
    }
    std::fs::canonicalize(&app).unwrap_or(app)
}

pub(crate) fn require_display() {
    if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        panic!(
            "no DISPLAY: the end-to-end tests open the app in a real window. Run them under \
             xvfb-run -a (./scripts/test does), or from a desktop session."
        );
    }
}

/// How many processes of process group `group` are still running (not zombies), from
/// `/proc`.
fn live_members(group: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // After the command name's last ')': state, parent, process group.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().take(3).collect())
                .unwrap_or_default();
            matches!(fields.as_slice(), [state, _, pgrp]
                if *pgrp == group.to_string() && *state != "Z" && *state != "X")
        })
        .count()
}

fn print_log_tail(log: &Path) {
    const LINES: usize = 80;
    if let Ok(text) = std::fs::read_to_string(log) {
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(LINES)..];
        eprintln!(
            "--- last {} lines of {} ---\n{}\n--- end of log ---",
            tail.len(),
            log.display(),
            tail.join("\n")
        );
    }
}

fn testid_css(testid: &str) -> String {
    format!(r#"[data-testid="{}"]"#, css_string(testid))
}

/// `text` made safe inside a double-quoted CSS string.
fn css_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
