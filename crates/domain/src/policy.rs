//! The permission policy: one pure function that every server handler, the desktop app and
//! the tests ask. Handlers load the facts (is the actor one of this class's teachers? is the
//! learner in one of the actor's classes?) and the policy decides.
//!
//! The rules:
//! - nobody sees anything of another school;
//! - a lead teacher may do everything within their school;
//! - a teacher sees and edits only the classes assigned to them and those classes' learners,
//!   and may not create, archive or delete classes, assign teachers or see the staff list.
//!
//! A denial is either [`Denial::Hidden`] — answered exactly like "does not exist", so a denial
//! never reveals whether a thing exists — or [`Denial::Forbidden`] for something the actor
//! can already see but may not do.

use crate::identity::Role;
use crate::ids::{SchoolId, StaffId};

/// Who is asking: a signed-in member of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The staff member.
    pub staff_id: StaffId,
    /// Their school.
    pub school_id: SchoolId,
    /// Their role there.
    pub role: Role,
}

impl Actor {
    /// Whether this actor is a lead teacher.
    pub fn is_lead(&self) -> bool {
        self.role == Role::LeadTeacher
    }
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a class, or list classes.
    ClassView,
    /// Create a class.
    ClassCreate,
    /// Rename a class or change its year group.
    ClassRename,
    /// Archive or restore a class.
    ClassArchive,
    /// Delete an empty class.
    ClassDelete,
    /// Assign or unassign a class's teachers.
    ClassAssignTeachers,
    /// See a learner, or list and search learners.
    LearnerView,
    /// Create a learner in a class.
    LearnerCreate,
    /// Change a learner's names, username or email.
    LearnerEdit,
    /// Enrol a learner in a class (checked against the learner and against the class).
    LearnerEnrol,
    /// Take a learner out of a class (checked against the learner and against the class).
    LearnerUnenrol,
    /// Deactivate or reactivate a learner.
    LearnerSetActive,
    /// See the staff list.
    StaffView,
    /// See access codes: usernames, parent access codes and, when revealed, passwords.
    CodesView,
    /// Download a class's access codes or print its login cards.
    CodesExport,
    /// Set a learner's password, or every password of a class.
    PasswordReset,
    /// Replace a learner's parent access code.
    ParentCodeRotate,
    /// Download the whole school's access codes or student database.
    SchoolExport,
    /// Read the audit log (teachers: the entries about their classes' learners).
    AuditView,
    /// Send a message (with a personal sign-in link) to a learner, or to a class's learners.
    MessageSend,
    /// Import the school's roster from its information system, or preview an import.
    RosterImport,
}

impl Action {
    fn lead_only_reason(self) -> Option<&'static str> {
        Some(match self {
            Action::ClassCreate => "only lead teachers can create classes",
            Action::ClassArchive => "only lead teachers can archive or restore classes",
            Action::ClassDelete => "only lead teachers can delete classes",
            Action::ClassAssignTeachers => "only lead teachers can assign teachers to classes",
            Action::StaffView => "only lead teachers can see the staff list",
            Action::SchoolExport => "only lead teachers can export the whole school",
            Action::RosterImport => "only lead teachers can import the school's roster",
            _ => return None,
        })
    }
}

/// What the action is about, with the facts the policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The school as a whole: lists, creating classes, the staff list.
    School {
        /// The school.
        school: SchoolId,
    },
    /// One class.
    Class {
        /// The class's school.
        school: SchoolId,
        /// Whether the actor is one of the class's teachers.
        taught_by_actor: bool,
    },
    /// One learner.
    Learner {
        /// The learner's school.
        school: SchoolId,
        /// Whether the learner is enrolled in a class the actor teaches.
        in_actor_class: bool,
    },
}

