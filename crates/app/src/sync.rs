//! Sync with the server (DESIGN §6): push the outbox first, then pull until the server has
//! nothing more, and the status line the app always shows.
//!
//! Push goes first so that the pull which follows already carries the server's answer to
//! this device's own changes. A push or pull that gets no answer (offline, server down,
//! connection cut) is not an error for the teacher: the pushed changes are put off with
//! [`classkeys_store::retry_delay`] (exponential, with jitter, from each change's failed
//! pushes as counted in the replica, so a restart does not start the backoff over) and the
//! status says "offline". Replaying them later is safe: the server recognises an operation
//! id it has seen and applies nothing twice.
//!
//! A sync the teacher set off ("Sync now", an edit, signing in) sends every waiting change at
//! once, whatever its retry time ([`Due::Any`]); the background loop ([`App::sync_due`])
//! sends only those whose retry time has come ([`Due::Now`]).

use std::sync::Mutex;

use classkeys_domain::ids::OperationId;
use classkeys_protocol::sync::{
    MAX_PULL_LIMIT, MAX_PUSH_OPERATIONS, Operation, PullQuery, PushRequest, Record,
};
use classkeys_store::{Due, Resolution, retry_delay};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::App;
use crate::error::{AppError, Result};
use crate::session::Session;

/// Whether the server answered the last time the app tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not tried since start or sign-in.
    Unknown,
    /// The last sync reached the server.
    Online,
    /// The last sync could not reach the server; changes wait here.
    Offline,
}

/// The sync status line: online or not, and what waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Whether the server answered last time.
    pub connection: Connection,
    /// Changes made here and not yet confirmed by the server.
    pub waiting: u32,
    /// Changes that met a newer version on the server and wait for the teacher.
    pub conflicts: u32,
    /// Changes the server refused, shown until dismissed.
    pub rejected: u32,
    /// Why the last sync failed, if it did (offline, or the session ended).
    pub problem: Option<AppError>,
    /// How many changes this app has received from the server since it started: when it
    /// grows, what is on screen may be out of date and lists are read again.
    pub received: u64,
}

/// A change of this device that met a newer version on the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingConflict {
    /// The change as made here; its id names the conflict when resolving it.
    pub mine: Operation,
    /// The change in words, as the teacher made it.
    pub description: String,
    /// The record as it is on the server now.
    pub theirs: Record,
    /// When the change was made here.
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
}

/// The teacher's decision on a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictChoice {
    /// Send my change again, over the server's current version.
    KeepMine,
    /// Drop my change and keep the server's version.
    TakeTheirs,
}

/// What the last sync left: kept apart from the sync lock so that the status can be read
/// while a sync runs.
#[derive(Debug)]
struct Health {
    connection: Connection,
    problem: Option<AppError>,
    received: u64,
}

/// The sync half of the app's state.
#[derive(Debug)]
pub(crate) struct SyncState {
    /// One sync at a time: two at once would push the same operations twice (harmless,
    /// the server deduplicates) and interleave their settling (confusing).
    running: tokio::sync::Mutex<()>,
    health: Mutex<Health>,
}

impl Default for SyncState {
    fn default() -> Self {
        Self {
            running: tokio::sync::Mutex::new(()),
            health: Mutex::new(Health {
                connection: Connection::Unknown,
                problem: None,
                received: 0,
            }),
        }
    }
}

impl SyncState {
    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the last sync's outcome (a new session starts).
    pub(crate) fn reset(&self) {
        let mut h = self.health();
        h.connection = Connection::Unknown;
        h.problem = None;
    }
}

/// Why a sync stopped.
enum Stop {
    /// No answer; these pushed operations get another try later.
    Unreachable(AppError, Vec<OperationId>),
    /// An answer that retrying will not change (session ended, local file broken…).
    Failed(AppError),
}

impl From<classkeys_store::Error> for Stop {
    fn from(e: classkeys_store::Error) -> Self {
        Stop::Failed(e.into())
    }
}

impl App {
    /// Sends every change waiting here at once (including those put off after a push that
    /// got no answer), then fetches what changed on the server. Offline is
    /// not an error: the status says so and the changes wait. Other failures (the session
    /// ended, the local copy is damaged) are returned, and kept in the status too.
    pub async fn sync_now(&self) -> Result<SyncStatus> {
        self.sync(Due::Any).await
    }

    /// The background sync: like [`App::sync_now`], but sends only the changes whose
    /// retry time has come, so a server that keeps failing is asked less and less often.
    pub async fn sync_due(&self) -> Result<SyncStatus> {
        self.sync(Due::Now).await
    }

