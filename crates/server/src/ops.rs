//! Roster operations: the one code path for every change to classes and learners.
//!
//! The REST endpoints and sync push both turn a request into an [`OpKind`] and call
//! [`execute`]; the demo seeder calls [`apply`] inside its own transaction. Each operation
//! runs in one transaction that first takes the school's next change number, then checks
//! permissions and the base version against the state inside that transaction (no window
//! between check and write), then writes, stamping every record it touches with that number
//! so sync pulls pick the change up.
//!
//! The parts: `classes` and `learners` (one function per operation), `identity` (the
//! school-wide namespace of usernames and emails), `checks` (loading through the access
//! check, base versions) and `stamps` (versions, change numbers, removals for sync).

mod checks;
mod classes;
mod identity;
mod import;
mod learners;
mod stamps;

use classkeys_domain::ids::OperationId;
use classkeys_domain::policy::Actor;
use classkeys_domain::text::hex;
use classkeys_protocol::sync::{OpKind, Outcome, Record};
use classkeys_protocol::{ErrorBody, ErrorCode};
use sqlx::AnyConnection;

use crate::audit::Device;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{Error, Result};

pub use import::{Applied, NewStaff, import};

use classes::{
    ClassChanges, class_assign, class_create, class_delete, class_unassign, class_update,
};
use learners::{
    LearnerChanges, NewLearnerInput, learner_create, learner_email_move, learner_enrol,
    learner_move, learner_set_active, learner_unenrol, learner_update,
};

/// The context of one change: who makes it, and the change number and time it is stamped with.
#[derive(Debug, Clone)]
pub struct ChangeCtx {
    /// Who makes the change.
    pub actor: Actor,
    /// The change number every touched record gets.
    pub seq: i64,
    /// The time every touched record gets.
    pub now: i64,
    /// The device the change came from, for the audit log.
    pub device: Device,
    school: String,
}

impl ChangeCtx {
    /// A context for `actor` at change number `seq`.
    pub fn new(actor: Actor, seq: i64, now: i64) -> Self {
        Self {
            school: actor.school_id.to_string(),
            actor,
            seq,
            now,
            device: Device(None),
        }
    }

    /// The same context, for a change made from `device`.
    pub fn from_device(self, device: &Device) -> Self {
        Self {
            device: device.clone(),
            ..self
        }
    }
}

/// Runs one operation in its own transaction and says what became of it.
///
/// With an operation id, the outcome is stored in the same transaction as the change, and a
/// replay of the same id returns the stored outcome without doing anything again. The stored
/// outcome is looked up after the school's write lock is taken, so two parallel requests
/// with the same id apply it once. `Err` is only for server faults; a refused or conflicting
/// operation is an `Ok` outcome.
pub async fn execute(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    op: &OpKind,
    base_version: Option<i64>,
    op_id: Option<OperationId>,
    device: &Device,
) -> Result<Outcome> {
    let fingerprint = op_id.map(|_| fingerprint(op, base_version));
    let (mut tx, seq) = db.begin_change(&actor.school_id.to_string()).await?;
    if let (Some(id), Some(fingerprint)) = (op_id, &fingerprint)
        && let Some(stored) = stored_outcome(&mut tx, actor, id, fingerprint).await?
    {
        tx.rollback().await?;
        return Ok(stored);
    }
    let cx = ChangeCtx::new(*actor, seq, clock.now_ms()).from_device(device);
    let outcome = match apply(&mut tx, &cx, op, base_version).await {
        Ok(record) => Outcome::Applied { record },
        Err(e) if e.is_internal() => return Err(e),
        Err(mut e) => {
            // Undo whatever the refused operation wrote. Its outcome is stored in a new
            // transaction, which first checks that no parallel request stored one meanwhile.
            tx.rollback().await?;
            let outcome = match e.take_current() {
                Some(current) => Outcome::Conflict { current },
                None => Outcome::Rejected {
                    error: e.into_body(),
                },
            };
            let (Some(id), Some(fingerprint)) = (op_id, &fingerprint) else {
                return Ok(outcome);
            };
            let (again, _) = db.begin_change(&actor.school_id.to_string()).await?;
            tx = again;
            if let Some(stored) = stored_outcome(&mut tx, actor, id, fingerprint).await? {
                tx.rollback().await?;
                return Ok(stored);
            }
            store_outcome(&mut tx, actor, id, fingerprint, &outcome, cx.now).await?;
            tx.commit().await?;
            return Ok(outcome);
        }
    };
    if let (Some(id), Some(fingerprint)) = (op_id, &fingerprint) {
        store_outcome(&mut tx, actor, id, fingerprint, &outcome, cx.now).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// What an operation asks for, so a reused id with a different request is recognised.
fn fingerprint(op: &OpKind, base_version: Option<i64>) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(&(op, base_version)).unwrap_or_default();
    hex(&Sha256::digest(json))
}

async fn stored_outcome(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: OperationId,
    fingerprint: &str,
) -> Result<Option<Outcome>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT actor_id, request_hash, outcome FROM applied_operation
         WHERE school_id = $1 AND op_id = $2",
    )
    .bind(actor.school_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((actor_id, request_hash, outcome)) = row else {
        return Ok(None);
    };
    if actor_id != actor.staff_id.to_string() || request_hash != fingerprint {
        return Ok(Some(Outcome::Rejected {
            error: ErrorBody::new(
                ErrorCode::OperationIdReused,
                "this operation id was already used for a different change: send the change with a new id",
            ),
        }));
    }
    serde_json::from_str(&outcome)
        .map(Some)
        .map_err(Error::internal)
}

