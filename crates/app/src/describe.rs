//! Changes in words, as the teacher made them: "Move Łukasz Kowalski from 3 Badgers to
//! 1 Owls". The screens show these sentences as they are, so every change is described in
//! one place, with the names the replica holds now.

use std::collections::HashMap;

use classkeys_domain::ids::{ClassId, LearnerId, StaffId};
use classkeys_protocol::sync::OpKind;

use crate::App;
use crate::error::Result;

impl App {
    /// The names of the learners, classes and staff these operations mention, as the
    /// replica holds them now.
    pub(crate) async fn names_for<'a>(
        &self,
        ops: impl Iterator<Item = &'a OpKind>,
    ) -> Result<Names> {
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
pub(crate) struct Names {
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
        OpKind::LearnerEmailMove { learner_id, from } => (vec![*learner_id, *from], vec![], vec![]),
    }
}

/// A change in words.
pub(crate) fn describe(op: &OpKind, names: &Names) -> String {
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
        OpKind::LearnerEmailMove { learner_id, from } => format!(
            "Move the email address of {} to {}",
            names.learner(*from),
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