    async fn sync(&self, due: Due) -> Result<SyncStatus> {
        let session = self.signed_in()?;
        {
            let _one_at_a_time = self.sync.running.lock().await;
            match self.push_then_pull(&session, due).await {
                Ok(()) => {
                    let mut h = self.sync.health();
                    h.connection = Connection::Online;
                    h.problem = None;
                }
                Err(Stop::Unreachable(error, pushed)) => {
                    {
                        let mut h = self.sync.health();
                        h.connection = Connection::Offline;
                        h.problem = Some(error.clone());
                    }
                    if !pushed.is_empty() {
                        // `attempts` counts this failure too; the first retry waits 1–2 s.
                        self.store
                            .retry_later(&pushed, &error.message, |attempts| {
                                retry_delay(attempts.saturating_sub(1), rand::random::<f64>())
                            })
                            .await?;
                    }
                }
                Err(Stop::Failed(error)) => {
                    self.sync.health().problem = Some(error.clone());
                    return Err(error);
                }
            }
        }
        self.status().await
    }

    /// [`App::sync_now`] after an edit or at sign-in, where a failure must not undo what
    /// already succeeded: it shows in [`App::status`] instead.
    pub(crate) async fn sync_quietly(&self) {
        let _ = self.sync_now().await;
    }

    async fn push_then_pull(&self, session: &Session, due: Due) -> Result<(), Stop> {
        let client = &session.client;
        let batch_size = u32::try_from(MAX_PUSH_OPERATIONS).unwrap_or(u32::MAX);
        loop {
            let operations = self.store.pending(batch_size, due).await?;
            if operations.is_empty() {
                break;
            }
            let full = operations.len() >= MAX_PUSH_OPERATIONS;
            let ids: Vec<OperationId> = operations.iter().map(|op| op.id).collect();
            match client.sync_push(&PushRequest { operations }).await {
                Ok(answer) => self.store.settle(&answer.results).await?,
                Err(e) if e.is_transport() => return Err(Stop::Unreachable(e.into(), ids)),
                Err(e) => return Err(Stop::Failed(e.into())),
            }
            // A short batch was everything that waited; asking again would only find the
            // entries the answer left waiting (if a server ever answered fewer results).
            if !full {
                break;
            }
        }
        let mut cursor = self.store.cursor().await?;
        loop {
            let query = PullQuery {
                cursor: cursor.clone(),
                limit: Some(MAX_PULL_LIMIT),
            };
            let page = match client.sync_pull(&query).await {
                Ok(page) => page,
                Err(e) if e.is_transport() => return Err(Stop::Unreachable(e.into(), Vec::new())),
                Err(e) => return Err(Stop::Failed(e.into())),
            };
            self.store.apply_pull(&page).await?;
            if !page.changes.is_empty() {
                let received = u64::try_from(page.changes.len()).unwrap_or(u64::MAX);
                let mut h = self.sync.health();
                h.received = h.received.saturating_add(received);
            }
            if !page.more {
                return Ok(());
            }
            cursor = Some(page.cursor);
        }
    }

    /// The sync status line. Works signed out too (then everything is zero).
    pub async fn status(&self) -> Result<SyncStatus> {
        let counts = self.store.status().await?;
        let h = self.sync.health();
        Ok(SyncStatus {
            connection: h.connection,
            waiting: counts.waiting,
            conflicts: counts.conflicts,
            rejected: counts.rejected,
            problem: h.problem.clone(),
            received: h.received,
        })
    }

    /// Changes waiting for the teacher's decision, oldest first.
    pub async fn conflicts(&self) -> Result<Vec<PendingConflict>> {
        self.signed_in()?;
        let conflicts = self.store.conflicts().await?;
        let names = self
            .names_for(conflicts.iter().map(|c| &c.operation.op))
            .await?;
        Ok(conflicts
            .into_iter()
            .map(|c| PendingConflict {
                description: crate::describe::describe(&c.operation.op, &names),
                mine: c.operation,
                theirs: c.current,
                made_at: c.created_at,
            })
            .collect())
    }

    /// Applies the teacher's decision on the conflict of change `op_id`, then syncs: with
    /// [`ConflictChoice::KeepMine`] the change is sent again over the server's version; with
    /// [`ConflictChoice::TakeTheirs`] it is dropped and the server's record shown.
    pub async fn resolve_conflict(
        &self,
        op_id: OperationId,
        choice: ConflictChoice,
    ) -> Result<SyncStatus> {
        self.signed_in()?;
        let resolution = match choice {
            ConflictChoice::KeepMine => Resolution::KeepMine,
            ConflictChoice::TakeTheirs => Resolution::TakeTheirs,
        };
        self.store.resolve_conflict(op_id, resolution).await?;
        self.sync_quietly().await;
        self.status().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppErrorCode;

    #[test]
    fn the_status_line_reaches_the_ui_in_snake_case() {
        let status = SyncStatus {
            connection: Connection::Offline,
            waiting: 1,
            conflicts: 0,
            rejected: 0,
            problem: Some(AppError::new(AppErrorCode::Offline, "no answer")),
            received: 0,
        };
        let json = serde_json::to_value(&status).expect("serialises");
        assert_eq!(json["connection"], "offline");
        assert_eq!(json["problem"]["code"], "offline");
    }
}
