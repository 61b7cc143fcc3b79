//! How typed values are spelled in the database: every status, role, kind, reason and audit
//! action column is encoded and decoded here and nowhere else.
//!
//! Each such type lists its values and says how each is spelled ([`Spelled`]); roles and
//! audit actions keep the spelling their own crates give them on the wire. Queries
//! bind and read them through [`Sql`], so code compares enums, never strings, and a
//! spelling the code does not know (a damaged row, a newer server's value) is a decoding
//! error naming the column's meaning, never a silent default. Ids are read the same way
//! ([`parse_id`](crate::db::parse_id)): a malformed one is an error, never a made-up id.

use std::fmt;
use std::ops::Deref;

use classkeys_domain::identity::Role;
use classkeys_protocol::credentials::{AuditAction, AuditActorKind, PasswordState};
pub use classkeys_protocol::diagnosis::{MailKind, MailState};
use classkeys_protocol::sync::{EntityKind, RemovalReason};
use sqlx::any::{Any, AnyTypeInfo};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A type whose values each have one spelling in the database.
pub trait Spelled: Copy + PartialEq + 'static {
    /// What a value of this type is, for error messages ("account status").
    const WHAT: &'static str;
    /// Every value.
    const ALL: &'static [Self];

    /// The stored spelling.
    fn spelling(self) -> &'static str;

    /// The value a stored spelling stands for.
    fn from_spelling(text: &str) -> Result<Self, Unknown> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.spelling() == text)
            .ok_or_else(|| Unknown {
                what: Self::WHAT,
                found: text.chars().take(40).collect(),
            })
    }
}

/// A stored spelling the code does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {found:?} in the database")]
pub struct Unknown {
    what: &'static str,
    found: String,
}

/// A [`Spelled`] value as bound to and read from a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql<T>(pub T);

impl<T> Deref for Sql<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Spelled + fmt::Debug> Type<Any> for Sql<T> {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'q, T: Spelled> Encode<'q, Any> for Sql<T> {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <&str as Encode<'q, Any>>::encode(self.0.spelling(), buf)
    }
}

impl<'r, T: Spelled> Decode<'r, Any> for Sql<T> {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Sql(T::from_spelling(&text)?))
    }
}

impl<T: Spelled> rusqlite::types::FromSql for Sql<T> {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        T::from_spelling(text)
            .map(Sql)
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

/// Whether an account (learner or staff) may sign in and be worked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Kept, with its username and email, but signs in nowhere.
    Deactivated,
}

impl Spelled for Status {
    const WHAT: &'static str = "account status";
    const ALL: &'static [Self] = &[Status::Active, Status::Deactivated];

    fn spelling(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deactivated => "deactivated",
        }
    }
}

/// Who chose a learner's current password (the column is empty while they have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    /// A teacher's reset: kept sealed so it can be shown again.
    Teacher,
    /// The learner's own choice: never kept in a form that can be shown.
    Learner,
}

impl Spelled for SetBy {
    const WHAT: &'static str = "password setter";
    const ALL: &'static [Self] = &[SetBy::Teacher, SetBy::Learner];

    fn spelling(self) -> &'static str {
        match self {
            SetBy::Teacher => "teacher",
            SetBy::Learner => "learner",
        }
    }
}

/// A learner's password state as the API shows it.
pub fn password_state(set_by: Option<Sql<SetBy>>) -> PasswordState {
    match set_by.map(|s| s.0) {
        None => PasswordState::NotSet,
        Some(SetBy::Teacher) => PasswordState::SetByTeacher,
        Some(SetBy::Learner) => PasswordState::SetByLearner,
    }
}

/// Whose session or device a token is: staff requests accept only staff sessions, learner
/// pages only learner sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Staff,
    Learner,
}

impl Spelled for SubjectKind {
    const WHAT: &'static str = "account kind";
    const ALL: &'static [Self] = &[SubjectKind::Staff, SubjectKind::Learner];

    fn spelling(self) -> &'static str {
        match self {
            SubjectKind::Staff => "staff",
            SubjectKind::Learner => "learner",
        }
    }
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// A signed-in session.
    Session,
    /// A link that lets its holder choose a new password.
    Reset,
    /// A link that signs its holder in once.
    SignInLink,
}

impl Spelled for TokenPurpose {
    const WHAT: &'static str = "token purpose";
    const ALL: &'static [Self] = &[
        TokenPurpose::Session,
        TokenPurpose::Reset,
        TokenPurpose::SignInLink,
    ];

    fn spelling(self) -> &'static str {
        match self {
            TokenPurpose::Session => "session",
            TokenPurpose::Reset => "reset",
            TokenPurpose::SignInLink => "sign_in_link",
        }
    }
}