async fn store_outcome(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: OperationId,
    fingerprint: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<()> {
    let json = serde_json::to_string(outcome).map_err(Error::internal)?;
    sqlx::query(
        "INSERT INTO applied_operation (school_id, op_id, actor_id, request_hash, outcome, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor.school_id.to_string())
    .bind(id.to_string())
    .bind(actor.staff_id.to_string())
    .bind(fingerprint)
    .bind(json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Runs one operation for a REST request (no operation id: a request is not replayed) and
/// answers the record, or the error the outcome carries.
pub async fn execute_for(
    state: &crate::AppState,
    auth: &crate::auth::Authenticated,
    op: &OpKind,
    base_version: Option<i64>,
) -> Result<Option<Record>> {
    let outcome = execute(
        &state.db,
        &state.clock,
        &auth.actor,
        op,
        base_version,
        None,
        &auth.device,
    )
    .await?;
    into_record(outcome)
}

/// Turns an outcome into a REST answer: the record, or the error it carries.
fn into_record(outcome: Outcome) -> Result<Option<Record>> {
    match outcome {
        Outcome::Applied { record } => Ok(record),
        Outcome::Conflict { current } => Err(Error::version_conflict(current)),
        Outcome::Rejected { error } => Err(Error::from_body(error)),
    }
}

/// Applies one operation inside the caller's transaction, which must have been started with
/// [`Db::begin_change`] for `cx.seq`. Returns the record afterwards, as the actor sees it.
pub async fn apply(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    op: &OpKind,
    base: Option<i64>,
) -> Result<Option<Record>> {
    match op {
        OpKind::ClassCreate {
            class_id,
            name,
            year_group,
        } => class_create(conn, cx, *class_id, name, year_group.as_deref()).await,
        OpKind::ClassUpdate {
            class_id,
            name,
            year_group,
            archived,
        } => {
            let changes = ClassChanges {
                name: name.as_deref(),
                year_group: year_group.as_ref().map(|y| y.as_deref()),
                archived: *archived,
            };
            class_update(conn, cx, *class_id, base, changes).await
        }
        OpKind::ClassDelete { class_id } => class_delete(conn, cx, *class_id, base).await,
        OpKind::ClassAssignTeacher { class_id, staff_id } => {
            class_assign(conn, cx, *class_id, *staff_id).await
        }
        OpKind::ClassUnassignTeacher { class_id, staff_id } => {
            class_unassign(conn, cx, *class_id, *staff_id).await
        }
        OpKind::LearnerCreate {
            learner_id,
            given_name,
            family_name,
            username,
            email,
            classes,
        } => {
            let new = NewLearnerInput {
                id: *learner_id,
                given_name,
                family_name,
                username: username.as_deref(),
                email: email.as_deref(),
                classes,
            };
            learner_create(conn, cx, new).await
        }
        OpKind::LearnerUpdate {
            learner_id,
            given_name,
            family_name,
            username,
            email,
        } => {
            let patch = LearnerChanges {
                given_name: given_name.as_deref(),
                family_name: family_name.as_deref(),
                username: username.as_deref(),
                email: email.as_ref().map(|e| e.as_deref()),
            };
            learner_update(conn, cx, *learner_id, base, patch).await
        }
        OpKind::LearnerEnrol {
            learner_id,
            class_id,
        } => learner_enrol(conn, cx, *learner_id, base, *class_id).await,
        OpKind::LearnerUnenrol {
            learner_id,
            class_id,
        } => learner_unenrol(conn, cx, *learner_id, base, *class_id).await,
        OpKind::LearnerMove {
            learner_id,
            from,
            to,
        } => learner_move(conn, cx, *learner_id, base, *from, *to).await,
        OpKind::LearnerSetActive { learner_id, active } => {
            learner_set_active(conn, cx, *learner_id, base, *active).await
        }
        OpKind::LearnerEmailMove { learner_id, from } => {
            learner_email_move(conn, cx, *learner_id, base, *from).await
        }
    }
}
