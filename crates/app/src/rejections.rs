//! Changes the server refused after they were queued (a username someone else took while
//! this computer was offline, a class deleted meanwhile…): listed in words a teacher reads,
//! with the server's reason, until the teacher dismisses them (DESIGN §6: nothing is lost
//! silently). The record each one touched is already shown as it was before the change.
//!
//! A change refused at once, while the teacher waits, is not listed: it comes back as the
//! edit's error instead (see [`crate::edits`]).

use classkeys_domain::ids::OperationId;
use classkeys_protocol::sync::Operation;
use serde::Serialize;
use time::OffsetDateTime;

use crate::App;
use crate::describe::describe;
use crate::error::{AppError, AppErrorCode, Result};
use crate::sync::SyncStatus;

/// A change made here that the server refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedChange {
    /// The change's id: pass it to [`App::rejected_dismiss`].
    pub id: OperationId,
    /// What the change was, in words ("Move Łukasz Kowalski from 3 Badgers to 1 Owls").
    pub description: String,
    /// Why the server refused it, and what to do next.
    pub reason: AppError,
    /// When the change was made here.
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// The change itself, for a screen that offers to make it again.
    pub operation: Operation,
}

impl App {
    /// Changes the server refused, oldest first.
    pub async fn rejected(&self) -> Result<Vec<RejectedChange>> {
        self.signed_in()?;
        let rejections = self.store.rejected().await?;
        let names = self
            .names_for(rejections.iter().map(|r| &r.operation.op))
            .await?;
        Ok(rejections
            .into_iter()
            .map(|r| RejectedChange {
                id: r.operation.id,
                description: describe(&r.operation.op, &names),
                reason: r.error.into(),
                made_at: r.created_at,
                operation: r.operation,
            })
            .collect())
    }

    /// Forgets a refused change once the teacher has read why.
    pub async fn rejected_dismiss(&self, op_id: OperationId) -> Result<SyncStatus> {
        self.signed_in()?;
        if !self.store.dismiss_rejected(op_id).await? {
            return Err(AppError::new(
                AppErrorCode::NotFound,
                "this refused change is no longer listed (dismissed already, perhaps in \
                 another window): refresh the list",
            ));
        }
        self.status().await
    }
}
