//! Where a download goes: the native save dialog, opened from Rust so that the web page
//! never chooses a path to write.
//!
//! `CLASSKEYS_SAVE_DIR` skips the dialog and saves into that folder under the suggested
//! name: for managed installations that file exports in one place, and for the end-to-end
//! tests, which cannot drive a native dialog.

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
