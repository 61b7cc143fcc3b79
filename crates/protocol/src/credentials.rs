//! Passwords, parent access codes, exports, learner sign-in and the audit log.
//!
//! Passwords are chosen on the client (the generator lives in `classkeys-domain`, so a
//! teacher can preview and regenerate offline) and sent to the server, which checks them,
//! hashes them, keeps a sealed copy while a teacher set them, and writes the audit log.

use classkeys_domain::ids::{ClassId, LearnerId, StaffId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// Where a password sent to the server came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSource {
    /// Made by the generator: the server checks it has a generated shape.
    Generated,
    /// Typed by the teacher: checked against the school's policy and a strength estimate.
    Typed,
}

/// Set one learner's password.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerPasswordReset {
    /// The new password. Never logged.
    pub password: String,
    /// Generated or typed.
    pub source: PasswordSource,
    /// The learner must choose a new password at their next sign-in.
    #[serde(default)]
    pub must_change: bool,
}

impl std::fmt::Debug for LearnerPasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerPasswordReset")
            .field("password", &"<redacted>")
            .field("source", &self.source)
            .field("must_change", &self.must_change)
            .finish()
    }
}

/// One learner's new password in an individual class reset.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerPassword {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their new, generated password. Never logged.
    pub password: String,
}

impl std::fmt::Debug for LearnerPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerPassword")
            .field("learner_id", &self.learner_id)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reset the passwords of every active learner of a class, all or none.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ClassPasswordReset {
    /// One password for every learner.
    Same {
        /// The password. Never logged.
        password: String,
        /// Generated or typed.
        source: PasswordSource,
        /// The learners must choose a new password at their next sign-in.
        #[serde(default)]
        must_change: bool,
    },
    /// A new generated password for each learner: exactly the class's active learners, as
    /// previewed. If the class changed since, the server answers `class_changed`.
    Individual {
        /// One entry per active learner.
        passwords: Vec<LearnerPassword>,
        /// The learners must choose a new password at their next sign-in.
        #[serde(default)]
        must_change: bool,
    },
}

impl ClassPasswordReset {
    /// `same` or `individual`, as audited.
    pub fn mode(&self) -> &'static str {
        match self {
            ClassPasswordReset::Same { .. } => "same",
            ClassPasswordReset::Individual { .. } => "individual",
        }
    }
}

impl std::fmt::Debug for ClassPasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassPasswordReset::Same {
                source,
                must_change,
                ..
            } => f
                .debug_struct("Same")
                .field("password", &"<redacted>")
                .field("source", source)
                .field("must_change", must_change)
                .finish(),
            ClassPasswordReset::Individual {
                passwords,
                must_change,
            } => f
                .debug_struct("Individual")
                .field("passwords", passwords)
                .field("must_change", must_change)
                .finish(),
        }
    }
}

/// Who set a learner's current password, as every learner record shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// No password yet: the learner cannot sign in with one.
    #[default]
    NotSet,
    /// A teacher set it: it can be shown again.
    SetByTeacher,
    /// The learner chose it: it cannot be shown, only reset.
    SetByLearner,
}

/// Why access codes are fetched, which decides what comes back and how it is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodesPurpose {
    /// Usernames and parent access codes, passwords hidden.
    View,
    /// Passwords shown on screen.
    Reveal,
    /// Passwords for printed login cards.
    Cards,
}

/// Ask for access codes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CodesRequest {
    /// Why: decides whether passwords are included and how it is audited.
    pub purpose: CodesPurpose,
}

/// One learner's access codes.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessCode {
    /// The learner.
    pub learner_id: LearnerId,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Sign-in name.
    pub username: String,
    /// Deactivated learners cannot sign in.
    pub active: bool,
    /// Who set the password.
    pub password_state: PasswordState,
    /// The password, when asked for and set by a teacher.
    pub password: Option<String>,
    /// The learner must choose a new password at their next sign-in.
    pub must_change: bool,
    /// The code a parent uses to link to the learner.
    pub parent_code: String,
}

