//! The desktop app's use cases, without any UI: what the Tauri shell calls, one function per
//! command, so every behaviour is tested with plain `cargo test` (DESIGN §2, §7).
//!
//! An [`App`] is built at start from a data folder (holding the SQLite replica) and a
//! [`SecretStore`] (the OS credential store in the real app). Then:
//!
//! - [`session`]: sign in, resume the session at start, sign out.
//! - reads (here): classes, a class's learners, search, one learner — all from the local
//!   replica, so they work offline and instantly.
//! - [`edits`]: roster changes, checked against the permission policy, queued in the
//!   outbox with an optimistic record, then sent at once if the server answers.
//! - [`sync`]: push the outbox, then pull; the sync status; conflicts and their resolution.
//! - [`rejections`]: changes the server refused, described for the teacher, and dismissed.
//! - [`credentials`]: password resets (previewed here), access codes, CSV downloads, login
//!   cards and the audit log — all confirmed by the server.
//! - [`messages`]: messages with personal sign-in links, and their delivery.
//! - [`sign_in_help`]: "why can't they sign in?" and its fixes, duplicate accounts.
//!
//! Invariants:
//! - The session token and the device key live only in the [`SecretStore`] and in memory,
//!   never in the data folder.
//! - An edit the teacher made is never lost because the network is down: it is queued
//!   first, and a failed send only reschedules it.
//! - Nothing from the replica is shown without a session: reads need one.

pub mod credentials;
mod describe;
pub mod edits;
mod error;
pub mod imports;
pub mod messages;
pub mod rejections;
pub mod secrets;
pub mod session;
pub mod sign_in_help;
pub mod sync;

use std::path::Path;
use std::sync::{Arc, Mutex};

use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::{Action, Resource};
use classkeys_protocol::roster::{ClassRecord, LearnerRecord, StaffRecord};
use classkeys_store::Store;
use serde::Serialize;

pub use crate::credentials::{
    AuditLine, AuditLog, ClassResetMode, CodesView, PreviewLine, SavedFile, StyleChoice,
};
pub use crate::edits::{ClassEdit, LearnerEdit, NewLearnerInput};
pub use crate::error::{AppError, AppErrorCode, Result};
pub use crate::messages::{RecipientLine, Recipients};
pub use crate::rejections::RejectedChange;
pub use crate::secrets::{KeyringSecrets, SecretName, SecretStore, UnavailableSecrets};
pub use crate::sign_in_help::{DiagnosisView, KnownHere};
pub use crate::sync::{ConflictChoice, Connection, PendingConflict, SyncStatus};

/// Most rows in one page or search answer: the UI asks for pages of 100–500 (DESIGN §7),
/// and a larger page would only make the IPC message slower, not the screen fuller.
pub const MAX_PAGE: u32 = 500;

/// The file name of the replica inside the data folder.
const REPLICA_FILE: &str = "replica.db";

/// The desktop app's state: the replica, the secret store and the signed-in session.
pub struct App {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    session: Mutex<Option<Arc<session::Session>>>,
    sync: sync::SyncState,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("secrets", &self.secrets)
            .field("signed_in", &self.current().is_some())
            .finish_non_exhaustive()
    }
}

/// One page of learners, with how many there are on all pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnerPage {
    /// The learners of this page, by family name then given name.
    pub learners: Vec<LearnerRecord>,
    /// How many learners there are in all.
    pub total: i64,
}

impl App {
    /// Opens the app's state in `data_dir` (created if missing). Nobody is signed in until
    /// [`App::sign_in`] or [`App::resume`].
    pub async fn open(data_dir: impl AsRef<Path>, secrets: Arc<dyn SecretStore>) -> Result<App> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            AppError::new(
                AppErrorCode::LocalData,
                format!(
                    "the data folder {} could not be created ({e}): check that you may write there",
                    dir.display()
                ),
            )
        })?;
        let store = Store::open(dir.join(REPLICA_FILE)).await?;
        Ok(App {
            store,
            secrets,
            session: Mutex::new(None),
            sync: sync::SyncState::default(),
        })
    }

    /// Closes the replica cleanly (finishing its write-ahead log).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The classes the signed-in member of staff may see, by name.
    pub async fn classes(&self) -> Result<Vec<ClassRecord>> {
        self.signed_in()?;
        Ok(self.store.classes().await?)
    }

    /// One page of a class's learners, or with `class: None` of every learner on this
    /// computer: the whole school for a lead teacher (whose replica holds every learner,
    /// those in no class too), the learners of their own classes for a teacher.
    pub async fn class_learners(
        &self,
        class: Option<ClassId>,
        offset: u32,
        limit: u32,
    ) -> Result<LearnerPage> {
        self.signed_in()?;
        let (learners, total) = self
            .store
            .learners(class, offset, limit.min(MAX_PAGE))
            .await?;
        Ok(LearnerPage { learners, total })
    }

    /// Learners whose names, username or email match every word of `query`.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<LearnerRecord>> {
        self.signed_in()?;
        Ok(self.store.search(query, limit.min(MAX_PAGE)).await?)
    }

    /// One class.
    pub async fn class(&self, id: ClassId) -> Result<ClassRecord> {
        self.signed_in()?;
        self.store
            .class(id)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))
    }

    /// One learner.
    pub async fn learner(&self, id: LearnerId) -> Result<LearnerRecord> {
        self.signed_in()?;
        self.store
            .learner(id)
            .await?
            .ok_or_else(|| not_on_this_computer("learner"))
    }

    /// The school's staff, by username, for assigning teachers to classes (lead teachers
    /// only: the server sends the staff list to nobody else).
    pub async fn staff(&self) -> Result<Vec<StaffRecord>> {
        let session = self.signed_in()?;
        let school = Resource::School {
            school: session.account.staff.school_id,
        };
        edits::allow(&session, Action::StaffView, &school, "staff list")?;
        Ok(self.store.staff().await?)
    }

    /// The current session, if any.
    fn current(&self) -> Option<Arc<session::Session>> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current session, or "not signed in".
    fn signed_in(&self) -> Result<Arc<session::Session>> {
        self.current().ok_or_else(AppError::not_signed_in)
    }
}

/// "Not found" for a record missing from the replica: it may exist on the server but not
/// be visible (any more) to this member of staff, or the replica may be behind.
pub(crate) fn not_on_this_computer(what: &str) -> AppError {
    AppError::new(
        AppErrorCode::NotFound,
        format!("this {what} is not in your classes on this computer: sync, then try again"),
    )
}
