//! ClassKeys for teachers: the desktop app's shell.
//!
//! This crate is the only one that knows about Tauri (DESIGN §2). It builds the one
//! [`classkeys_app::App`] at start, hands it to every command as managed state, runs the
//! background sync, and opens the window on `ui/`. Each command in [`commands`] is a short
//! adapter: take state, call one `classkeys-app` function, return its `{code, message}`
//! error unchanged.
//!
//! Settings from the environment (all optional):
//! - `CLASSKEYS_DATA_DIR`: where the replica lives (default: the OS's app-data folder).
//! - `CLASSKEYS_SERVER`: the server address the sign-in screen suggests.
//! - `CLASSKEYS_SYNC_INTERVAL_SECS`: how often the app syncs in the background (default 30).
//! - `CLASSKEYS_SAVE_DIR`: save downloads (CSV, login cards) into this folder instead of
//!   asking with the save dialog.
//! - `CLASSKEYS_OPEN_FILE`: read this file when a roster import asks which file to read,
//!   instead of asking with the open dialog.

// Without this a Windows release build would also open a console window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The list build.rs turns into the app manifest; the binary needs it only in tests.
#[cfg(test)]
mod command_names;
mod commands;
mod save_dialog;
mod shell;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLASSKEYS_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = shell::run() {
        eprintln!("ClassKeys could not start: {e}");
        std::process::exit(1);
    }
}
