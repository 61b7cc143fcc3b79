//! The WebDriver processes: `tauri-driver` (with WebKitWebDriver and the app under it) and
//! `chromedriver` (with headless Chromium under it).
//!
//! Each starts in a process group of its own, and the group is killed on drop: the driver,
//! the browser or app and their helper processes all inherit the group, so a failing test
//! leaves nothing running. (A test process killed with SIGKILL runs no destructor; then the group
//! outlives it, and `pkill -g` on the id the log names is the way to end it.)

use std::ffi::OsString;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A running `tauri-driver`.
pub(crate) struct TauriDriver {
    child: Group,
    /// The WebDriver port tests talk to.
    pub(crate) port: u16,
}

/// A child process leading a process group of its own, which is killed with it on drop.
pub(crate) struct Group(Child);

impl Group {
    /// Starts `command` as the leader of a new process group, its output going to `log`.
    pub(crate) fn spawn(command: &mut Command, log: &Path) -> Group {
        let out = File::create(log).expect("creating a driver log");
        let err = out.try_clone().expect("sharing a driver log");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {:?}: {e}", command.get_program()));
        Group(child)
    }

    /// The leader's process id (also the group's).
    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // The group id is the leader's pid (process_group(0) above). SIGKILL rather than a
        // polite signal: the drivers' data folders are thrown away, so there is nothing to
        // save, and a hung browser must not hang the test run.
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

impl TauriDriver {
    /// Starts `tauri-driver` on free loopback ports. The app it will start inherits its
    /// environment, so `env` is how settings reach the app. Its output goes to `log`.
    ///
    /// # Panics
    /// When `tauri-driver` or `WebKitWebDriver` is not installed, or it cannot start.
    pub(crate) fn spawn(env: &[(&str, OsString)], log: &Path) -> TauriDriver {
        let program = tauri_driver_program();
        if find_on_path("WebKitWebDriver").is_none() {
            panic!(
                "WebKitWebDriver is not on PATH: the end-to-end tests drive the app's WebKit \
                 webview through it. Install it (Debian: apt-get install webkit2gtk-driver)."
            );
        }
        let port = free_port();
        let native_port = free_port();
        let child = Group::spawn(
            Command::new(&program)
                .arg("--port")
                .arg(port.to_string())
                .arg("--native-port")
                .arg(native_port.to_string())
                .envs(env.iter().map(|(k, v)| (k, v))),
            log,
        );
        TauriDriver { child, port }
    }
}

impl TauriDriver {
    /// The driver's process id (also its process group's).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A loopback port nothing listens on right now. Another process could take it before
/// tauri-driver binds it; on a test machine that is rare enough not to design around.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `tauri-driver` from PATH, or from where `cargo install` puts it.
fn tauri_driver_program() -> PathBuf {
    if let Some(found) = find_on_path("tauri-driver") {
        return found;
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(installed) = cargo_home.map(|c| c.join("bin").join("tauri-driver"))
        && installed.is_file()
    {
        return installed;
    }
    panic!(
        "tauri-driver is not installed (not on PATH, nor in $CARGO_HOME/bin): the end-to-end \
         tests drive the app through it. Install it with: cargo install tauri-driver --locked"
    );
}

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
