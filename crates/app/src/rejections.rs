//! Changes the server refused after they were queued (a username someone else took while
//! this computer was offline, a class deleted meanwhile…): listed in words a teacher reads,
//! with the server's reason, until the teacher dismisses them (DESIGN §6: nothing is lost
//! silently). The record each one touched is already shown as it was before the change.
//!
//! A change refused at once, while the teacher waits, is not listed: it comes back as the
//! edit's error instead (see [`crate::edits`]).

use std::collections::HashMap;

use classkeys_domain::ids::{ClassId, LearnerId, OperationId, StaffId};
use classkeys_protocol::sync::{OpKind, Operation};
use serde::Serialize;
use time::OffsetDateTime;

use crate::App;
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

    /// The names of the learners, classes and staff these operations mention, as the
    /// replica holds them now.
    async fn names_for<'a>(&self, ops: impl Iterator<Item = &'a OpKind>) -> Result<Names> {
        let mut names = Names::default();
        let staff = self.store.staff().await?;
        for op in ops {
            let (learners, classes, members) = mentions(op);
            for id in learners {
                if !names.learners.contains_key(&id)
                    && let Some(l) = self.store.learner(id).await?
                {
                    names
                        .learners
                        .insert(id, format!("{} {}", l.given_name, l.family_name));
                }
            }
            for id in classes {
                if !names.classes.contains_key(&id)
                    && let Some(c) = self.store.class(id).await?
                {
                    names.classes.insert(id, c.name);
                }
            }
            for id in members {
                if let Some(s) = staff.iter().find(|s| s.id == id) {
                    names.staff.insert(id, s.display_name.clone());
                }
            }
        }
        Ok(names)
    }
}

/// Names to describe changes with; what is missing is described generically.
#[derive(Debug, Default)]
struct Names {
    learners: HashMap<LearnerId, String>,
    classes: HashMap<ClassId, String>,
    staff: HashMap<StaffId, String>,
}

impl Names {
    fn learner(&self, id: LearnerId) -> &str {
        self.learners
            .get(&id)
            .map_or("a learner no longer on this computer", String::as_str)
    }

    fn class(&self, id: ClassId) -> &str {
        self.classes
            .get(&id)
            .map_or("a class no longer on this computer", String::as_str)
    }

    fn staff(&self, id: StaffId) -> &str {
        self.staff
            .get(&id)
            .map_or("a member of staff", String::as_str)
    }
}

/// The learners, classes and staff an operation mentions by id.
fn mentions(op: &OpKind) -> (Vec<LearnerId>, Vec<ClassId>, Vec<StaffId>) {
    match op {
        OpKind::ClassCreate { .. } => (vec![], vec![], vec![]),
        OpKind::ClassUpdate { class_id, .. } | OpKind::ClassDelete { class_id } => {
            (vec![], vec![*class_id], vec![])
        }
        OpKind::ClassAssignTeacher { class_id, staff_id }
        | OpKind::ClassUnassignTeacher { class_id, staff_id } => {
            (vec![], vec![*class_id], vec![*staff_id])
        }
        OpKind::LearnerCreate { classes, .. } => (vec![], classes.clone(), vec![]),
        OpKind::LearnerUpdate { learner_id, .. } | OpKind::LearnerSetActive { learner_id, .. } => {
            (vec![*learner_id], vec![], vec![])
        }
        OpKind::LearnerEnrol {
            learner_id,
            class_id,
        }
        | OpKind::LearnerUnenrol {
            learner_id,
            class_id,
        } => (vec![*learner_id], vec![*class_id], vec![]),
        OpKind::LearnerMove {
            learner_id,
            from,
            to,
        } => (vec![*learner_id], vec![*from, *to], vec![]),
    }
}

