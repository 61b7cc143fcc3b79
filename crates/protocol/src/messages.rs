//! Messages from a teacher to learners, by mail, each recipient's copy carrying a personal
//! sign-in link where the body says [`LOGIN_LINK_TAG`].

use classkeys_domain::ids::{ClassId, LearnerId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The tag a message body holds where each recipient's own sign-in link goes.
pub const LOGIN_LINK_TAG: &str = "[loginLink]";

/// The longest subject accepted, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The most recipients one message may have.
pub const MAX_RECIPIENTS: usize = 1_000;

/// A message to send: to the learners named, and to every active learner of the class, if
/// one is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewMessage {
    /// Every active learner of this class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<ClassId>,
    /// These learners.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learner_ids: Vec<LearnerId>,
    /// The subject line.
    pub subject: String,
    /// The text. Each `[loginLink]` becomes the recipient's own sign-in link.
    pub body: String,
    /// Send the sender a copy too (with the literal `[loginLink]`, which signs nobody in).
    #[serde(default)]
    pub cc_me: bool,
}

/// A recipient, as the sender sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their username.
    pub username: String,
    /// Their name.
    pub name: String,
}

/// What happened to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageReport {
    /// Queued for these learners, each with their own link when the body asked for one.
    pub sent: Vec<Recipient>,
    /// Not sent to these: no email address on file, or deactivated.
    pub not_reached: Vec<Recipient>,
    /// Whether the sender's copy was queued (they asked, and have an email address).
    pub copy_sent: bool,
    /// Whether each copy carries a personal sign-in link.
    pub with_links: bool,
}