impl std::fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCode")
            .field("learner_id", &self.learner_id)
            .field("username", &self.username)
            .field("password_state", &self.password_state)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The access codes of a class or of one learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessCodes {
    /// The class, when the codes are a class's.
    pub class_id: Option<ClassId>,
    /// The class's name.
    pub class_name: Option<String>,
    /// The school's name, for login cards.
    pub school_name: String,
    /// Where the learners sign in.
    pub sign_in_url: String,
    /// One entry per learner, by family then given name.
    pub codes: Vec<AccessCode>,
}

/// What a lead teacher exports for the whole school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchoolExportKind {
    /// Every learner's access codes (the school-wide access-code file).
    AccessCodes,
    /// The student database: classes, names, usernames, emails, status — no passwords.
    Students,
    /// The whole roster (classes, learners, staff, who is in and who teaches each) as a
    /// OneRoster 1.2 CSV zip — no passwords — which imports back as the same records.
    Roster,
}

/// Export the whole school. Lead teachers only, after entering their password again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct SchoolExportRequest {
    /// Which file.
    pub kind: SchoolExportKind,
    /// The lead teacher's own password. Never logged.
    pub password: String,
}

impl std::fmt::Debug for SchoolExportRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchoolExportRequest")
            .field("kind", &self.kind)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A learner signs in (the sign-in pages and learner apps use this).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerSignInRequest {
    /// The school's slug.
    pub school: String,
    /// The learner's username.
    pub username: String,
    /// The password. Never logged.
    pub password: String,
    /// The device token an earlier sign-in on this device handed out, if any. Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl std::fmt::Debug for LearnerSignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerSignInRequest")
            .field("school", &self.school)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A learner's new session.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerSession {
    /// The bearer token. Shown once; the server keeps only its hash.
    pub token: String,
    /// When the session ends by itself.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The learner.
    pub learner_id: LearnerId,
    /// Their username.
    pub username: String,
    /// Their given name, for a greeting.
    pub given_name: String,
    /// They must choose a new password now.
    pub must_change_password: bool,
    /// Keep it and send it with the next sign-in from this device. Never logged.
    pub device_token: String,
}

impl std::fmt::Debug for LearnerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerSession")
            .field("token", &"<redacted>")
            .field("learner_id", &self.learner_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The signed-in learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LearnerMe {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their username.
    pub username: String,
    /// Their given name.
    pub given_name: String,
    /// They must choose a new password now.
    pub must_change_password: bool,
}

/// A signed-in learner choosing their own password.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LearnerPasswordChange {
    /// The password they signed in with. Never logged.
    pub current_password: String,
    /// The password they chose. Never logged.
    pub new_password: String,
}

impl std::fmt::Debug for LearnerPasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerPasswordChange")
            .field("current_password", &"<redacted>")
            .field("new_password", &"<redacted>")
            .finish()
    }
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Parent access codes shown on screen (passwords hidden).
    ParentCodesShown,
    /// Passwords shown on screen.
    PasswordsRevealed,
    /// One learner's password set.
    PasswordReset,
    /// A whole class's passwords set.
    ClassPasswordsReset,
    /// A class's access codes downloaded.
    AccessCodesExported,
    /// Login cards made.
    CardsPrinted,
    /// A parent access code replaced.
    ParentCodeRotated,
    /// The whole school's access codes downloaded.
    SchoolAccessCodesExported,
    /// The school's student database downloaded.
    SchoolStudentsExported,
    /// A learner changed their own password.
    LearnerPasswordChanged,
    /// A message was sent to learners (with personal sign-in links when it asked for them).
    MessageSent,
    /// A learner's wait after wrong passwords was lifted.
    LearnerUnlocked,
    /// A teacher mailed a learner a link to choose a new password.
    ResetLinkSent,
    /// An email address was moved from one learner's account to another's.
    EmailMoved,
    /// A roster file was imported: the entry names the import, which holds every change.
    RosterImported,
}

