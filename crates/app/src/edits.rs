//! Roster edits: each builds one sync [`Operation`], queues it with the record as the edit
//! will leave it, and tries to send it at once.
//!
//! Before queuing, typed values are validated with the domain's types (the server would
//! refuse them anyway, but only once online, long after the teacher moved on) and the
//! permission policy is asked (defence in depth: the server decides, but the app never
//! queues what it knows will be refused, whatever the UI shows).
//!
//! Versions: an operation's `base_version` is the version of the record in the replica.
//! The optimistic record carries that version + 1, which is what the server's version will
//! be once the change applies (every applied change bumps it by one). So a second edit to
//! the same record, made while the first still waits, is based on the first: pushed in
//! order, both apply, instead of the second conflicting with the first.

use classkeys_domain::identity::{ClassName, Email, FamilyName, GivenName, Username, YearGroup};
use classkeys_domain::ids::{ClassId, LearnerId, OperationId};
use classkeys_domain::policy::{Action, Denial, Resource, authorize};
use classkeys_protocol::roster::{ClassRecord, LearnerRecord};
use classkeys_protocol::sync::{OpKind, Operation, Record};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::{AppError, AppErrorCode, Result};
use crate::session::Session;
use crate::{App, not_on_this_computer};

/// A change to a learner's names, username or email. Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LearnerEdit {
    /// New given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// New family name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// New username.
    #[serde(default)]
    pub username: Option<String>,
    /// New email; `Some(None)` removes it.
    #[serde(default, with = "classkeys_protocol::double_option")]
    pub email: Option<Option<String>>,
}

/// A change to a class. Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClassEdit {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New year group; `Some(None)` clears it.
    #[serde(default, with = "classkeys_protocol::double_option")]
    pub year_group: Option<Option<String>>,
    /// Archive (`true`) or restore (`false`); lead teachers only.
    #[serde(default)]
    pub archived: Option<bool>,
}

impl App {
    /// Changes a learner's names, username or email.
    pub async fn learner_update(&self, id: LearnerId, edit: LearnerEdit) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        let current = self.learner_for(&session, id, Action::LearnerEdit).await?;
        let given_name = edit
            .given_name
            .as_deref()
            .map(GivenName::parse)
            .transpose()?;
        let family_name = edit
            .family_name
            .as_deref()
            .map(FamilyName::parse)
            .transpose()?;
        let username = edit.username.as_deref().map(Username::parse).transpose()?;
        let email = edit
            .email
            .map(|e| e.as_deref().map(Email::parse).transpose())
            .transpose()?;

