//! "Why can't they sign in?": what the server finds out about one learner, as findings in
//! plain sentences, each with the fixes the asking teacher may apply, and the facts they
//! rest on (for scripts, and for the app to lay out).
//!
//! Nothing here ever carries a password, typed or stored: only who set one and when.

use classkeys_domain::ids::LearnerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::credentials::PasswordState;

/// The diagnosis of one learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Diagnosis {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their username.
    pub username: String,
    /// Their name, as shown.
    pub name: String,
    /// When the server looked (Unix ms).
    pub checked_at: i64,
    /// The school's sign-in page, where the learner signs in.
    pub sign_in_url: String,
    /// Every check, problems first.
    pub findings: Vec<Finding>,
    /// What the findings rest on.
    pub facts: Facts,
}

impl Diagnosis {
    /// The findings that stop the learner signing in.
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
    }
}

/// One check and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// The check's heading, as shown.
    pub heading: String,
    /// Whether it stops the learner signing in.
    pub severity: Severity,
    /// What was found, in a sentence or two.
    pub says: String,
    /// What the asking teacher may do about it, most useful first.
    pub fixes: Vec<Fix>,
}

/// What is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Active or deactivated.
    Account,
    /// Waiting after too many wrong passwords.
    Lock,
    /// Who set the password, and whether it must change.
    Password,
    /// The email address on file, and others like it.
    Email,
    /// Other accounts that may be this learner's.
    Duplicates,
    /// The last messages sent to the learner.
    Mail,
    /// The newest link to choose a new password.
    ResetLink,
    /// Where the learner signs in.
    SignInPage,
    /// When the learner last signed in.
    LastSignIn,
}

impl Check {
    /// A short heading for the check.
    pub fn heading(self) -> &'static str {
        match self {
            Check::Account => "Account",
            Check::Lock => "Wrong passwords",
            Check::Password => "Password",
            Check::Email => "Email",
            Check::Duplicates => "Other accounts",
            Check::Mail => "Mail",
            Check::ResetLink => "Password links",
            Check::SignInPage => "Sign-in page",
            Check::LastSignIn => "Last sign-in",
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// It stops the learner signing in.
    Problem,
    /// It may: worth a look.
    Warning,
    /// Nothing wrong.
    Fine,
}

/// A fix the asking teacher may apply, each through an existing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "fix", rename_all = "snake_case")]
pub enum Fix {
    /// Let the learner sign in again (`POST …/reactivate`).
    Reactivate,
    /// Lift the wait after wrong passwords (`POST …/unlock`).
    Unlock,
    /// Mail the learner a sign-in link (`POST /api/v1/messages` with `[loginLink]`).
    SendSignInLink,
    /// Mail the learner a link to choose a new password (`POST …/reset-link`).
    SendResetLink,
    /// Set a new password, or show the one a teacher set (`POST …/password`).
    ResetPassword,
    /// Change the email address on file (`PATCH /api/v1/learners/{id}`).
    EditEmail,
    /// Move an address from another account to this one (`POST /api/v1/emails/move`).
    MoveEmail {
        /// The account holding the address now.
        from: LearnerId,
        /// Its username.
        from_username: String,
        /// The address.
        address: String,
    },
    /// Copy the school's sign-in page address to give the learner.
    CopySignInPage,
}

/// What the findings rest on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Facts {
    /// Whether the account is active.
    pub active: bool,
    /// When it was last deactivated or reactivated (Unix ms), if recorded.
    pub status_changed_at: Option<i64>,
    /// By whom (display name), if recorded.
    pub status_changed_by: Option<String>,
    /// Wrong passwords since the last successful sign-in (never the passwords typed).
    pub failed_attempts: i64,
    /// When the last wrong password was typed (Unix ms).
    pub last_failed_at: Option<i64>,
    /// Until when sign-in is refused after wrong passwords (Unix ms), if it is now.
    pub locked_until: Option<i64>,
    /// Who set the password.
    pub password: PasswordState,
    /// When (Unix ms).
    pub password_set_at: Option<i64>,
    /// The teacher who set it (display name), when a teacher did and it was recorded.
    pub password_set_by: Option<String>,
    /// Whether the learner must choose a new password at their next sign-in.
    pub must_change: bool,
    /// The email address on file.
    pub email: Option<String>,
    /// Other accounts that may be this learner's.
    pub look_alikes: Vec<LookAlike>,
    /// The last messages sent to the learner, newest first.
    pub mail: Vec<MailFact>,
    /// The newest link to choose a new password, if one was ever sent.
    pub reset_link: Option<ResetLinkFact>,
    /// When a link that no longer works was last opened (Unix ms).
    pub dead_link_opened_at: Option<i64>,
    /// When the learner last signed in (Unix ms).
    pub last_sign_in_at: Option<i64>,
}