/// What a session was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The account's password.
    Password,
    /// A sign-in link from mail: the holder may not know the password.
    Link,
}

impl Spelled for Proof {
    const WHAT: &'static str = "session proof";
    const ALL: &'static [Self] = &[Proof::Password, Proof::Link];

    fn spelling(self) -> &'static str {
        match self {
            Proof::Password => "password",
            Proof::Link => "link",
        }
    }
}

/// What a queued message is, so a teacher can tell which mail reached a learner.
impl Spelled for MailKind {
    const WHAT: &'static str = "mail kind";
    const ALL: &'static [Self] = &[
        MailKind::UsernameReminder,
        MailKind::NoAccount,
        MailKind::PasswordHelp,
        MailKind::Message,
        MailKind::MessageCopy,
        MailKind::ResetLink,
        MailKind::StaffInvitation,
    ];

    fn spelling(self) -> &'static str {
        match self {
            MailKind::UsernameReminder => "username_reminder",
            MailKind::NoAccount => "no_account",
            MailKind::PasswordHelp => "password_help",
            MailKind::Message => "message",
            MailKind::MessageCopy => "message_copy",
            MailKind::ResetLink => "reset_link",
            MailKind::StaffInvitation => "staff_invitation",
        }
    }
}

/// Where a queued message is.
impl Spelled for MailState {
    const WHAT: &'static str = "mail state";
    const ALL: &'static [Self] = &[
        MailState::Queued,
        MailState::Sent,
        MailState::Refused,
        MailState::Failed,
    ];

    fn spelling(self) -> &'static str {
        match self {
            MailState::Queued => "queued",
            MailState::Sent => "sent",
            MailState::Refused => "refused",
            MailState::Failed => "failed",
        }
    }
}

/// Who made an audit entry.
impl Spelled for AuditActorKind {
    const WHAT: &'static str = "audit actor";
    const ALL: &'static [Self] = &[
        AuditActorKind::Staff,
        AuditActorKind::Learner,
        AuditActorKind::Server,
    ];

    fn spelling(self) -> &'static str {
        match self {
            AuditActorKind::Staff => "staff",
            AuditActorKind::Learner => "learner",
            AuditActorKind::Server => "server",
        }
    }
}

/// Spelled as the domain spells roles on the wire.
impl Spelled for Role {
    const WHAT: &'static str = "staff role";
    const ALL: &'static [Self] = &[Role::Teacher, Role::LeadTeacher];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

/// Spelled as the protocol spells audit actions.
impl Spelled for AuditAction {
    const WHAT: &'static str = "audit action";
    const ALL: &'static [Self] = &AuditAction::ALL;

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

impl Spelled for EntityKind {
    const WHAT: &'static str = "record kind";
    const ALL: &'static [Self] = &[EntityKind::Class, EntityKind::Learner, EntityKind::Staff];

    fn spelling(self) -> &'static str {
        match self {
            EntityKind::Class => "class",
            EntityKind::Learner => "learner",
            EntityKind::Staff => "staff",
        }
    }
}

impl Spelled for RemovalReason {
    const WHAT: &'static str = "removal reason";
    const ALL: &'static [Self] = &[RemovalReason::Deleted, RemovalReason::NoLongerVisible];

    fn spelling(self) -> &'static str {
        match self {
            RemovalReason::Deleted => "deleted",
            RemovalReason::NoLongerVisible => "no_longer_visible",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Spelled + fmt::Debug>() {
        for value in T::ALL {
            assert_eq!(T::from_spelling(value.spelling()).unwrap(), *value);
        }
        let spellings: std::collections::HashSet<_> =
            T::ALL.iter().map(|value| value.spelling()).collect();
        assert_eq!(spellings.len(), T::ALL.len(), "two values share a spelling");
    }

    #[test]
    fn every_value_has_one_spelling_that_reads_back() {
        round_trips::<Status>();
        round_trips::<SetBy>();
        round_trips::<SubjectKind>();
        round_trips::<TokenPurpose>();
        round_trips::<Proof>();
        round_trips::<Role>();
        round_trips::<AuditActorKind>();
        round_trips::<AuditAction>();
        round_trips::<EntityKind>();
        round_trips::<RemovalReason>();
        round_trips::<MailKind>();
        round_trips::<MailState>();
    }

    #[test]
    fn an_unknown_spelling_is_an_error_that_says_what_it_is() {
        let err = Status::from_spelling("suspended").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown account status \"suspended\" in the database"
        );
        assert!(
            Role::from_spelling("Teacher").is_err(),
            "spellings are exact"
        );
    }
}
