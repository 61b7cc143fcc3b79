//! Sync between a client's replica and the server (pull changes, push operations).
//!
//! Pull returns the current state of every record that changed after the cursor, in the
//! order of the school's change sequence, plus removals: records deleted, or no longer
//! visible to the caller (a teacher unassigned from a class). Push applies operations one by
//! one, atomically and idempotently: replaying an operation id returns the stored outcome.

use classkeys_domain::ids::{ClassId, LearnerId, OperationId, StaffId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ErrorBody;
use crate::roster::{ClassRecord, LearnerRecord, StaffRecord};

/// Most changes in one pull page.
pub const MAX_PULL_LIMIT: u32 = 1000;
/// Most operations in one push.
pub const MAX_PUSH_OPERATIONS: usize = 500;

/// Any record that sync carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A class.
    Class(ClassRecord),
    /// A learner.
    Learner(LearnerRecord),
    /// A member of staff (lead teachers only).
    Staff(StaffRecord),
}

/// The kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A class.
    Class,
    /// A learner.
    Learner,
    /// A member of staff.
    Staff,
}

/// Why a record leaves the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// The record was deleted (a tombstone).
    Deleted,
    /// The record still exists but the caller may no longer see it.
    NoLongerVisible,
}

/// One entry of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// Insert or replace this record.
    Upsert {
        /// The record as it is now.
        record: Record,
    },
    /// Remove this record from the replica.
    Remove {
        /// Its kind.
        kind: EntityKind,
        /// Its id.
        id: Uuid,
        /// Why.
        reason: RemovalReason,
    },
}

/// Pull parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The cursor from the previous pull; absent for a first, full pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Changes per page, at most 1000 (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One page of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PullResponse {
    /// Changes in order; apply them in this order.
    pub changes: Vec<Change>,
    /// Where the next pull starts. Opaque.
    pub cursor: String,
    /// Whether more changes are waiting: pull again at once.
    pub more: bool,
}

/// A roster operation, as queued by an offline client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpKind {
    /// Create a class.
    ClassCreate {
        /// Its id, chosen by the client.
        class_id: ClassId,
        /// Its name.
        name: String,
        /// Its year group.
        #[serde(default)]
        year_group: Option<String>,
    },
    /// Rename a class, change its year group, archive or restore it.
    ClassUpdate {
        /// The class.
        class_id: ClassId,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New year group; `null` clears it.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::double_option"
        )]
        #[schema(value_type = Option<String>)]
        year_group: Option<Option<String>>,
        /// Archive (`true`) or restore (`false`); lead teachers only.
        #[serde(default)]
        archived: Option<bool>,
    },
    /// Delete an empty class.
    ClassDelete {
        /// The class.
        class_id: ClassId,
    },
    /// Make a member of staff one of a class's teachers.
    ClassAssignTeacher {
        /// The class.
        class_id: ClassId,
        /// The teacher.
        staff_id: StaffId,
    },
    /// Take a member of staff off a class.
    ClassUnassignTeacher {
        /// The class.
        class_id: ClassId,
        /// The teacher.
        staff_id: StaffId,
    },
    /// Create a learner.
    LearnerCreate {
        /// Its id, chosen by the client.
        learner_id: LearnerId,
        /// Given name.
        given_name: String,
        /// Family name.
        family_name: String,
        /// Username; suggested from the names when absent.
        #[serde(default)]
        username: Option<String>,
        /// Email.
        #[serde(default)]
        email: Option<String>,
        /// Classes.
        #[serde(default)]
        classes: Vec<ClassId>,
    },
    /// Change a learner's names, username or email.
    LearnerUpdate {
        /// The learner.
        learner_id: LearnerId,
        /// New given name.
        #[serde(default)]
        given_name: Option<String>,
        /// New family name.
        #[serde(default)]
        family_name: Option<String>,
        /// New username.
        #[serde(default)]
        username: Option<String>,
        /// New email; `null` removes it.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::double_option"
        )]
        #[schema(value_type = Option<String>)]
        email: Option<Option<String>>,
    },
    /// Enrol a learner in a class.
    LearnerEnrol {
        /// The learner.
        learner_id: LearnerId,
        /// The class.
        class_id: ClassId,
    },
    /// Take a learner out of a class.
    LearnerUnenrol {
        /// The learner.
        learner_id: LearnerId,
        /// The class.
        class_id: ClassId,
    },
    /// Move a learner from one class to another.
    LearnerMove {
        /// The learner.
        learner_id: LearnerId,
        /// The class left.
        from: ClassId,
        /// The class joined.
        to: ClassId,
    },
    /// Deactivate (`false`) or reactivate (`true`) a learner.
    LearnerSetActive {
        /// The learner.
        learner_id: LearnerId,
        /// The new state.
        active: bool,
    },
    /// Move the email address of learner `from` to learner `learner_id`, in one step: it
    /// leaves `from` (deactivated too when it is the same learner's other account, the
    /// same name) and replaces any address `learner_id` had.
    LearnerEmailMove {
        /// The learner who gets the address.
        learner_id: LearnerId,
        /// The learner who holds it now.
        from: LearnerId,
    },
}

/// One queued operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Operation {
    /// Chosen by the client; replaying the same id returns the stored outcome.
    pub id: OperationId,
    /// The record version the client saw when it made the change; checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
    /// What to do.
    pub op: OpKind,
}

/// A batch of operations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PushRequest {
    /// Applied in order, each on its own.
    pub operations: Vec<Operation>,
}

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done. `record` is the record afterwards (absent after a deletion).
    Applied {
        /// The record afterwards.
        #[serde(default)]
        record: Option<Record>,
    },
    /// Not done: the record changed since `base_version`. Resolve, then send a new operation.
    Conflict {
        /// The record as it is now.
        current: Record,
    },
    /// Not done, and retrying will not help.
    Rejected {
        /// Why.
        error: ErrorBody,
    },
}

/// The outcome of one operation of a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpResult {
    /// The operation's id.
    pub id: OperationId,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The answer to a push, one result per operation, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushResponse {
    /// Results in the order of the request.
    pub results: Vec<OpResult>,
}
