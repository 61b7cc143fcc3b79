//! The outbox: changes made on this device, kept until the server has said what became of
//! them (DESIGN §6).
//!
//! An entry is `pending` until pushed and answered. The server's answer settles it:
//! *applied* removes it and stores the server's record; *conflict* keeps it, with the
//! server's current record, until the teacher decides ([`Resolution`]); *rejected* keeps it,
//! with the reason, until the teacher has read it, and puts the record back as it was
//! before the change. A push that got no answer leaves entries pending, to be replayed with
//! the same operation ids — the server recognises a replay and applies nothing twice.
//!
//! Entries are replayed in the order they were made, since later changes can depend on
//! earlier ones (a learner is created before being enrolled).

use std::time::Duration;

use classkeys_domain::ids::OperationId;
use classkeys_protocol::ErrorBody;
use classkeys_protocol::sync::{EntityKind, OpKind, OpResult, Operation, Outcome, Record};
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::replica::{
    Overwrite, put_record, read_record, record_key, record_version, remove_record, set_version,
};
use crate::{Error, Result, Store};

/// How many changes wait, and how many need the teacher: the sync status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Changes not yet confirmed by the server.
    pub waiting: u32,
    /// Changes that met a newer version on the server and wait for a decision.
    pub conflicts: u32,
    /// Changes the server refused; shown until the teacher dismisses them.
    pub rejected: u32,
}

/// A change that met a newer version of its record on the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The change as made here.
    pub operation: Operation,
    /// The record as it is on the server now.
    pub current: Record,
    /// When the change was made.
    pub created_at: OffsetDateTime,
}

/// A change the server refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The change as made here.
    pub operation: Operation,
    /// Why the server refused it.
    pub error: ErrorBody,
    /// When the change was made.
    pub created_at: OffsetDateTime,
}

/// The teacher's decision on a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Send my change again, over the server's current version.
    KeepMine,
    /// Drop my change and show the server's record.
    TakeTheirs,
}

/// Which pending changes [`Store::pending`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Only those whose retry time has come: for pushes nobody asked for (a background
    /// loop), which must keep backing off while the server does not answer.
    Now,
    /// All of them, ignoring their retry time: for a push the teacher asked for ("Sync
    /// now"), which should be tried at once.
    Any,
}

/// The delay before retrying a push that got no answer, after `attempts` failed tries:
/// exponential from 2 s, capped at 10 minutes, with "equal jitter" (half fixed, half drawn
/// from `jitter` in `[0, 1)`) so that many desktops coming back online at once spread out.
/// The randomness is passed in, as everywhere in ClassKeys, so this is testable.
pub fn retry_delay(attempts: u32, jitter: f64) -> Duration {
    const BASE: Duration = Duration::from_secs(2);
    const CAP: Duration = Duration::from_secs(600);
    let exp = BASE.saturating_mul(1_u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX));
    let ceiling = exp.min(CAP);
    let half = ceiling / 2;
    // NaN would make mul_f64 panic; treat it as no jitter.
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    half + half.mul_f64(jitter)
}

/// The kind and id of the record an operation changes.
fn target(op: &OpKind) -> (EntityKind, Uuid) {
    match op {
        OpKind::ClassCreate { class_id, .. }
        | OpKind::ClassUpdate { class_id, .. }
        | OpKind::ClassDelete { class_id }
        | OpKind::ClassAssignTeacher { class_id, .. }
        | OpKind::ClassUnassignTeacher { class_id, .. } => (EntityKind::Class, class_id.0),
        OpKind::LearnerCreate { learner_id, .. }
        | OpKind::LearnerUpdate { learner_id, .. }
        | OpKind::LearnerEnrol { learner_id, .. }
        | OpKind::LearnerUnenrol { learner_id, .. }
        | OpKind::LearnerMove { learner_id, .. }
        | OpKind::LearnerSetActive { learner_id, .. }
        | OpKind::LearnerEmailMove { learner_id, .. } => (EntityKind::Learner, learner_id.0),
    }
}

fn kind_str(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Class => "class",
        EntityKind::Learner => "learner",
        EntityKind::Staff => "staff",
    }
}

fn parse_kind(s: &str) -> Result<EntityKind> {
    match s {
        "class" => Ok(EntityKind::Class),
        "learner" => Ok(EntityKind::Learner),
        "staff" => Ok(EntityKind::Staff),
        other => Err(Error::corrupt("outbox record kind")(other.to_owned())),
    }
}

fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::corrupt(what)(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::corrupt(what)(e.to_string()))
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    state: String,
    operation: String,
    target_kind: String,
    target_id: String,
    before: Option<String>,
    current: Option<String>,
    rejection: Option<String>,
    created_at: i64,
}

impl EntryRow {
    fn target(&self) -> Result<(EntityKind, Uuid)> {
        let id = Uuid::parse_str(&self.target_id)
            .map_err(|e| Error::corrupt("outbox record id")(e.to_string()))?;
        Ok((parse_kind(&self.target_kind)?, id))
    }
}

const ENTRY_COLUMNS: &str =
    "seq, state, operation, target_kind, target_id, before, current, rejection, created_at";

async fn entry(conn: &mut SqliteConnection, op_id: OperationId) -> Result<Option<EntryRow>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE op_id = ?");
    Ok(sqlx::query_as::<_, EntryRow>(&sql)
        .bind(op_id.to_string())
        .fetch_optional(conn)
        .await?)
}

impl Store {
    /// Queues a change made here, and shows it at once: `optimistic` is the record as the
    /// change will leave it. Both are written in one transaction, so the screen never shows
    /// a change that is not queued, nor queues one it does not show.
    pub async fn enqueue(&self, operation: &Operation, optimistic: Option<&Record>) -> Result<()> {
        let json = to_json("operation", operation)?;
        let (kind, id) = target(&operation.op);
        let now = millis(self.now());
        let mut tx = self.write().await?;
        // The record as it was, so a refused change can be undone on screen.
        let before = read_record(&mut tx, kind, id)
            .await?
            .map(|r| to_json("record", &r))
            .transpose()?;
        sqlx::query(
            "INSERT INTO outbox (op_id, base_version, operation, target_kind, target_id, before,
                 state, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        )
        .bind(operation.id.to_string())
        .bind(operation.base_version)
        .bind(json)
        .bind(kind_str(kind))
        .bind(id.to_string())
        .bind(before)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(record) = optimistic {
            put_record(&mut tx, record, Overwrite::Always).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` pending changes, in the order they were made: the next push batch.
    /// [`Due::Now`] leaves out changes put off by [`Store::retry_later`] until their time;
    /// [`Due::Any`] takes them too.
    pub async fn pending(&self, limit: u32, due: Due) -> Result<Vec<Operation>> {
        let due_by = match due {
            Due::Now => millis(self.now()),
            Due::Any => i64::MAX,
        };
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT operation FROM outbox
             WHERE state = 'pending' AND next_attempt_at <= ?
             ORDER BY seq LIMIT ?",
        )
        .bind(due_by)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|j| from_json("operation", j)).collect()
    }

    /// Records the server's answer to a push, in one transaction. Results for operations
    /// no longer in the outbox (a replayed answer, already settled) change nothing.
    pub async fn settle(&self, results: &[OpResult]) -> Result<()> {
        let mut tx = self.write().await?;
        for result in results {
            let Some(entry) = entry(&mut tx, result.id).await? else {
                continue;
            };
            match &result.outcome {
                Outcome::Applied { record } => {
                    sqlx::query("DELETE FROM outbox WHERE seq = ?")
                        .bind(entry.seq)
                        .execute(&mut *tx)
                        .await?;
                    match record {
                        Some(record) => put_record(&mut tx, record, Overwrite::IfNotOlder).await?,
                        None => {
                            let (kind, id) = entry.target()?;
                            remove_record(&mut tx, kind, id).await?;
                        }
                    }
                }
                Outcome::Conflict { current } => {
                    sqlx::query(
                        "UPDATE outbox SET state = 'conflict', current = ?, last_error = NULL
                         WHERE seq = ?",
                    )
                    .bind(to_json("record", current)?)
                    .bind(entry.seq)
                    .execute(&mut *tx)
                    .await?;
                }
                Outcome::Rejected { error } => {
                    sqlx::query(
                        "UPDATE outbox SET state = 'rejected', rejection = ?, last_error = NULL
                         WHERE seq = ?",
                    )
                    .bind(to_json("error", error)?)
                    .bind(entry.seq)
                    .execute(&mut *tx)
                    .await?;
                    restore_before(&mut tx, &entry).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed push of these pending changes (no answer: offline, server down),
    /// noting why, and puts each off by `delay(attempts)`, where `attempts` is its failed
    /// pushes so far, this one included (see [`retry_delay`]). The count is stored, so the
    /// backoff carries on where it was after the app restarts.
    ///
    /// Returns each change's new count; changes no longer pending (settled meanwhile) are
    /// left out.
    pub async fn retry_later(
        &self,
        op_ids: &[OperationId],
        error: &str,
        delay: impl Fn(u32) -> Duration,
    ) -> Result<Vec<(OperationId, u32)>> {
        let now = self.now();
        let mut tx = self.write().await?;
        let mut counts = Vec::with_capacity(op_ids.len());
        for &id in op_ids {
            let attempts: Option<i64> = sqlx::query_scalar(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?
                 WHERE op_id = ? AND state = 'pending'
                 RETURNING attempts",
            )
            .bind(error)
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(attempts) = attempts else {
                continue;
            };
            let attempts = u32::try_from(attempts)
                .map_err(|e| Error::corrupt("outbox attempt count")(e.to_string()))?;
            sqlx::query("UPDATE outbox SET next_attempt_at = ? WHERE op_id = ?")
                .bind(millis(now + delay(attempts)))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            counts.push((id, attempts));
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Changes waiting for the teacher to resolve a conflict, oldest first.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE state = 'conflict' ORDER BY seq");
        let rows = sqlx::query_as::<_, EntryRow>(&sql)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let current = row
                    .current
                    .as_deref()
                    .ok_or_else(|| Error::corrupt("conflict")("no current record".into()))?;
                Ok(Conflict {
                    operation: from_json("operation", &row.operation)?,
                    current: from_json("record", current)?,
                    created_at: from_millis(row.created_at),
                })
            })
            .collect()
    }

    /// Changes the server refused, oldest first.
    pub async fn rejected(&self) -> Result<Vec<Rejection>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE state = 'rejected' ORDER BY seq");
        let rows = sqlx::query_as::<_, EntryRow>(&sql)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let error = row
                    .rejection
                    .as_deref()
                    .ok_or_else(|| Error::corrupt("rejection")("no reason".into()))?;
                Ok(Rejection {
                    operation: from_json("operation", &row.operation)?,
                    error: from_json("error", error)?,
                    created_at: from_millis(row.created_at),
                })
            })
            .collect()
    }

    /// Forgets a refused change once the teacher has read why. Returns whether there was one.
    pub async fn dismiss_rejected(&self, op_id: OperationId) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM outbox WHERE op_id = ? AND state = 'rejected'")
            .bind(op_id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }

    /// Applies the teacher's decision on a conflict.
    ///
    /// - [`Resolution::KeepMine`] queues the same change again under a **new** operation id
    ///   (the old id's outcome, "conflict", is final on the server) with the current version
    ///   as its base, in the old entry's place in the queue, and shows my record with the
    ///   version it will have once applied. Returns the new id.
    /// - [`Resolution::TakeTheirs`] drops the change and shows the server's record.
    pub async fn resolve_conflict(
        &self,
        op_id: OperationId,
        resolution: Resolution,
    ) -> Result<Option<OperationId>> {
        let mut tx = self.write().await?;
        let entry = entry(&mut tx, op_id)
            .await?
            .filter(|e| e.state == "conflict")
            .ok_or(Error::NoSuchConflict(op_id))?;
        let current: Record = match &entry.current {
            Some(json) => from_json("record", json)?,
            None => return Err(Error::corrupt("conflict")("no current record".into())),
        };
        let new_id = match resolution {
            Resolution::KeepMine => {
                let mut operation: Operation = from_json("operation", &entry.operation)?;
                operation.id = OperationId::generate();
                operation.base_version = record_version(&current);
                sqlx::query(
                    "UPDATE outbox SET op_id = ?, base_version = ?, operation = ?,
                         state = 'pending', attempts = 0, next_attempt_at = ?,
                         last_error = NULL, current = NULL
                     WHERE seq = ?",
                )
                .bind(operation.id.to_string())
                .bind(operation.base_version)
                .bind(to_json("operation", &operation)?)
                .bind(millis(self.now()))
                .bind(entry.seq)
                .execute(&mut *tx)
                .await?;
                // The screen keeps showing my change, with the version the server will give
                // it once applied (every applied change adds one), so a further edit made
                // before this one is confirmed is based on it and applies after it, instead
                // of conflicting with it.
                if let Some(version) = operation.base_version {
                    let (kind, id) = record_key(&current);
                    set_version(&mut tx, kind, id, version + 1).await?;
                }
                Some(operation.id)
            }
            Resolution::TakeTheirs => {
                sqlx::query("DELETE FROM outbox WHERE seq = ?")
                    .bind(entry.seq)
                    .execute(&mut *tx)
                    .await?;
                put_record(&mut tx, &current, Overwrite::IfNotOlder).await?;
                None
            }
        };
        tx.commit().await?;
        Ok(new_id)
    }

    /// How many changes wait, conflict or were refused.
    pub async fn status(&self) -> Result<SyncCounts> {
        let (waiting, conflicts, rejected): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state = 'pending'),
                    count(*) FILTER (WHERE state = 'conflict'),
                    count(*) FILTER (WHERE state = 'rejected')
             FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(SyncCounts {
            waiting: count(waiting),
            conflicts: count(conflicts),
            rejected: count(rejected),
        })
    }
}

/// Puts a record back as it was before a refused change, unless a later change to the same
/// record is still queued (its own outcome will bring the server's record).
async fn restore_before(conn: &mut SqliteConnection, entry: &EntryRow) -> Result<()> {
    let later: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox
                        WHERE target_id = ? AND seq > ? AND state <> 'rejected')",
    )
    .bind(&entry.target_id)
    .bind(entry.seq)
    .fetch_one(&mut *conn)
    .await?;
    if later {
        return Ok(());
    }
    match &entry.before {
        Some(json) => {
            let before: Record = from_json("record", json)?;
            put_record(conn, &before, Overwrite::Always).await
        }
        None => {
            let (kind, id) = entry.target()?;
            remove_record(conn, kind, id).await
        }
    }
}

#[cfg(test)]
mod tests {
    use classkeys_domain::ids::LearnerId;
    use classkeys_protocol::ErrorCode;
    use classkeys_protocol::roster::LearnerRecord;

    use super::*;
    use crate::test_support::store;

    fn learner(id: LearnerId, family: &str, version: i64) -> LearnerRecord {
        LearnerRecord {
            id,
            username: "sam.lee".into(),
            given_name: "Sam".into(),
            family_name: family.into(),
            email: None,
            active: true,
            classes: Vec::new(),
            password: Default::default(),
            must_change_password: false,
            version,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn rename(id: LearnerId, family: &str, base: i64) -> Operation {
        Operation {
            id: OperationId::generate(),
            base_version: Some(base),
            op: OpKind::LearnerUpdate {
                learner_id: id,
                given_name: None,
                family_name: Some(family.into()),
                username: None,
                email: None,
            },
        }
    }

    #[test]
    fn retry_delays_grow_then_stop_at_ten_minutes() {
        assert_eq!(retry_delay(0, 0.0), Duration::from_secs(1));
        assert_eq!(retry_delay(0, 1.0), Duration::from_secs(2));
        assert_eq!(retry_delay(3, 0.5), Duration::from_secs(12));
        assert_eq!(retry_delay(40, 1.0), Duration::from_secs(600));
        assert!(retry_delay(40, 0.0) >= Duration::from_secs(300));
        assert_eq!(retry_delay(2, 7.0), Duration::from_secs(8));
        assert_eq!(retry_delay(2, f64::NAN), Duration::from_secs(4));
    }

    #[tokio::test]
    async fn a_refused_change_is_undone_on_screen_and_kept_with_its_reason() {
        let (store, _dir) = store().await;
        let id = LearnerId::generate();
        let record = Record::Learner(learner(id, "Lee", 1));
        store
            .apply_pull(&classkeys_protocol::sync::PullResponse {
                changes: vec![classkeys_protocol::sync::Change::Upsert { record }],
                cursor: "1".into(),
                more: false,
            })
            .await
            .unwrap();
        let op = rename(id, "Leigh", 1);
        store
            .enqueue(&op, Some(&Record::Learner(learner(id, "Leigh", 1))))
            .await
            .unwrap();
        assert_eq!(
            store.learner(id).await.unwrap().unwrap().family_name,
            "Leigh"
        );

        let error = ErrorBody::new(ErrorCode::Forbidden, "you may not change this learner");
        store
            .settle(&[OpResult {
                id: op.id,
                outcome: Outcome::Rejected {
                    error: error.clone(),
                },
            }])
            .await
            .unwrap();
        assert_eq!(store.learner(id).await.unwrap().unwrap().family_name, "Lee");
        let rejected = store.rejected().await.unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].error, error);
        assert_eq!(
            store.status().await.unwrap(),
            SyncCounts {
                waiting: 0,
                conflicts: 0,
                rejected: 1
            }
        );
        assert!(store.pending(10, Due::Now).await.unwrap().is_empty());
        assert!(store.dismiss_rejected(op.id).await.unwrap());
        assert_eq!(store.status().await.unwrap(), SyncCounts::default());
    }

    #[tokio::test]
    async fn a_learner_created_here_and_refused_disappears() {
        let (store, _dir) = store().await;
        let id = LearnerId::generate();
        let op = Operation {
            id: OperationId::generate(),
            base_version: None,
            op: OpKind::LearnerCreate {
                learner_id: id,
                given_name: "Sam".into(),
                family_name: "Lee".into(),
                username: Some("sam.lee".into()),
                email: None,
                classes: Vec::new(),
            },
        };
        store
            .enqueue(&op, Some(&Record::Learner(learner(id, "Lee", 0))))
            .await
            .unwrap();
        assert!(store.learner(id).await.unwrap().is_some());
        store
            .settle(&[OpResult {
                id: op.id,
                outcome: Outcome::Rejected {
                    error: ErrorBody::new(ErrorCode::UsernameTaken, "sam.lee is taken"),
                },
            }])
            .await
            .unwrap();
        assert!(store.learner(id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn changes_put_off_after_a_failed_push_are_not_due_until_their_time() {
        let (store, _dir) = store().await;
        let now = OffsetDateTime::now_utc();
        let clock_time = std::sync::Arc::new(std::sync::Mutex::new(now));
        let shared = clock_time.clone();
        let store = store.with_clock(std::sync::Arc::new(move || {
            *shared.lock().unwrap_or_else(|p| p.into_inner())
        }));
        let (a, b) = (LearnerId::generate(), LearnerId::generate());
        let first = rename(a, "One", 1);
        let second = rename(b, "Two", 1);
        store.enqueue(&first, None).await.unwrap();
        store.enqueue(&second, None).await.unwrap();
        assert_eq!(
            store.pending(10, Due::Now).await.unwrap(),
            [first.clone(), second.clone()]
        );

        let counts = store
            .retry_later(
                &[first.id, second.id],
                "the server did not answer",
                |attempts| retry_delay(attempts - 1, 0.5),
            )
            .await
            .unwrap();
        assert_eq!(counts, [(first.id, 1), (second.id, 1)]);
        assert!(store.pending(10, Due::Now).await.unwrap().is_empty());
        assert_eq!(
            store.pending(10, Due::Any).await.unwrap(),
            [first.clone(), second.clone()],
            "a push the teacher asks for takes them anyway"
        );
        assert_eq!(store.status().await.unwrap().waiting, 2);
        *clock_time.lock().unwrap_or_else(|p| p.into_inner()) = now + retry_delay(0, 0.5);
        assert_eq!(store.pending(1, Due::Now).await.unwrap(), [first]);
    }

    #[tokio::test]
    async fn failed_pushes_are_counted_per_change_and_the_count_survives_a_restart() {
        let (store, dir) = store().await;
        let (old, new) = (
            rename(LearnerId::generate(), "Old", 1),
            rename(LearnerId::generate(), "New", 1),
        );
        store.enqueue(&old, None).await.unwrap();
        let no_delay = |_| Duration::ZERO;
        for _ in 0..2 {
            store
                .retry_later(&[old.id], "offline", no_delay)
                .await
                .unwrap();
        }
        store.enqueue(&new, None).await.unwrap();
        store.close().await;
        drop(store);

        // Whole seconds, so the times read back (stored in milliseconds) compare exactly.
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let store = Store::open(dir.path().join("replica.db"))
            .await
            .unwrap()
            .with_clock(std::sync::Arc::new(move || now));
        let counts = store
            .retry_later(&[old.id, new.id], "offline", |attempts| {
                retry_delay(attempts - 1, 0.0)
            })
            .await
            .unwrap();
        assert_eq!(counts, [(old.id, 3), (new.id, 1)]);
        // Each is put off by its own count: 4 s for the third failure, 1 s for the first.
        let due_at = |op_id: OperationId| {
            let pool = store.pool.clone();
            async move {
                let ms: i64 =
                    sqlx::query_scalar("SELECT next_attempt_at FROM outbox WHERE op_id = ?")
                        .bind(op_id.to_string())
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                from_millis(ms)
            }
        };
        assert_eq!(due_at(old.id).await - now, Duration::from_secs(4));
        assert_eq!(due_at(new.id).await - now, Duration::from_secs(1));
    }

    #[tokio::test]
    async fn resolving_something_that_is_not_a_conflict_says_so() {
        let (store, _dir) = store().await;
        let op = rename(LearnerId::generate(), "Lee", 1);
        store.enqueue(&op, None).await.unwrap();
        let err = store
            .resolve_conflict(op.id, Resolution::TakeTheirs)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NoSuchConflict(id) if id == op.id),
            "{err}"
        );
        assert_eq!(store.pending(10, Due::Now).await.unwrap(), [op]);
    }
}