/// A change in words, for the list of refused changes.
fn describe(op: &OpKind, names: &Names) -> String {
    match op {
        OpKind::ClassCreate { name, .. } => format!("Create the class {name}"),
        OpKind::ClassUpdate {
            class_id,
            name,
            year_group,
            archived,
        } => {
            let class = names.class(*class_id);
            let mut parts = Vec::new();
            if let Some(name) = name {
                parts.push(format!("rename the class {class} to {name}"));
            }
            match year_group {
                Some(Some(year)) => parts.push(format!("set the year group of {class} to {year}")),
                Some(None) => parts.push(format!("clear the year group of {class}")),
                None => {}
            }
            match archived {
                Some(true) => parts.push(format!("archive the class {class}")),
                Some(false) => parts.push(format!("restore the class {class}")),
                None => {}
            }
            if parts.is_empty() {
                parts.push(format!("change the class {class}"));
            }
            capitalise(&join(&parts))
        }
        OpKind::ClassDelete { class_id } => {
            format!("Delete the class {}", names.class(*class_id))
        }
        OpKind::ClassAssignTeacher { class_id, staff_id } => format!(
            "Make {} a teacher of {}",
            names.staff(*staff_id),
            names.class(*class_id)
        ),
        OpKind::ClassUnassignTeacher { class_id, staff_id } => format!(
            "Take {} off {}",
            names.staff(*staff_id),
            names.class(*class_id)
        ),
        OpKind::LearnerCreate {
            given_name,
            family_name,
            username,
            classes,
            ..
        } => {
            let mut text = format!("Add the learner {given_name} {family_name}");
            if let Some(username) = username {
                text.push_str(&format!(" with the username {username}"));
            }
            if !classes.is_empty() {
                let classes: Vec<String> =
                    classes.iter().map(|c| names.class(*c).to_owned()).collect();
                text.push_str(&format!(" to {}", join(&classes)));
            }
            text
        }
        OpKind::LearnerUpdate {
            learner_id,
            given_name,
            family_name,
            username,
            email,
        } => {
            let mut parts = Vec::new();
            if let Some(v) = given_name {
                parts.push(format!("given name to {v}"));
            }
            if let Some(v) = family_name {
                parts.push(format!("family name to {v}"));
            }
            if let Some(v) = username {
                parts.push(format!("username to {v}"));
            }
            match email {
                Some(Some(v)) => parts.push(format!("email address to {v}")),
                Some(None) => parts.push("email address to none".to_owned()),
                None => {}
            }
            if parts.is_empty() {
                parts.push("details".to_owned());
            }
            format!("Change {}'s {}", names.learner(*learner_id), join(&parts))
        }
        OpKind::LearnerEnrol {
            learner_id,
            class_id,
        } => format!(
            "Add {} to {}",
            names.learner(*learner_id),
            names.class(*class_id)
        ),
        OpKind::LearnerUnenrol {
            learner_id,
            class_id,
        } => format!(
            "Take {} out of {}",
            names.learner(*learner_id),
            names.class(*class_id)
        ),
        OpKind::LearnerMove {
            learner_id,
            from,
            to,
        } => format!(
            "Move {} from {} to {}",
            names.learner(*learner_id),
            names.class(*from),
            names.class(*to)
        ),
        OpKind::LearnerSetActive { learner_id, active } => format!(
            "{} {}",
            if *active { "Reactivate" } else { "Deactivate" },
            names.learner(*learner_id)
        ),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_change_reads_as_what_the_teacher_did() {
        let (lukasz, badgers, owls, gone) = (
            LearnerId::generate(),
            ClassId::generate(),
            ClassId::generate(),
            ClassId::generate(),
        );
        let mut names = Names::default();
        names.learners.insert(lukasz, "Łukasz Kowalski".into());
        names.classes.insert(badgers, "3 Badgers".into());
        names.classes.insert(owls, "1 Owls".into());

        let moved = OpKind::LearnerMove {
            learner_id: lukasz,
            from: badgers,
            to: owls,
        };
        assert_eq!(
            describe(&moved, &names),
            "Move Łukasz Kowalski from 3 Badgers to 1 Owls"
        );
        let edited = OpKind::LearnerUpdate {
            learner_id: lukasz,
            given_name: None,
            family_name: Some("Nowak".into()),
            username: Some("lukasz.nowak".into()),
            email: Some(None),
        };
        assert_eq!(
            describe(&edited, &names),
            "Change Łukasz Kowalski's family name to Nowak, username to lukasz.nowak and \
             email address to none"
        );
        let created = OpKind::LearnerCreate {
            learner_id: LearnerId::generate(),
            given_name: "Sam".into(),
            family_name: "Lee".into(),
            username: Some("sam.lee".into()),
            email: None,
            classes: vec![owls, gone],
        };
        assert_eq!(
            describe(&created, &names),
            "Add the learner Sam Lee with the username sam.lee to 1 Owls and a class no \
             longer on this computer"
        );
        let archived = OpKind::ClassUpdate {
            class_id: badgers,
            name: None,
            year_group: None,
            archived: Some(true),
        };
        assert_eq!(describe(&archived, &names), "Archive the class 3 Badgers");
    }
}
