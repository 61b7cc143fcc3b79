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
//! order, both apply, instead of the second conflicting with the first. New records carry
//! version 1 (what the server gives them) and are sent without a base version.
//!
//! Ids of new classes and learners are made here (UUIDv7), so a record created offline can
//! be enrolled, edited or assigned before the server has seen it: the outbox keeps the order.
//!
//! A change that would change nothing (enrolling a learner in a class they are in, assigning
//! a class's own teacher) is not queued: the record is returned as it is.
//!
//! A class's learner count is derived in the replica from its learners' class lists, so an
//! enrolment, move or new learner shows in the counts at once, offline too.

use std::collections::HashSet;

use classkeys_domain::identity::{ClassName, Email, FamilyName, GivenName, Username, YearGroup};
use classkeys_domain::ids::{ClassId, LearnerId, OperationId, StaffId};
use classkeys_domain::policy::{Action, Denial, Resource, authorize};
use classkeys_domain::text::identity_key;
use classkeys_protocol::credentials::PasswordState;
use classkeys_protocol::roster::{ClassRecord, LearnerRecord, StaffRef};
use classkeys_protocol::sync::{OpKind, Operation, Record};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::{AppError, AppErrorCode, Result};
use crate::session::Session;
use crate::{App, MAX_PAGE, not_on_this_computer};

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

