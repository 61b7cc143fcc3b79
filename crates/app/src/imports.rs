//! Importing the school's roster from its information system (lead teachers): the file a
//! lead teacher chose on this computer is previewed by the server, shown as tables, and
//! applied when they agree. Both steps need the server, which plans against the school as
//! it is and applies the plan as one change; afterwards a sync brings the new classes and
//! learners to this computer's copy.

use std::path::Path;

use classkeys_domain::ids::ImportId;
use classkeys_domain::policy::{Action, Resource};
use classkeys_protocol::imports::{ImportApplied, ImportPreview, ImportQuery, too_large};
use serde::Serialize;

use crate::credentials::needs_server;
use crate::{App, AppError, AppErrorCode, Result, edits};

/// A preview, with the name of the file it is of.
#[derive(Debug, Clone, Serialize)]
pub struct ImportView {
    pub file_name: String,
    pub preview: ImportPreview,
}

impl App {
    /// Whether the signed-in member of staff may import: asked before a file is chosen.
    pub fn import_allowed(&self) -> Result<()> {
        let session = self.signed_in()?;
        let school = Resource::School {
            school: session.account.staff.school_id,
        };
        edits::allow(&session, Action::RosterImport, &school, "school roster")
    }

    /// What importing the roster file at `path` would do; nothing changes. How to read it
    /// is `query` (its `name` is the file's own).
    pub async fn import_preview(&self, path: &Path, query: ImportQuery) -> Result<ImportView> {
        self.import_allowed()?;
        let session = self.signed_in()?;
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let unreadable = |e: std::io::Error| {
            AppError::new(
                AppErrorCode::InvalidInput,
                format!("{file_name} cannot be read: {e}"),
            )
        };
        // The size first: a file too large is refused before a byte of it is read.
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if let Some(why) = too_large(&file_name, size) {
            return Err(AppError::new(AppErrorCode::InvalidInput, why));
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let blank = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let query = ImportQuery {
            format: blank(query.format),
            org: blank(query.org),
            name: Some(file_name.clone()),
            map: blank(query.map),
        };
        let preview = session
            .client
            .import_preview(&query, bytes)
            .await
            .map_err(|e| needs_server(e.into(), "Previewing an import"))?;
        Ok(ImportView { file_name, preview })
    }

    /// Applies a previewed import (`confirm` for one the preview says is held), then
    /// brings its changes to this computer.
    pub async fn import_apply(&self, import: ImportId, confirm: bool) -> Result<ImportApplied> {
        self.import_allowed()?;
        let session = self.signed_in()?;
        let applied = session
            .client
            .import_apply(import, confirm)
            .await
            .map_err(|e| needs_server(e.into(), "Applying an import"))?;
        // The import is made: a sync that fails now only delays its arrival here, and the
        // background sync tries again.
        let _ = self.sync_now().await;
        Ok(applied)
    }
}
