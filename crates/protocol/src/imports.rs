//! Importing a school's roster: what an import would do, shown before anything changes.

use classkeys_domain::ids::{ImportId, LearnerId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The largest roster file accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// Why the roster file `name` of `bytes` bytes cannot be sent, if it is too large: checked
/// from the file's size before a byte of it is read.
pub fn too_large(name: &str, bytes: u64) -> Option<String> {
    if bytes <= MAX_IMPORT_BYTES as u64 {
        return None;
    }
    let mb = bytes as f64 / f64::from(1 << 20);
    let size = if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{mb:.0} MB")
    };
    Some(format!(
        "{name} is {size}, more than the {} MB a roster file may be: export one school, or only the learners",
        MAX_IMPORT_BYTES >> 20
    ))
}

/// How an uploaded roster file is read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `oneroster` (a zip) or `csv` (a spreadsheet's learners); recognised from the file
    /// when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// For a OneRoster export of several schools: the `sourcedId` of the org to import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The file's name, as shown in refusals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a spreadsheet whose column names are not recognised: which column holds which
    /// field, one per line as `COLUMN=field` (`Vorname=given_name`). Fields: `id`,
    /// `given_name`, `family_name`, `class`, `username`, `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
}

/// How long a preview may be applied for: after that, the file is previewed again.
pub const PREVIEW_LIFETIME_HOURS: i64 = 24;

/// What importing a file would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportPreview {
    /// The preview, to apply with `POST /api/v1/imports/{id}/apply`.
    pub import_id: ImportId,
    /// What the file was read as: `oneroster 1.1`, `oneroster 1.2` or `csv`.
    pub format: String,
    /// Classes the school does not have yet, by name.
    pub classes_added: Vec<String>,
    /// Classes renamed.
    pub classes_renamed: Vec<Renamed>,
    /// Learners to add.
    pub added: Vec<AddedLearner>,
    /// Learners to change.
    pub changed: Vec<ChangedLearner>,
    /// Learners gone from the file, to deactivate (never delete: their email stays
    /// theirs).
    pub deactivated: Vec<LearnerLine>,
    /// Learners the file holds just as the school does.
    pub unchanged: usize,
    /// Staff to add: without a password, each invited to choose one.
    pub staff_added: Vec<AddedStaff>,
    /// Staff whose teaching changes.
    pub staff_changed: Vec<ChangedStaff>,
    /// Rows that cannot be imported, each with where and why.
    pub refused: Vec<RefusedRow>,
    /// Why the import must wait for a lead teacher's confirmation, if it must.
    pub held: Vec<String>,
}

impl ImportPreview {
    /// Whether applying would change nothing: the school already matches the file.
    pub fn changes_nothing(&self) -> bool {
        self.classes_added.is_empty()
            && self.classes_renamed.is_empty()
            && self.added.is_empty()
            && self.changed.is_empty()
            && self.deactivated.is_empty()
            && self.staff_added.is_empty()
            && self.staff_changed.is_empty()
    }
}

/// A class renamed by the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// A learner the import adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddedLearner {
    pub given_name: String,
    pub family_name: String,
    pub username: String,
    /// Whether the username was made by ClassKeys (the file had none).
    pub username_made: bool,
    pub email: Option<String>,
    /// Their classes, by name.
    pub classes: Vec<String>,
    /// Disabled in the file: added deactivated.
    pub deactivated: bool,
}

/// A member of staff the import adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddedStaff {
    pub name: String,
    pub username: String,
    pub username_made: bool,
    /// Where their invitation goes; without one, the lead teacher hands them a link.
    pub email: Option<String>,
    /// An administrator in the file: a lead teacher.
    pub lead: bool,
    /// The classes they teach, by name.
    pub classes: Vec<String>,
}

/// A member of staff whose teaching the import changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangedStaff {
    pub username: String,
    pub name: String,
    /// Classes they start and stop teaching, by name.
    pub teaches: Vec<String>,
    pub stops_teaching: Vec<String>,
}

/// A learner of the school, as a preview names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LearnerLine {
    pub learner_id: LearnerId,
    pub username: String,
    pub name: String,
}

/// A learner the import changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangedLearner {
    pub learner: LearnerLine,
    /// Fields that change, field by field.
    pub fields: Vec<FieldChange>,
    /// Whether a deactivated learner comes back.
    pub reactivated: bool,
    /// Classes joined and left, by name.
    pub joins: Vec<String>,
    pub leaves: Vec<String>,
}

/// One field that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// A row the import refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefusedRow {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub reason: String,
}

/// Applying a previewed import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportApply {
    /// Confirms an import that a guard holds (see the preview's `held`).
    #[serde(default)]
    pub confirm: bool,
}

/// What applying an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportApplied {
    pub import_id: ImportId,
    pub classes_added: usize,
    pub classes_renamed: usize,
    pub added: usize,
    pub changed: usize,
    pub deactivated: usize,
    pub staff_added: usize,
    pub staff_changed: usize,
    /// How each new member of staff gets to choose their password.
    pub invitations: Vec<StaffInvitation>,
    /// Changes left out because their record changed after the preview (or a username or
    /// address was taken meanwhile): reported, never overwritten.
    pub skipped: Vec<SkippedChange>,
}

impl ImportApplied {
    /// Whether applying changed nothing.
    pub fn changed_nothing(&self) -> bool {
        self.classes_added
            + self.classes_renamed
            + self.added
            + self.changed
            + self.deactivated
            + self.staff_added
            + self.staff_changed
            == 0
    }
}

/// How long a new member of staff's invitation link works.
pub const INVITATION_LIFETIME_DAYS: u64 = 7;

/// A new member of staff's invitation to choose a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffInvitation {
    pub username: String,
    pub name: String,
    /// The address the invitation was mailed to.
    pub mailed_to: Option<String>,
    /// Without an address: the link to hand them, shown this once. It works once, for
    /// [`INVITATION_LIFETIME_DAYS`] days.
    pub link: Option<String>,
}

/// A change an import left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkippedChange {
    /// The learner or class, as the preview named it.
    pub who: String,
    pub reason: String,
}
