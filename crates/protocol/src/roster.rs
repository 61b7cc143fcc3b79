//! Classes, learners and staff as the API shows them, and the requests that change them.

use classkeys_domain::identity::Role;
use classkeys_domain::ids::{ClassId, LearnerId, StaffId};
use serde::{Deserialize, Serialize};

use crate::credentials::PasswordState;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// A teacher of a class, as the class lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffRef {
    /// Staff id.
    pub id: StaffId,
    /// Username.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
}

/// A class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClassRecord {
    /// Class id.
    pub id: ClassId,
    /// Name, unique within the school ignoring case.
    pub name: String,
    /// Year group label, if any.
    pub year_group: Option<String>,
    /// Archived classes keep their learners but are no longer taught.
    pub archived: bool,
    /// The class's teachers.
    pub teachers: Vec<StaffRef>,
    /// Number of learners enrolled (active and deactivated).
    pub learner_count: i64,
    /// Increases with every change; send it back as `base_version` to detect conflicts.
    pub version: i64,
    /// When the class last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LearnerRecord {
    /// Learner id.
    pub id: LearnerId,
    /// Sign-in name, unique within the school.
    pub username: String,
    /// Given (first) name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email address, if the learner has one.
    pub email: Option<String>,
    /// Deactivated learners cannot sign in but keep their username and email.
    pub active: bool,
    /// The learner's classes, of those the caller may see.
    pub classes: Vec<ClassId>,
    /// Who set the learner's password.
    #[serde(default)]
    pub password: PasswordState,
    /// The learner must choose a new password at their next sign-in.
    #[serde(default)]
    pub must_change_password: bool,
    /// Increases with every change; send it back as `base_version` to detect conflicts.
    pub version: i64,
    /// When the learner last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A member of staff, as lead teachers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffRecord {
    /// Staff id.
    pub id: StaffId,
    /// Username.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role in the school.
    pub role: Role,
    /// Deactivated staff cannot sign in.
    pub active: bool,
}

/// Create a class.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewClass {
    /// Chosen by the client when it creates records offline; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ClassId>,
    /// Class name.
    pub name: String,
    /// Year group label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_group: Option<String>,
}

/// Change a class. Absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ClassPatch {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New year group; `null` clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub year_group: Option<Option<String>>,
    /// Archive (`true`) or restore (`false`). Lead teachers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// The version the change was based on; a mismatch answers `version_conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}

/// Create a learner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewLearner {
    /// Chosen by the client when it creates records offline; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<LearnerId>,
    /// Given (first) name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Username; suggested from the names when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Classes to enrol the learner in. Teachers must name at least one of their own.
    #[serde(default)]
    pub classes: Vec<ClassId>,
}

/// Change a learner's names, username or email. Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LearnerPatch {
    /// New given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// New family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// New username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New email; `null` removes it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The version the change was based on; a mismatch answers `version_conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}

/// Enrol a learner in a class.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Enrolment {
    /// The class.
    pub class_id: ClassId,
}

/// Move a learner from one class to another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerMove {
    /// The class the learner leaves.
    pub from: ClassId,
    /// The class the learner joins.
    pub to: ClassId,
    /// The version the move was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}

/// Move another learner's email address to this learner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailMove {
    /// The learner who holds the address now. When it is the same learner's other account
    /// (the same name) and active, it is deactivated too.
    pub from: LearnerId,
    /// The version of the receiving learner the move was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}

/// Both learners after an email address moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailMoved {
    /// The learner who has the address now.
    pub learner: LearnerRecord,
    /// The learner who held it (without it now; deactivated if it was the same learner's
    /// other account).
    pub from: LearnerRecord,
}

/// Learners who may be one person with two accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateList {
    /// Each likely pair once, the most telling first.
    pub pairs: Vec<DuplicatePair>,
    /// Whether there were more pairs than listed.
    pub truncated: bool,
}

/// Two learners who may be one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicatePair {
    /// How they resemble each other.
    pub resemblance: crate::diagnosis::Resemblance,
    /// Whether they share a class.
    pub shared_class: bool,
    /// One of them (the one holding an email address, when only one does).
    pub first: LearnerRecord,
    /// The other.
    pub second: LearnerRecord,
}

/// Deactivate or reactivate a learner.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ActiveChange {
    /// The version the change was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}

/// Which learners' "how to sign in" sheets to print.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstructionsQuery {
    /// Every active learner of this class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<ClassId>,
    /// This learner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner_id: Option<LearnerId>,
    /// `a4` (the default) or `letter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<String>,
}

/// Learner search and listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LearnerQuery {
    /// Words to find in names, username or email; each word must appear, ignoring case and
    /// accents (`lukasz` finds Łukasz).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only learners of this class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<ClassId>,
    /// Include deactivated learners (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_inactive: Option<bool>,
    /// Rows to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Rows to return, at most 500 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One page of learners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LearnerPage {
    /// The learners on this page, by family name then given name.
    pub items: Vec<LearnerRecord>,
    /// How many learners match in all.
    pub total: i64,
    /// The offset of this page.
    pub offset: u32,
    /// The page size asked for.
    pub limit: u32,
}