        let mut after = current.clone();
        if let Some(v) = &given_name {
            after.given_name = v.as_str().to_owned();
        }
        if let Some(v) = &family_name {
            after.family_name = v.as_str().to_owned();
        }
        if let Some(v) = &username {
            after.username = v.as_str().to_owned();
        }
        if let Some(v) = &email {
            after.email = v.as_ref().map(|e| e.as_str().to_owned());
        }
        let op = OpKind::LearnerUpdate {
            learner_id: id,
            given_name: given_name.map(|v| v.as_str().to_owned()),
            family_name: family_name.map(|v| v.as_str().to_owned()),
            username: username.map(|v| v.as_str().to_owned()),
            email: email.map(|e| e.map(|e| e.as_str().to_owned())),
        };
        self.submit_learner(op, current, after).await
    }

    /// Deactivates (`active = false`) or reactivates a learner.
    pub async fn learner_set_active(&self, id: LearnerId, active: bool) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        let current = self
            .learner_for(&session, id, Action::LearnerSetActive)
            .await?;
        let mut after = current.clone();
        after.active = active;
        let op = OpKind::LearnerSetActive {
            learner_id: id,
            active,
        };
        self.submit_learner(op, current, after).await
    }

    /// Renames a class, changes its year group, or archives or restores it (lead teachers).
    pub async fn class_update(&self, id: ClassId, edit: ClassEdit) -> Result<ClassRecord> {
        let session = self.signed_in()?;
        let current = self
            .store
            .class(id)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))?;
        let taught_by_actor = current
            .teachers
            .iter()
            .any(|t| t.id == session.account.staff.id);
        let resource = Resource::Class {
            school: session.account.staff.school_id,
            taught_by_actor,
        };
        if edit.name.is_some() || edit.year_group.is_some() {
            allow(&session, Action::ClassRename, &resource, "class")?;
        }
        if edit.archived.is_some() {
            allow(&session, Action::ClassArchive, &resource, "class")?;
        }
        let name = edit.name.as_deref().map(ClassName::parse).transpose()?;
        let year_group = edit
            .year_group
            .map(|y| y.as_deref().map(YearGroup::parse).transpose())
            .transpose()?;

        let mut after = current.clone();
        if let Some(v) = &name {
            after.name = v.as_str().to_owned();
        }
        if let Some(v) = &year_group {
            after.year_group = v.as_ref().map(|y| y.as_str().to_owned());
        }
        if let Some(v) = edit.archived {
            after.archived = v;
        }
        after.version = current.version + 1;
        after.updated_at = OffsetDateTime::now_utc();
        let op = OpKind::ClassUpdate {
            class_id: id,
            name: name.map(|v| v.as_str().to_owned()),
            year_group: year_group.map(|y| y.map(|y| y.as_str().to_owned())),
            archived: edit.archived,
        };
        self.submit(op, current.version, Record::Class(after))
            .await?;
        self.store
            .class(id)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))
    }

    /// The learner from the replica, once the policy allows `action` on them.
    async fn learner_for(
        &self,
        session: &Session,
        id: LearnerId,
        action: Action,
    ) -> Result<LearnerRecord> {
        let learner = self
            .store
            .learner(id)
            .await?
            .ok_or_else(|| not_on_this_computer("learner"))?;
        let me = session.account.staff.id;
        let mut in_actor_class = false;
        for class in &learner.classes {
            if let Some(c) = self.store.class(*class).await?
                && c.teachers.iter().any(|t| t.id == me)
            {
                in_actor_class = true;
                break;
            }
        }
        let resource = Resource::Learner {
            school: session.account.staff.school_id,
            in_actor_class,
        };
        allow(session, action, &resource, "learner")?;
        Ok(learner)
    }

    async fn submit_learner(
        &self,
        op: OpKind,
        current: LearnerRecord,
        mut after: LearnerRecord,
    ) -> Result<LearnerRecord> {
        let id = current.id;
        after.version = current.version + 1;
        after.updated_at = OffsetDateTime::now_utc();
        self.submit(op, current.version, Record::Learner(after))
            .await?;
        self.store
            .learner(id)
            .await?
            .ok_or_else(|| not_on_this_computer("learner"))
    }

    /// Queues the change with its optimistic record, then tries to send it. A failed send
    /// leaves it queued and shows in the status; the edit itself has succeeded.
    async fn submit(&self, op: OpKind, base_version: i64, optimistic: Record) -> Result<()> {
        let operation = Operation {
            id: OperationId::generate(),
            base_version: Some(base_version),
            op,
        };
        self.store.enqueue(&operation, Some(&optimistic)).await?;
        self.sync_quietly().await;
        Ok(())
    }
}

/// Asks the permission policy; a hidden thing is "not found", exactly as the server says.
fn allow(session: &Session, action: Action, resource: &Resource, what: &str) -> Result<()> {
    match authorize(&session.actor(), action, resource) {
        Ok(()) => Ok(()),
        Err(Denial::Hidden) => Err(not_on_this_computer(what)),
        Err(Denial::Forbidden(reason)) => Err(AppError::new(
            AppErrorCode::Forbidden,
            format!("{reason}: ask a lead teacher to do it"),
        )),
    }
}