impl Resource {
    fn school(&self) -> SchoolId {
        match *self {
            Resource::School { school }
            | Resource::Class { school, .. }
            | Resource::Learner { school, .. } => school,
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The actor may not know the resource exists: answer "not found".
    Hidden,
    /// The actor sees the resource but may not do this; the reason is safe to show.
    Forbidden(&'static str),
}

/// Decides whether `actor` may do `action` to `resource`.
pub fn authorize(actor: &Actor, action: Action, resource: &Resource) -> Result<(), Denial> {
    if resource.school() != actor.school_id {
        return Err(Denial::Hidden);
    }
    if actor.role == Role::LeadTeacher {
        return Ok(());
    }
    let visible = match *resource {
        Resource::School { .. } => true,
        Resource::Class {
            taught_by_actor, ..
        } => taught_by_actor,
        Resource::Learner { in_actor_class, .. } => in_actor_class,
    };
    if !visible {
        return Err(Denial::Hidden);
    }
    if let Some(reason) = action.lead_only_reason() {
        return Err(Denial::Forbidden(reason));
    }
    let fits = match resource {
        Resource::School { .. } => matches!(
            action,
            Action::ClassView | Action::LearnerView | Action::AuditView
        ),
        Resource::Class { .. } => matches!(
            action,
            Action::ClassView
                | Action::ClassRename
                | Action::LearnerCreate
                | Action::LearnerEnrol
                | Action::LearnerUnenrol
                | Action::CodesView
                | Action::CodesExport
                | Action::PasswordReset
                | Action::MessageSend
        ),
        Resource::Learner { .. } => matches!(
            action,
            Action::LearnerView
                | Action::LearnerEdit
                | Action::LearnerEnrol
                | Action::LearnerUnenrol
                | Action::LearnerSetActive
                | Action::CodesView
                | Action::PasswordReset
                | Action::ParentCodeRotate
                | Action::MessageSend
        ),
    };
    if fits {
        Ok(())
    } else {
        Err(Denial::Forbidden("this action does not apply here"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    const ALL: [Action; 21] = [
        Action::ClassView,
        Action::ClassCreate,
        Action::ClassRename,
        Action::ClassArchive,
        Action::ClassDelete,
        Action::ClassAssignTeachers,
        Action::LearnerView,
        Action::LearnerCreate,
        Action::LearnerEdit,
        Action::LearnerEnrol,
        Action::LearnerUnenrol,
        Action::LearnerSetActive,
        Action::StaffView,
        Action::CodesView,
        Action::CodesExport,
        Action::PasswordReset,
        Action::ParentCodeRotate,
        Action::SchoolExport,
        Action::AuditView,
        Action::MessageSend,
        Action::RosterImport,
    ];

    fn actor(role: Role) -> Actor {
        Actor {
            staff_id: StaffId(Uuid::from_u128(1)),
            school_id: SchoolId(Uuid::from_u128(10)),
            role,
        }
    }

    fn class(school: u128, taught: bool) -> Resource {
        Resource::Class {
            school: SchoolId(Uuid::from_u128(school)),
            taught_by_actor: taught,
        }
    }

    fn learner(school: u128, in_class: bool) -> Resource {
        Resource::Learner {
            school: SchoolId(Uuid::from_u128(school)),
            in_actor_class: in_class,
        }
    }

    #[test]
    fn nobody_sees_another_school() {
        for role in [Role::Teacher, Role::LeadTeacher] {
            for action in ALL {
                for resource in [class(11, true), learner(11, true)] {
                    assert_eq!(
                        authorize(&actor(role), action, &resource),
                        Err(Denial::Hidden)
                    );
                }
            }
        }
    }

    #[test]
    fn lead_teacher_may_do_everything_in_their_school() {
        for action in ALL {
            for resource in [class(10, false), learner(10, false)] {
                assert_eq!(
                    authorize(&actor(Role::LeadTeacher), action, &resource),
                    Ok(())
                );
            }
        }
    }

    #[test]
    fn teacher_cannot_tell_whether_another_class_exists() {
        for action in ALL {
            assert_eq!(
                authorize(&actor(Role::Teacher), action, &class(10, false)),
                Err(Denial::Hidden),
                "{action:?}"
            );
            assert_eq!(
                authorize(&actor(Role::Teacher), action, &learner(10, false)),
                Err(Denial::Hidden),
                "{action:?}"
            );
        }
    }

    #[test]
    fn teacher_edits_own_class_and_its_learners_but_not_structure() {
        let t = actor(Role::Teacher);
        for action in [
            Action::ClassView,
            Action::ClassRename,
            Action::LearnerCreate,
            Action::LearnerEnrol,
            Action::LearnerUnenrol,
        ] {
            assert_eq!(
                authorize(&t, action, &class(10, true)),
                Ok(()),
                "{action:?}"
            );
        }
        for action in [
            Action::LearnerView,
            Action::LearnerEdit,
            Action::LearnerEnrol,
            Action::LearnerSetActive,
        ] {
            assert_eq!(
                authorize(&t, action, &learner(10, true)),
                Ok(()),
                "{action:?}"
            );
        }
        for action in [
            Action::ClassArchive,
            Action::ClassDelete,
            Action::ClassAssignTeachers,
        ] {
            assert!(matches!(
                authorize(&t, action, &class(10, true)),
                Err(Denial::Forbidden(_))
            ));
        }
        let school = Resource::School {
            school: SchoolId(Uuid::from_u128(10)),
        };
        assert_eq!(authorize(&t, Action::ClassView, &school), Ok(()));
        assert_eq!(
            authorize(&t, Action::StaffView, &school),
            Err(Denial::Forbidden(
                "only lead teachers can see the staff list"
            ))
        );
        assert!(matches!(
            authorize(&t, Action::ClassCreate, &school),
            Err(Denial::Forbidden(_))
        ));
    }

    #[test]
    fn teacher_manages_own_class_credentials_but_cannot_export_the_school() {
        let t = actor(Role::Teacher);
        for action in [
            Action::CodesView,
            Action::CodesExport,
            Action::PasswordReset,
        ] {
            assert_eq!(
                authorize(&t, action, &class(10, true)),
                Ok(()),
                "{action:?}"
            );
        }
        for action in [
            Action::CodesView,
            Action::PasswordReset,
            Action::ParentCodeRotate,
        ] {
            assert_eq!(
                authorize(&t, action, &learner(10, true)),
                Ok(()),
                "{action:?}"
            );
        }
        let school = Resource::School {
            school: SchoolId(Uuid::from_u128(10)),
        };
        assert_eq!(
            authorize(&t, Action::SchoolExport, &school),
            Err(Denial::Forbidden(
                "only lead teachers can export the whole school"
            ))
        );
        assert_eq!(authorize(&t, Action::AuditView, &school), Ok(()));
        assert_eq!(
            authorize(&actor(Role::LeadTeacher), Action::SchoolExport, &school),
            Ok(())
        );
    }

    #[test]
    fn only_a_lead_teacher_imports_their_own_schools_roster() {
        let school = |id| Resource::School {
            school: SchoolId(Uuid::from_u128(id)),
        };
        assert_eq!(
            authorize(&actor(Role::Teacher), Action::RosterImport, &school(10)),
            Err(Denial::Forbidden(
                "only lead teachers can import the school's roster"
            ))
        );
        assert_eq!(
            authorize(&actor(Role::LeadTeacher), Action::RosterImport, &school(10)),
            Ok(())
        );
        assert_eq!(
            authorize(&actor(Role::LeadTeacher), Action::RosterImport, &school(11)),
            Err(Denial::Hidden)
        );
    }
}
