//! Headless Chromium, driven through `chromedriver`, on the school server's own pages: what
//! a learner or parent sees in a real browser.
//!
//! Each [`Browser`] has its own `chromedriver` on a free port, in a process group of its own
//! that is killed on drop (Chromium and its helpers with it), and its own throwaway profile,
//! so cookies never leak from one test into another.

use std::process::Command;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::driver::{Group, find_on_path, free_port};
use classkeys_testsupport::eventually;

/// A headless Chromium window.
pub struct Browser {
    webdriver: fantoccini::Client,
    /// The site every path is relative to.
    base: String,
    _driver: Group,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens headless Chromium at phone width, for the site at `base` (`http://host:port`).
    ///
    /// # Panics
    /// When `chromedriver` or Chromium is not installed (Debian: `chromium`,
    /// `chromium-driver`), or the session cannot start.
    pub async fn open(base: &str) -> Browser {
        let program = find_on_path("chromedriver").unwrap_or_else(|| {
            panic!(
                "chromedriver is not on PATH: the browser tests drive headless Chromium through \
                 it. Install it (Debian: apt-get install chromium chromium-driver)."
            )
        });
        let profile = tempfile::tempdir().expect("a browser profile folder");
        let port = free_port();
        let log = profile.path().join("chromedriver.log");
        let driver = Group::spawn(Command::new(program).arg(format!("--port={port}")), &log);
        let chrome_options = json!({
            "binary": chromium_binary(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--password-store=basic",
                "--window-size=420,900",
                format!("--user-data-dir={}", profile.path().join("profile").display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        let url = format!("http://127.0.0.1:{port}");
        let webdriver = eventually("chromedriver opens a Chromium session", async || {
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
                .map_err(|e| {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    format!("{e}; chromedriver log: {log}")
                })
        })
        .await;
        Browser {
            webdriver,
            base: base.trim_end_matches('/').to_owned(),
            _driver: driver,
            _profile: profile,
        }
    }

    /// Opens `path` on the site, or a full URL (a link from mail).
    pub async fn visit(&self, path_or_url: &str) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        self.webdriver
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The path of the page shown (with its query).
    pub async fn path(&self) -> String {
        let url = self.webdriver.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.webdriver
            .find(Locator::Css("body"))
            .await
            .expect("a page body")
            .text()
            .await
            .expect("the page's text")
    }

    /// Types `text` into the field labelled by the element with id `id`.
    pub async fn fill(&self, id: &str, text: &str) {
        let here = self.path().await;
        let field = self
            .webdriver
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id} on {here}: {e}"));
        field.clear().await.expect("clearing a field");
        field.send_keys(text).await.expect("typing");
    }

    /// Presses the button whose text is `label`, and waits for the page it leads to.
    pub async fn press(&self, label: &str) {
        let xpath = format!("//button[normalize-space()='{label}']");
        let here = self.path().await;
        let button = self
            .webdriver
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label:?} on {here}: {e}"));
        self.navigating(button.click()).await;
    }

    /// Runs `action` (a click that leads to another page) and waits until the page it
    /// left is gone and the new one has loaded: a form's POST does not always hold the
    /// click's answer back until then.
    async fn navigating(
        &self,
        action: impl std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    ) {
        let old = self
            .webdriver
            .find(Locator::Css("html"))
            .await
            .expect("the page's root");
        action.await.expect("clicking");
        eventually("the next page has loaded", async || {
            if old.tag_name().await.is_ok() {
                return Err("the old page is still there".to_owned());
            }
            let state = self
                .webdriver
                .execute("return document.readyState", vec![])
                .await
                .map_err(|e| e.to_string())?;
            if state == "complete" {
                Ok(())
            } else {
                Err(format!("the new page is {state}"))
            }
        })
        .await;
    }

    /// Follows the link whose text is `label`.
    pub async fn follow(&self, label: &str) {
        let link = self
            .webdriver
            .find(Locator::LinkText(label))
            .await
            .unwrap_or_else(|e| panic!("no link {label:?}: {e}"));
        self.navigating(link.click()).await;
    }

    /// Whether an element with id `id` is on the page.
    pub async fn has(&self, id: &str) -> bool {
        self.webdriver.find(Locator::Id(id)).await.is_ok()
    }

    /// The accessible name of every form field on the page that has no label: none should.
    pub async fn unlabelled_fields(&self) -> Vec<String> {
        let fields = self
            .webdriver
            .find_all(Locator::Css("input:not([type=hidden])"))
            .await
            .expect("reading the fields");
        let mut unlabelled = Vec::new();
        for field in fields {
            let id = field.attr("id").await.ok().flatten().unwrap_or_default();
            let label = format!("label[for='{id}']");
            if id.is_empty() || self.webdriver.find(Locator::Css(&label)).await.is_err() {
                unlabelled.push(field.attr("name").await.ok().flatten().unwrap_or_default());
            }
        }
        unlabelled
    }

    /// Saves a PNG screenshot as `$CLASSKEYS_SCREENSHOTS/{name}.png`, when that is set.
    pub async fn screenshot(&self, name: &str) {
        if crate::screenshot_folder().is_none() {
            return;
        }
        let png = self
            .webdriver
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("taking a screenshot: {e}"));
        crate::save_screenshot(name, &png);
    }

    /// Ends the session (Chromium closes; the driver goes on drop).
    pub async fn close(self) {
        let _ = self.webdriver.clone().close().await;
    }
}

/// Debian's Chromium, or whatever `chromium` is on PATH.
fn chromium_binary() -> String {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(find_on_path)
        .map_or_else(
            || "/usr/bin/chromium".to_owned(),
            |p| p.display().to_string(),
        )
}
