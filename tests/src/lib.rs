//! End-to-end tests of ClassKeys for teachers: the real desktop app (`classkeys-desktop`) in
//! a real window, driven through `tauri-driver` and WebKitWebDriver, against a real school
//! server on loopback (DESIGN §9). The tests themselves live in `tests/e2e.rs`; this crate is
//! their harness. The school's own pages, for learners, are tested the same way in headless
//! Chromium through `chromedriver` ([`Browser`], `tests/pages.rs`).
//!
//! Each test gets a [`Desktop`]: its own demo server ([`TestServer`], SQLite, the demo school
//! seeded), its own app data folder, and its own `tauri-driver` on free ports, started in a
//! process group of its own so that dropping the [`Desktop`] kills the driver, WebKit and the
//! app together, also when the test fails. Only one [`Desktop`] exists at a time in a test
//! process (WebKit is heavy, and two windows fighting for two cores make every deadline
//! flaky): [`Desktop::start`] waits for the previous one to go. Running the binary with
//! `--test-threads=1` gives the same order with tidier output.
//!
//! # What it needs
//!
//! - An X display (`DISPLAY`): `xvfb-run -a` gives one without a screen.
//! - A Secret Service for the app's session token: a session bus with an unlocked
//!   gnome-keyring (`dbus-run-session`, then `gnome-keyring-daemon --unlock`).
//! - `tauri-driver` (`cargo install tauri-driver --locked`) and `WebKitWebDriver` (Debian's
//!   `webkit2gtk-driver`).
//! - The app, built: `cargo build -p classkeys-desktop`. The harness runs
//!   `$CLASSKEYS_DESKTOP_BIN` if set, otherwise `classkeys-desktop` from the same target
//!   folder as the test binary.
//!
//! Any of these missing fails the test with a message saying what to do; nothing skips.
//! `./scripts/test` provides all of them. By hand:
//!
//! ```text
//! cargo build -p classkeys-desktop
//! dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
//!     exec xvfb-run -a cargo test -p classkeys-e2e -- --test-threads=1'
//! ```
//!
//! With `CLASSKEYS_SCREENSHOTS=DIR`, tests save PNG screenshots of the key screens there
//! (the README's pictures).

mod browser;
mod desktop;
mod driver;
mod window;

pub use browser::Browser;
pub use classkeys_testsupport::{DEMO_PASSWORD, Link, TestServer, eventually};
pub use desktop::{Desktop, LearnerRow, Route, Status};
pub use window::{AppWindow, MemoryUse, memory_use};

/// Where screenshots go: `$CLASSKEYS_SCREENSHOTS`, when set.
pub(crate) fn screenshot_folder() -> Option<std::path::PathBuf> {
    std::env::var_os("CLASSKEYS_SCREENSHOTS")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
}

/// Saves `png` as `{name}.png` in the screenshot folder, when there is one.
pub(crate) fn save_screenshot(name: &str, png: &[u8]) {
    let Some(dir) = screenshot_folder() else {
        return;
    };
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("{name}.png")), png))
        .unwrap_or_else(|e| panic!("saving a screenshot in {}: {e}", dir.display()));
}
