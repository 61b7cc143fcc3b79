//! The app in a window on its own, without a demo school: for benchmarks, which bring their
//! own server and their own prepared data folder, and measure the app's processes.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::desktop::{app_binary, open_session, require_display};
use crate::driver::TauriDriver;

/// The app, started through `tauri-driver` with the given environment. Dropping it kills
/// the driver, the app and WebKit's processes.
pub struct AppWindow {
    // Field order is drop order: the session goes before the driver that serves it.
    webdriver: fantoccini::Client,
    driver: TauriDriver,
    _log: tempfile::TempDir,
}

impl AppWindow {
    /// Starts the app (see [`AppWindow::binary`]) with `env` added to its environment and
    /// returns once the WebDriver session is open.
    ///
    /// # Panics
    /// When there is no display, tauri-driver or the app is missing, or the app fails to open.
    pub async fn open(env: &[(&str, OsString)]) -> AppWindow {
        require_display();
        let app = app_binary();
        let log_dir = tempfile::tempdir().expect("a folder for the driver's log");
        let log = log_dir.path().join("tauri-driver.log");
        let driver = TauriDriver::spawn(env, &log);
        let webdriver = open_session(&driver, &app, &log).await;
        AppWindow {
            webdriver,
            driver,
            _log: log_dir,
        }
    }

    /// The app binary the window runs: `$CLASSKEYS_DESKTOP_BIN`, or `classkeys-desktop` in
    /// the same target folder and profile as the running test or benchmark.
    pub fn binary() -> PathBuf {
        app_binary()
    }

    /// The WebDriver session on the window.
    pub fn webdriver(&self) -> &fantoccini::Client {
        &self.webdriver
    }

    /// The app's processes: `classkeys-desktop` and everything it started (WebKit's web
    /// and network processes), by process id.
    pub fn app_processes(&self) -> Vec<u32> {
        let parents = process_parents();
        let under = |pid: u32, ancestor: u32| {
            let mut at = pid;
            while let Some(&parent) = parents.get(&at) {
                if parent == ancestor {
                    return true;
                }
                at = parent;
            }
            false
        };
        let driver = self.driver.pid();
        let Some(app) = parents.keys().copied().find(|&pid| {
            under(pid, driver)
                && command_name(pid).is_some_and(|c| c.starts_with("classkeys-deskt"))
        }) else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = parents.keys().copied().filter(|&p| under(p, app)).collect();
        pids.push(app);
        pids.sort_unstable();
        pids
    }
}

/// How much memory a process holds, from `/proc/PID/smaps_rollup`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUse {
    /// Proportional set size in bytes: private memory plus a share of memory shared with
    /// other processes, so summing it over several processes counts shared pages once.
    pub pss: u64,
    /// The anonymous part of `pss` (heaps, buffers: memory no file backs), in bytes. The
    /// rest is pages of files — mostly the code of the libraries — that the system can drop
    /// and read again when memory runs short.
    pub anonymous: u64,
}

impl std::ops::Add for MemoryUse {
    type Output = MemoryUse;
    fn add(self, other: MemoryUse) -> MemoryUse {
        MemoryUse {
            pss: self.pss + other.pss,
            anonymous: self.anonymous + other.anonymous,
        }
    }
}

/// The memory process `pid` holds, if it still exists.
pub fn memory_use(pid: u32) -> Option<MemoryUse> {
    let rollup = std::fs::read_to_string(proc_path(pid, "smaps_rollup")).ok()?;
    let field = |name: &str| {
        rollup
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
    };
    Some(MemoryUse {
        pss: field("Pss:")?,
        anonymous: field("Pss_Anon:")?,
    })
}

/// Every process's parent, read from `/proc`.
fn process_parents() -> HashMap<u32, u32> {
    let mut parents = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return parents;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // The command name may hold spaces and parentheses; the fields after its last ')'
        // are plain: state, then the parent's id.
        if let Ok(stat) = std::fs::read_to_string(proc_path(pid, "stat"))
            && let Some((_, rest)) = stat.rsplit_once(')')
            && let Some(parent) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok())
        {
            parents.insert(pid, parent);
        }
    }
    parents
}

fn command_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(proc_path(pid, "comm"))
        .ok()
        .map(|c| c.trim().to_owned())
}

fn proc_path(pid: u32, file: &str) -> PathBuf {
    Path::new("/proc").join(pid.to_string()).join(file)
}
