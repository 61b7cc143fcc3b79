//! Messages from a teacher to learners, by mail, each recipient's copy carrying a personal
//! sign-in link where the body says [`LOGIN_LINK_TAG`].

use classkeys_domain::ids::{ClassId, LearnerId};

use crate::diagnosis::MailState;
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
    /// The message, to follow its delivery (`GET /api/v1/messages/{id}`).
    pub message_id: String,
    /// Queued for these learners, each with their own link when the body asked for one.
    pub sent: Vec<Recipient>,
    /// Not sent to these: no email address on file, or deactivated.
    pub not_reached: Vec<Recipient>,
    /// Whether the sender's copy was queued (they asked, and have an email address).
    pub copy_sent: bool,
    /// Whether each copy carries a personal sign-in link.
    pub with_links: bool,
}

/// Where each copy of a message is, for its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageStatus {
    /// The message.
    pub message_id: String,
    /// Every copy: the learners' (by name), then the sender's own.
    pub copies: Vec<Delivery>,
}

impl MessageStatus {
    /// Whether some copy still waits to be sent.
    pub fn waiting(&self) -> bool {
        self.copies.iter().any(|c| c.state == MailState::Queued)
    }
}

/// One copy of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The learner it went to; `None` for the sender's own copy.
    pub learner_id: Option<LearnerId>,
    /// Who it went to, as shown.
    pub name: String,
    /// The address.
    pub to: String,
    /// What became of it.
    pub state: MailState,
    /// When the mail server took it (Unix ms).
    pub sent_at: Option<i64>,
    /// The mail server's last answer, when it refused or is being retried.
    pub error: Option<String>,
}
