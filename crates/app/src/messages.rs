//! Messages with sign-in links, from the app: who a message will reach (from this
//! computer's copy, before anything is sent), a preview of one recipient's copy, sending
//! through the server's queue, and each copy's delivery as it changes.
//!
//! The server decides in the end (it checks permissions and addresses again); the
//! recipient list here is for the teacher to see beforehand, so nobody is surprised by who
//! was not reached.

use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Action;
use classkeys_protocol::messages::{LOGIN_LINK_TAG, MessageReport, MessageStatus, NewMessage};
use classkeys_protocol::roster::LearnerRecord;
use serde::Serialize;

use crate::credentials::needs_server;
use crate::{App, AppError, AppErrorCode, Result};

/// Who a message would go to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipients {
    /// Learners with an address, who will get their own copy.
    pub reached: Vec<RecipientLine>,
    /// Learners who will not: no address on file, or deactivated.
    pub not_reached: Vec<RecipientLine>,
    /// The tag that becomes each recipient's own sign-in link.
    pub tag: &'static str,
    /// What the tag becomes in a preview: where each learner's own link goes.
    pub link_example: String,
}

/// A learner as the message editor lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipientLine {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their name.
    pub name: String,
    /// Their username.
    pub username: String,
    /// Their address, if any.
    pub email: Option<String>,
    /// Why they will not be reached, if they will not.
    pub why_not: Option<&'static str>,
}

impl App {
    /// Who a message to these learners, and to the active learners of `class`, would
    /// reach — from this computer's copy.
    pub async fn message_recipients(
        &self,
        learners: Vec<LearnerId>,
        class: Option<ClassId>,
    ) -> Result<Recipients> {
        let session = self.signed_in()?;
        let mut chosen: Vec<LearnerRecord> = Vec::new();
        for id in learners {
            chosen.push(self.learner_allowed(id, Action::MessageSend).await?);
        }
        if let Some(class) = class {
            self.class_allowed(class, Action::MessageSend).await?;
            chosen.extend(
                self.replica_class_learners(class)
                    .await?
                    .into_iter()
                    .filter(|l| l.active),
            );
        }
        let mut seen = std::collections::HashSet::new();
        chosen.retain(|l| seen.insert(l.id));
        let (reached, not_reached) = chosen
            .into_iter()
            .map(|l| RecipientLine {
                learner_id: l.id,
                name: format!("{} {}", l.given_name, l.family_name),
                username: l.username,
                why_not: match (&l.email, l.active) {
                    (_, false) => Some("deactivated"),
                    (None, _) => Some("no email address"),
                    _ => None,
                },
                email: l.email,
            })
            .partition(|r| r.why_not.is_none());
        let slug = &session.account.staff.school_slug;
        Ok(Recipients {
            reached,
            not_reached,
            tag: LOGIN_LINK_TAG,
            link_example: format!(
                "{}/s/{slug}/link/… (their own link, which works once)",
                session.account.server.trim_end_matches('/')
            ),
        })
    }

    /// Sends a message through the server's queue.
    pub async fn message_send(&self, message: NewMessage) -> Result<MessageReport> {
        let session = self.signed_in()?;
        if message.learner_ids.is_empty() && message.class_id.is_none() {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                "choose at least one learner to send the message to",
            ));
        }
        session
            .client
            .message_send(&message)
            .await
            .map_err(|e| needs_server(e.into(), "Sending a message"))
    }

    /// Where each copy of a message is now.
    pub async fn message_status(&self, message_id: &str) -> Result<MessageStatus> {
        let session = self.signed_in()?;
        session
            .client
            .message_status(message_id)
            .await
            .map_err(|e| needs_server(e.into(), "Following a message"))
    }
}
