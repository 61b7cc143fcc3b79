//! Helping a learner who cannot sign in: the server's diagnosis, and the fixes it offers
//! that are not edits of their own (lifting the wait after wrong passwords, mailing a
//! password link, moving an email address from a duplicate account), and the list of
//! likely duplicates.
//!
//! The diagnosis needs the server: only it knows about wrong passwords, mail and links.
//! When it cannot be reached, [`App::learner_diagnosis`] says so plainly and shows what this
//! computer's copy knows meanwhile (active, email, who set the password) rather than
//! failing or pretending.

use classkeys_domain::ids::LearnerId;
use classkeys_domain::policy::Action;
use classkeys_protocol::credentials::PasswordState;
use classkeys_protocol::diagnosis::{Diagnosis, ResetLinkSent, Unlocked};
use classkeys_protocol::roster::{DuplicateList, EmailMove, EmailMoved};
use serde::Serialize;

use crate::credentials::needs_server;
use crate::{App, AppError, AppErrorCode, Result};

/// "Why can't they sign in?" as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosisView {
    /// The server's diagnosis; `None` when the server could not be reached.
    pub diagnosis: Option<Diagnosis>,
    /// Why there is no diagnosis, in a sentence.
    pub offline: Option<String>,
    /// What this computer's copy knows, whether or not the server answered.
    pub known: KnownHere,
}

/// What the replica knows about a learner's sign-in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownHere {
    /// Whether the account is active.
    pub active: bool,
    /// The email address on file.
    pub email: Option<String>,
    /// Who set the password.
    pub password: PasswordState,
    /// Whether they must choose a new password at their next sign-in.
    pub must_change: bool,
}

impl App {
    /// Why a learner may not be able to sign in: the server's checks, or — without the
    /// server — what this computer knows.
    pub async fn learner_diagnosis(&self, learner: LearnerId) -> Result<DiagnosisView> {
        let session = self.signed_in()?;
        let record = self.learner_allowed(learner, Action::LearnerView).await?;
        let known = KnownHere {
            active: record.active,
            email: record.email.clone(),
            password: record.password,
            must_change: record.must_change_password,
        };
        match session.client.learner_diagnosis(learner).await {
            Ok(diagnosis) => Ok(DiagnosisView {
                diagnosis: Some(diagnosis),
                offline: None,
                known,
            }),
            Err(e) => {
                let e = AppError::from(e);
                if e.code != AppErrorCode::Offline {
                    return Err(e);
                }
                Ok(DiagnosisView {
                    diagnosis: None,
                    offline: Some(
                        "The server cannot be reached, so the checks that need it (wrong \
                         passwords, mail, password links, other accounts) cannot run. Below \
                         is what this computer knows; try again when the connection is back."
                            .to_owned(),
                    ),
                    known,
                })
            }
        }
    }

    /// Lifts a learner's wait after wrong passwords.
    pub async fn learner_unlock(&self, learner: LearnerId) -> Result<Unlocked> {
        let session = self.signed_in()?;
        self.learner_allowed(learner, Action::PasswordReset).await?;
        session
            .client
            .learner_unlock(learner)
            .await
            .map_err(|e| needs_server(e.into(), "Unlocking"))
    }

    /// Mails a learner a link to choose a new password.
    pub async fn learner_reset_link(&self, learner: LearnerId) -> Result<ResetLinkSent> {
        let session = self.signed_in()?;
        self.learner_allowed(learner, Action::MessageSend).await?;
        session
            .client
            .learner_reset_link(learner)
            .await
            .map_err(|e| needs_server(e.into(), "Sending a password link"))
    }

    /// Moves the email address of `from` to `learner`, then brings this computer's copy
    /// up to date with both.
    pub async fn learner_email_move(
        &self,
        learner: LearnerId,
        from: LearnerId,
    ) -> Result<EmailMoved> {
        let session = self.signed_in()?;
        // The pair may come from the server's duplicates list before this computer's copy
        // has caught up with it.
        if self.learner(learner).await.is_err() || self.learner(from).await.is_err() {
            let _ = self.sync_now().await;
        }
        self.learner_allowed(learner, Action::LearnerEdit).await?;
        self.learner_allowed(from, Action::LearnerEdit).await?;
        let moved = session
            .client
            .learner_email_move(
                learner,
                &EmailMove {
                    from,
                    base_version: None,
                },
            )
            .await
            .map_err(|e| needs_server(e.into(), "Moving an email address"))?;
        // The move is done; a copy that is behind catches up at the next sync anyway.
        let _ = self.sync_now().await;
        Ok(moved)
    }

    /// Learners who may be one person with two accounts, among those the member of staff
    /// may see.
    pub async fn learner_duplicates(&self) -> Result<DuplicateList> {
        let session = self.signed_in()?;
        session
            .client
            .learner_duplicates()
            .await
            .map_err(|e| needs_server(e.into(), "Looking for duplicates"))
    }
}