/// A learner to create. Blank optional fields count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NewLearnerInput {
    /// Given (first) name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Username; when absent the server makes one from the names (`zoe.adams`, or
    /// `zoe.adams2` when that is taken).
    #[serde(default)]
    pub username: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Classes to enrol the learner in. Teachers must name at least one of their own.
    #[serde(default)]
    pub classes: Vec<ClassId>,
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
        let resource = class_resource(&session, &current);
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
        let op = OpKind::ClassUpdate {
            class_id: id,
            name: name.map(|v| v.as_str().to_owned()),
            year_group: year_group.map(|y| y.map(|y| y.as_str().to_owned())),
            archived: edit.archived,
        };
        self.submit_class(op, current, after).await
    }

    /// Creates a learner, enrolled in `new.classes`.
    ///
    /// Without a typed username the server makes one from the names, taking the first free
    /// one of `given.family`, `given.family2`, … in the whole school. The record shown until
    /// the server answers carries the same suggestion, numbered past the usernames this
    /// computer knows of; the server also knows accounts hidden from this member of staff,
    /// so its choice can differ, and its answer (or the next pull) then replaces it.
    pub async fn learner_create(&self, new: NewLearnerInput) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        let given = GivenName::parse(&new.given_name)?;
        let family = FamilyName::parse(&new.family_name)?;
        let typed = non_blank(new.username.as_deref())
            .map(Username::parse)
            .transpose()?;
        let email = non_blank(new.email.as_deref())
            .map(Email::parse)
            .transpose()?;
        let mut classes: Vec<ClassId> = Vec::with_capacity(new.classes.len());
        for class in new.classes {
            if !classes.contains(&class) {
                self.class_for(&session, class, Action::LearnerCreate)
                    .await?;
                classes.push(class);
            }
        }
        if classes.is_empty() && !session.actor().is_lead() {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                "choose at least one of your classes for the new learner",
            ));
        }
        let shown_username = match &typed {
            Some(username) => {
                self.refuse_if_taken("username", username.as_str()).await?;
                username.clone()
            }
            None => self.suggest_username(&given, &family).await?,
        };
        if let Some(email) = &email {
            self.refuse_if_taken("email address", email.as_str())
                .await?;
        }

        let id = LearnerId::generate();
        let optimistic = LearnerRecord {
            id,
            username: shown_username.as_str().to_owned(),
            given_name: given.as_str().to_owned(),
            family_name: family.as_str().to_owned(),
            email: email.as_ref().map(|e| e.as_str().to_owned()),
            active: true,
            classes: classes.clone(),
            password: PasswordState::NotSet,
            must_change_password: false,
            version: 1,
            updated_at: OffsetDateTime::now_utc(),
        };
        let op = OpKind::LearnerCreate {
            learner_id: id,
            given_name: given.as_str().to_owned(),
            family_name: family.as_str().to_owned(),
            // Absent, not our guess: only the server sees every username of the school.
            username: typed.map(|u| u.as_str().to_owned()),
            email: email.map(|e| e.as_str().to_owned()),
            classes,
        };
        self.submit(op, None, Record::Learner(optimistic.clone()))
            .await?;
        Ok(self.store.learner(id).await?.unwrap_or(optimistic))
    }

    /// Creates a class, without teachers (lead teachers only).
    pub async fn class_create(&self, name: &str, year_group: Option<&str>) -> Result<ClassRecord> {
        let session = self.signed_in()?;
        let school = Resource::School {
            school: session.account.staff.school_id,
        };
        allow(&session, Action::ClassCreate, &school, "class")?;
        let name = ClassName::parse(name)?;
        let year_group = non_blank(year_group).map(YearGroup::parse).transpose()?;
        // A lead teacher's replica holds every class of the school, so a clash found here
        // is certain; one that arrived since the last pull is refused by the server.
        let key = name.key();
        if self
            .store
            .classes()
            .await?
            .iter()
            .any(|c| identity_key(&c.name) == key)
        {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                format!("there is already a class named {name}: choose another name"),
            ));
        }

        let id = ClassId::generate();
        let optimistic = ClassRecord {
            id,
            name: name.as_str().to_owned(),
            year_group: year_group.as_ref().map(|y| y.as_str().to_owned()),
            archived: false,
            teachers: Vec::new(),
            learner_count: 0,
            version: 1,
            updated_at: OffsetDateTime::now_utc(),
        };
        let op = OpKind::ClassCreate {
            class_id: id,
            name: name.as_str().to_owned(),
            year_group: year_group.map(|y| y.as_str().to_owned()),
        };
        self.submit(op, None, Record::Class(optimistic.clone()))
            .await?;
        Ok(self.store.class(id).await?.unwrap_or(optimistic))
    }

    /// Enrols a learner in one more class.
    pub async fn learner_enrol(&self, id: LearnerId, class: ClassId) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        let current = self.learner_for(&session, id, Action::LearnerEnrol).await?;
        self.class_for(&session, class, Action::LearnerEnrol)
            .await?;
        if current.classes.contains(&class) {
            return Ok(current);
        }
        let mut after = current.clone();
        after.classes.push(class);
        let op = OpKind::LearnerEnrol {
            learner_id: id,
            class_id: class,
        };
        self.submit_learner(op, current, after).await
    }

    /// Takes a learner out of a class. A teacher who then teaches none of the learner's
    /// classes gets the record as it was left, and the learner leaves their replica at the
    /// next pull.
    pub async fn learner_unenrol(&self, id: LearnerId, class: ClassId) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        let current = self
            .learner_for(&session, id, Action::LearnerUnenrol)
            .await?;
        self.class_for(&session, class, Action::LearnerUnenrol)
            .await?;
        if !current.classes.contains(&class) {
            return Ok(current);
        }
        let mut after = current.clone();
        after.classes.retain(|c| *c != class);
        let op = OpKind::LearnerUnenrol {
            learner_id: id,
            class_id: class,
        };
        self.submit_learner(op, current, after).await
    }

    /// Moves a learner from one class to another, in one change: the learner is never in
    /// neither nor in both.
    pub async fn learner_move(
        &self,
        id: LearnerId,
        from: ClassId,
        to: ClassId,
    ) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        // The same checks as the server's, in the same order.
        let current = self.learner_for(&session, id, Action::LearnerEnrol).await?;
        let left = self
            .class_for(&session, from, Action::LearnerUnenrol)
            .await?;
        self.class_for(&session, to, Action::LearnerEnrol).await?;
        if !current.classes.contains(&from) {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                format!(
                    "{} {} is not in class {}: nothing to move",
                    current.given_name, current.family_name, left.name
                ),
            ));
        }
        if from == to {
            return Ok(current);
        }
        let mut after = current.clone();
        if after.classes.contains(&to) {
            after.classes.retain(|c| *c != from);
        } else {
            for class in &mut after.classes {
                if *class == from {
                    *class = to;
                }
            }
        }
        let op = OpKind::LearnerMove {
            learner_id: id,
            from,
            to,
        };
        self.submit_learner(op, current, after).await
    }

    /// Makes a member of staff one of a class's teachers (lead teachers only). Their
    /// replica receives the class and its learners at their next sync.
    pub async fn class_assign_teacher(
        &self,
        class: ClassId,
        staff: StaffId,
    ) -> Result<ClassRecord> {
        let session = self.signed_in()?;
        let current = self
            .class_for(&session, class, Action::ClassAssignTeachers)
            .await?;
        let member = self
            .store
            .staff()
            .await?
            .into_iter()
            .find(|s| s.id == staff)
            .ok_or_else(|| {
                AppError::new(
                    AppErrorCode::NotFound,
                    "this member of staff is not on this computer: sync, then try again",
                )
            })?;
        if !member.active {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                format!(
                    "{} ({}) is deactivated and cannot teach a class: reactivate their \
                     account first",
                    member.display_name, member.username
                ),
            ));
        }
        if current.teachers.iter().any(|t| t.id == staff) {
            return Ok(current);
        }
        let mut after = current.clone();
        after.teachers.push(StaffRef {
            id: member.id,
            username: member.username,
            display_name: member.display_name,
        });
        // The server lists a class's teachers by username.
        after.teachers.sort_by(|a, b| a.username.cmp(&b.username));
        let op = OpKind::ClassAssignTeacher {
            class_id: class,
            staff_id: staff,
        };
        self.submit_class(op, current, after).await
    }

    /// Takes a member of staff off a class (lead teachers only). A teacher loses the class,
    /// and its learners they do not teach in another class, at their next sync.
    pub async fn class_unassign_teacher(
        &self,
        class: ClassId,
        staff: StaffId,
    ) -> Result<ClassRecord> {
        let session = self.signed_in()?;
        let current = self
            .class_for(&session, class, Action::ClassAssignTeachers)
            .await?;
        if !current.teachers.iter().any(|t| t.id == staff) {
            return Ok(current);
        }
        let mut after = current.clone();
        after.teachers.retain(|t| t.id != staff);
        let op = OpKind::ClassUnassignTeacher {
            class_id: class,
            staff_id: staff,
        };
        self.submit_class(op, current, after).await
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

    /// The class from the replica, once the policy allows `action` on it.
    async fn class_for(
        &self,
        session: &Session,
        id: ClassId,
        action: Action,
    ) -> Result<ClassRecord> {
        let class = self
            .store
            .class(id)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))?;
        allow(session, action, &class_resource(session, &class), "class")?;
        Ok(class)
    }

    /// Refuses a username or email address that a learner on this computer already holds
    /// (deactivated learners keep theirs). Best effort, before queuing: the server checks
    /// every account of the school, including those this member of staff cannot see.
    async fn refuse_if_taken(&self, what: &str, shown: &str) -> Result<()> {
        let key = identity_key(shown);
        let holder = self
            .store
            .search(shown, MAX_PAGE)
            .await?
            .into_iter()
            .find(|l| {
                identity_key(&l.username) == key
                    || l.email.as_deref().map(identity_key).as_deref() == Some(key.as_str())
            });
        match holder {
            None => Ok(()),
            Some(l) => {
                let who = format!("{} {} ({})", l.given_name, l.family_name, l.username);
                let owner = if l.active {
                    who
                } else {
                    format!("the deactivated account of {who}")
                };
                Err(AppError::new(
                    AppErrorCode::InvalidInput,
                    format!("the {what} {shown} already belongs to {owner}"),
                ))
            }
        }
    }

    /// The username the server will most likely make from these names: the first of
    /// `given.family`, `given.family2`, … that no learner on this computer holds.
    async fn suggest_username(&self, given: &GivenName, family: &FamilyName) -> Result<Username> {
        let base = Username::suggest(given.as_str(), family.as_str()).ok_or_else(|| {
            AppError::new(
                AppErrorCode::InvalidInput,
                "no username can be made from these names: choose one",
            )
        })?;
        // Search folds `zoe.adams` to the words `zoe adams`, which every `zoe.adams…`
        // username contains; the prefix test then keeps just those.
        let taken: HashSet<String> = self
            .store
            .search(base.as_str(), MAX_PAGE)
            .await?
            .into_iter()
            .map(|l| identity_key(&l.username))
            .filter(|u| u.starts_with(base.as_str()))
            .collect();
        Ok(base
            .first_free(taken.len(), |candidate| taken.contains(candidate))
            .unwrap_or(base))
    }

    /// Queues a change to a learner whose record becomes `after`, and returns the record
    /// as the replica then holds it — or `after`, if the learner has left this member of
    /// staff's view (taken out of the last class they teach).
    async fn submit_learner(
        &self,
        op: OpKind,
        current: LearnerRecord,
        mut after: LearnerRecord,
    ) -> Result<LearnerRecord> {
        let id = current.id;
        after.version = current.version + 1;
        after.updated_at = OffsetDateTime::now_utc();
        self.submit(op, Some(current.version), Record::Learner(after.clone()))
            .await?;
        Ok(self.store.learner(id).await?.unwrap_or(after))
    }

    /// As [`App::submit_learner`], for a class.
    async fn submit_class(
        &self,
        op: OpKind,
        current: ClassRecord,
        mut after: ClassRecord,
    ) -> Result<ClassRecord> {
        let id = current.id;
        after.version = current.version + 1;
        after.updated_at = OffsetDateTime::now_utc();
        self.submit(op, Some(current.version), Record::Class(after.clone()))
            .await?;
        Ok(self.store.class(id).await?.unwrap_or(after))
    }

    /// Queues the change with its optimistic record, then tries to send it. A failed send
    /// leaves it queued and shows in the status; the edit itself has succeeded.
    ///
    /// A change the server refuses at once is returned as the server's error, with the
    /// record shown as it was before; it is not also kept among [`App::rejected`] changes,
    /// since the teacher is being told now. Refusals of changes sent later are kept there.
    async fn submit(
        &self,
        op: OpKind,
        base_version: Option<i64>,
        optimistic: Record,
    ) -> Result<()> {
        let operation = Operation {
            id: OperationId::generate(),
            base_version,
            op,
        };
        self.store.enqueue(&operation, Some(&optimistic)).await?;
        self.sync_quietly().await;
        let refused = self
            .store
            .rejected()
            .await?
            .into_iter()
            .find(|r| r.operation.id == operation.id);
        if let Some(refused) = refused {
            self.store.dismiss_rejected(operation.id).await?;
            return Err(refused.error.into());
        }
        Ok(())
    }
}

/// The policy's view of a class: whether the signed-in member of staff teaches it.
fn class_resource(session: &Session, class: &ClassRecord) -> Resource {
    Resource::Class {
        school: session.account.staff.school_id,
        taught_by_actor: class
            .teachers
            .iter()
            .any(|t| t.id == session.account.staff.id),
    }
}

/// A typed optional value, with blank meaning absent (as forms send it).
fn non_blank(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// Asks the permission policy; a hidden thing is "not found", exactly as the server says.
pub(crate) fn allow(
    session: &Session,
    action: Action,
    resource: &Resource,
    what: &str,
) -> Result<()> {
    match authorize(&session.actor(), action, resource) {
        Ok(()) => Ok(()),
        Err(Denial::Hidden) => Err(not_on_this_computer(what)),
        Err(Denial::Forbidden(reason)) => Err(AppError::new(
            AppErrorCode::Forbidden,
            format!("{reason}: ask a lead teacher to do it"),
        )),
    }
}