impl AuditAction {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ParentCodesShown => "parent_codes_shown",
            AuditAction::PasswordsRevealed => "passwords_revealed",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::ClassPasswordsReset => "class_passwords_reset",
            AuditAction::AccessCodesExported => "access_codes_exported",
            AuditAction::CardsPrinted => "cards_printed",
            AuditAction::ParentCodeRotated => "parent_code_rotated",
            AuditAction::SchoolAccessCodesExported => "school_access_codes_exported",
            AuditAction::SchoolStudentsExported => "school_students_exported",
            AuditAction::LearnerPasswordChanged => "learner_password_changed",
            AuditAction::MessageSent => "message_sent",
            AuditAction::LearnerUnlocked => "learner_unlocked",
            AuditAction::ResetLinkSent => "reset_link_sent",
            AuditAction::EmailMoved => "email_moved",
            AuditAction::RosterImported => "roster_imported",
        }
    }

    /// What was done, in words, as the audit screens and the command line show it.
    pub fn describe(self) -> &'static str {
        match self {
            AuditAction::ParentCodesShown => "Showed parent access codes",
            AuditAction::PasswordsRevealed => "Showed passwords",
            AuditAction::PasswordReset => "Set a password",
            AuditAction::ClassPasswordsReset => "Reset a class's passwords",
            AuditAction::AccessCodesExported => "Downloaded access codes",
            AuditAction::CardsPrinted => "Made login cards",
            AuditAction::ParentCodeRotated => "Replaced a parent access code",
            AuditAction::SchoolAccessCodesExported => "Exported the whole school's access codes",
            AuditAction::SchoolStudentsExported => "Exported the student database",
            AuditAction::LearnerPasswordChanged => "Changed their own password",
            AuditAction::MessageSent => "Sent a message",
            AuditAction::LearnerUnlocked => "Lifted the wait after wrong passwords",
            AuditAction::ResetLinkSent => "Sent a link to choose a new password",
            AuditAction::EmailMoved => "Moved an email address to another account",
            AuditAction::RosterImported => "Imported the school's roster",
        }
    }

    /// Every action.
    pub const ALL: [AuditAction; 15] = [
        AuditAction::ParentCodesShown,
        AuditAction::PasswordsRevealed,
        AuditAction::PasswordReset,
        AuditAction::ClassPasswordsReset,
        AuditAction::AccessCodesExported,
        AuditAction::CardsPrinted,
        AuditAction::ParentCodeRotated,
        AuditAction::SchoolAccessCodesExported,
        AuditAction::SchoolStudentsExported,
        AuditAction::LearnerPasswordChanged,
        AuditAction::MessageSent,
        AuditAction::LearnerUnlocked,
        AuditAction::ResetLinkSent,
        AuditAction::EmailMoved,
        AuditAction::RosterImported,
    ];
}

/// Who made an audit entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditActorKind {
    /// A member of staff, through the app or the command line.
    #[default]
    Staff,
    /// A learner, on the school's pages.
    Learner,
    /// The server itself (mail sent, links expired).
    Server,
}

/// A learner named in an audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditLearner {
    /// The learner.
    pub id: LearnerId,
    /// Their username now.
    pub username: String,
    /// Their name now.
    pub name: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Entry id (UUIDv7, so ids sort by time).
    pub id: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who acted: a member of staff, a learner, or the server itself.
    #[serde(default)]
    pub actor: AuditActorKind,
    /// The member of staff who acted.
    pub actor_id: Option<StaffId>,
    /// The name of whoever acted, as shown (none for the server).
    pub actor_name: Option<String>,
    /// What.
    pub action: AuditAction,
    /// The class it was about.
    pub class_id: Option<ClassId>,
    /// Its name now.
    pub class_name: Option<String>,
    /// How many learners it touched.
    pub learner_count: i64,
    /// The learners it touched (the first 50, for teachers only those they may see).
    pub learners: Vec<AuditLearner>,
    /// Choices made: mode, style, file kind.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The device it came from, as the client named itself.
    pub device: Option<String>,
}

/// Reading the audit log, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this entry id (the previous page's `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Only entries about this learner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner_id: Option<LearnerId>,
    /// Entries to return, at most 500 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The header a client names its device with, for the audit log ("Ms Smith's laptop").
pub const DEVICE_HEADER: &str = "x-classkeys-device";

/// The longest device name kept.
pub const MAX_DEVICE_CHARS: usize = 100;