/// Another account that may be this learner's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LookAlike {
    /// How it resembles this one.
    pub resemblance: Resemblance,
    /// Whether that account is active.
    pub active: bool,
    /// The account, when the asking teacher may see it; otherwise nothing about it is said
    /// but that it exists.
    pub account: Option<OtherAccount>,
}

/// An account the asking teacher may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OtherAccount {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their username.
    pub username: String,
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: Option<String>,
}

/// How another account resembles the diagnosed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resemblance {
    /// The same given and family names (accents and capitals aside).
    SameName,
    /// An email address that differs only in capital letters.
    EmailCase,
    /// An email address that differs only by dots before the `@`.
    EmailDots,
    /// An email address that differs by one letter.
    EmailOneLetter,
}

/// A message sent to the learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailFact {
    /// What it was.
    pub kind: MailKind,
    /// Its subject line.
    pub title: String,
    /// Where it went.
    pub to: String,
    /// When it was queued (Unix ms).
    pub queued_at: i64,
    /// What became of it.
    pub state: MailState,
    /// When the mail server took it (Unix ms).
    pub sent_at: Option<i64>,
    /// The mail server's last answer, when it refused or failed.
    pub error: Option<String>,
}

/// What a message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// The login helper's answer to "I forgot my username".
    UsernameReminder,
    /// The login helper's "no account uses this address".
    NoAccount,
    /// The login helper's answer to "I forgot my password".
    PasswordHelp,
    /// A link to choose a new password, sent by a teacher.
    ResetLink,
    /// A teacher's message.
    Message,
    /// A teacher's own copy of a message.
    MessageCopy,
    /// A new member of staff's invitation to choose their password.
    StaffInvitation,
}

impl MailKind {
    /// In a few words.
    pub fn describe(self) -> &'static str {
        match self {
            MailKind::UsernameReminder => "username reminder",
            MailKind::NoAccount => "\"no account\" answer",
            MailKind::PasswordHelp => "password help",
            MailKind::ResetLink => "password link from a teacher",
            MailKind::Message => "message from a teacher",
            MailKind::MessageCopy => "copy of a message",
            MailKind::StaffInvitation => "invitation to choose a password",
        }
    }
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting to be sent (or to be tried again).
    Queued,
    /// Taken by the mail server.
    Sent,
    /// Refused by the mail server: the address does not take mail.
    Refused,
    /// Given up after trying for too long.
    Failed,
}

/// The newest link to choose a new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResetLinkFact {
    /// When it was sent (Unix ms).
    pub sent_at: i64,
    /// When it stops working (Unix ms).
    pub expires_at: i64,
    /// Whether it works now.
    pub works: bool,
    /// How many were sent in the day before the newest (only the newest works).
    pub sent_in_last_day: i64,
}

/// What a teacher-sent password link did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResetLinkSent {
    /// Where it went.
    pub to: String,
    /// When it stops working (Unix ms).
    pub expires_at: i64,
}

/// The learner's state after their wait was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unlocked {
    /// Whether they were waiting at all.
    pub was_locked: bool,
}
