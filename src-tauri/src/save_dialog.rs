//! Where a download goes and which file an import reads: the native save and open
//! dialogs, opened from Rust so that the web page never chooses a path to write or read.
//!
//! `CLASSKEYS_SAVE_DIR` skips the save dialog and saves into that folder under the
//! suggested name: for managed installations that file exports in one place, and for the
//! end-to-end tests, which cannot drive a native dialog. `CLASSKEYS_OPEN_FILE` likewise
//! answers every open dialog with that one file.

use std::path::PathBuf;

use tauri_plugin_dialog::DialogExt;

use crate::shell::Settings;

/// Asks where to save `suggested` (a file of type `kind`, extension `extension`). `None`
/// when the teacher cancels.
pub async fn choose(
    window: &tauri::Window,
    settings: &Settings,
    suggested: &str,
    kind: &str,
    extension: &str,
) -> Option<PathBuf> {
    if let Some(dir) = &settings.save_dir {
        return Some(dir.join(suggested));
    }
    let (chosen, answer) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(window)
        .set_file_name(suggested)
        .add_filter(kind, &[extension])
        .save_file(move |path| {
            let _ = chosen.send(path);
        });
    answer.await.ok().flatten()?.into_path().ok()
}

/// Asks which file to read (of type `kind`, one of `extensions`). `None` when the teacher
/// cancels.
pub async fn open(
    window: &tauri::Window,
    settings: &Settings,
    kind: &str,
    extensions: &[&str],
) -> Option<PathBuf> {
    if let Some(file) = &settings.open_file {
        return Some(file.clone());
    }
    let (chosen, answer) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(window)
        .add_filter(kind, extensions)
        .pick_file(move |path| {
            let _ = chosen.send(path);
        });
    answer.await.ok().flatten()?.into_path().ok()
}
