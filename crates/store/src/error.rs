//! The store's errors: what failed in the local replica, worded so the app can tell the
//! teacher what to do next (usually: sign in again to rebuild the replica).

use std::path::PathBuf;

use classkeys_domain::ids::OperationId;

/// Result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something the local replica could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or created.
    #[error("the local copy at {} could not be opened: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: sqlx::Error,
    },
    /// The database file could not be created private to its owner.
    #[error("the local copy at {} could not be created: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The schema could not be brought up to date (for example, the file was written by a
    /// newer version of the app).
    #[error(
        "the local copy could not be brought up to date: {0}; sign out and in again to rebuild it"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (disk full, file locked by another program, …).
    #[error("the local copy could not be read or written: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value could not be read back: the file was damaged or edited by hand.
    #[error(
        "the local copy holds an unreadable {what}: {reason}; sign out and in again to rebuild it"
    )]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The change the teacher is resolving is no longer waiting for a decision (already
    /// resolved, perhaps in another window).
    #[error("the change {0} is no longer waiting for a decision")]
    NoSuchConflict(OperationId),
}

impl Error {
    pub(crate) fn corrupt(what: &'static str) -> impl FnOnce(String) -> Error {
        move |reason| Error::Corrupt { what, reason }
    }
}
