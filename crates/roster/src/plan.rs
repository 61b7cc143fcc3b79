//! What an import would do to a school, worked out before anything changes: the learners
//! added (with the usernames made for them), changed field by field, enrolled and taken out
//! of classes, deactivated (never deleted: their email stays theirs), the classes added,
//! the rows that cannot be imported and why, and whether the import must wait for a lead
//! teacher's confirmation. A pure function of the school as it is and the file: the
//! server reads the one, this crate the other, and applying the plan is the server's.
//!
//! Matching: a learner of the file is the school's learner with the same `sourcedId` (or,
//! for a learner never imported, whose ClassKeys id it is: the school's own export); a
//! school learner never imported is matched once, by username or else by email address,
//! and keeps the file's id from then on. A learner who came from an earlier import and is
//! not in this file has left: deactivated. Learners typed in by hand are left alone. A
//! learner the file marks disabled is deactivated, or added deactivated.
//!
//! Staff are matched the same way and follow the file's teaching assignments; new staff
//! are added without a password (the server invites them to choose one). Staff gone from
//! the file are not deactivated by an import: that stays a lead teacher's decision.

use std::collections::{HashMap, HashSet};

use classkeys_domain::identity::{ClassName, Email, FamilyName, GivenName, Username};
use classkeys_domain::text::identity_key;
use serde::{Deserialize, Serialize};

use crate::error::Refusal;

/// A class of the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolClass {
    pub id: String,
    pub source_id: Option<String>,
    pub name: String,
    /// The version a rename is based on: applying leaves a class renamed since alone.
    pub version: i64,
}

/// A learner of the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolLearner {
    pub id: String,
    pub source_id: Option<String>,
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub active: bool,
    /// The ids of their classes.
    pub classes: Vec<String>,
    /// The version the plan is based on: applying refuses a learner changed since.
    pub version: i64,
}

/// A member of staff of the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolStaff {
    pub id: String,
    pub source_id: Option<String>,
    pub username: String,
    /// As the school shows them: for the preview.
    pub name: String,
    pub email: Option<String>,
    /// The ids of the classes they teach.
    pub classes: Vec<String>,
}

/// The school as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct School {
    pub classes: Vec<SchoolClass>,
    pub learners: Vec<SchoolLearner>,
    pub staff: Vec<SchoolStaff>,
}

/// A class in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileClass {
    pub source_id: String,
    pub name: String,
}

/// A learner in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLearner {
    pub source_id: String,
    pub given_name: String,
    pub family_name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// The `source_id`s of their classes.
    pub classes: Vec<String>,
    /// Marked to be removed (a delta file's `tobedeleted`): deactivated if present.
    pub leaving: bool,
    /// Whether the account is enabled: a disabled learner is deactivated, or added
    /// deactivated.
    pub enabled: bool,
    /// Where they are in the file, for refusals.
    pub file: String,
    pub line: u64,
}

/// A member of staff in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStaff {
    pub source_id: String,
    pub given_name: String,
    pub family_name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// An administrator of the school: a lead teacher.
    pub lead: bool,
    /// The `source_id`s of the classes they teach.
    pub classes: Vec<String>,
    /// Disabled or marked to be removed: not added.
    pub leaving: bool,
    pub file: String,
    pub line: u64,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    /// Whether the file holds every learner (a bulk export): then a learner of an earlier
    /// import who is not in it has left. A delta holds only changes.
    pub complete: bool,
    pub classes: Vec<FileClass>,
    pub learners: Vec<FileLearner>,
    pub staff: Vec<FileStaff>,
}

/// When an import waits for a lead teacher's confirmation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guards {
    /// Deactivating more than this share of the school's active learners.
    pub deactivate_share: f64,
    /// Changing more names than this.
    pub renamed: usize,
}

impl Default for Guards {
    fn default() -> Self {
        Self {
            deactivate_share: 0.10,
            renamed: 20,
        }
    }
}

/// A class of the school that the file names otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRename {
    pub class_id: String,
    pub version: i64,
    pub from: String,
    pub to: String,
}

/// A class of the file that the school already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedClass {
    /// The class's id in the file.
    pub source_id: String,
    /// The school's class.
    pub class_id: String,
    /// Whether the school's class takes the file's id (matched by name, never imported).
    pub adopt_source_id: bool,
}

/// A learner to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addition {
    pub source_id: String,
    pub given_name: String,
    pub family_name: String,
    pub username: String,
    /// Whether the username was made here (the file had none).
    pub username_made: bool,
    pub email: Option<String>,
    /// The classes, by the class's `source_id` in the file.
    pub classes: Vec<String>,
    /// False for a learner the file has disabled: added deactivated.
    pub active: bool,
}

/// A member of staff to add, without a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAddition {
    pub source_id: String,
    pub username: String,
    pub username_made: bool,
    pub display_name: String,
    pub email: Option<String>,
    pub lead: bool,
    /// The classes they teach, by the class's `source_id` in the file.
    pub classes: Vec<String>,
}

/// A member of staff whose teaching the file changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChange {
    pub staff_id: String,
    pub adopt_source_id: Option<String>,
    /// Classes they start teaching, by the class's `source_id` in the file.
    pub teach: Vec<String>,
    /// Classes they stop teaching, by id.
    pub stop_teaching: Vec<String>,
}

/// A learner's field that an import may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    FamilyName,
    Username,
    Email,
}

impl Field {
    /// The field's name, as the API and the learner's record spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Username => "username",
            Field::Email => "email",
        }
    }
}

/// One field of a learner that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: Field,
    pub from: String,
    pub to: String,
}

/// A learner of the school that the file changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub learner_id: String,
    pub version: i64,
    /// Set when the learner is matched for the first time (by username or email).
    pub adopt_source_id: Option<String>,
    pub fields: Vec<FieldChange>,
    pub reactivate: bool,
    /// Classes joined and left, by the class's `source_id` (joined) and id (left).
    pub enrol: Vec<String>,
    pub unenrol: Vec<String>,
}

/// The plan of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Classes the school does not have yet.
    pub classes_added: Vec<FileClass>,
    /// Classes renamed.
    pub classes_renamed: Vec<ClassRename>,
    /// Classes of the file that the school already has.
    pub classes_matched: Vec<MatchedClass>,
    pub added: Vec<Addition>,
    pub changed: Vec<Change>,
    /// Learners gone from the file: (learner id, version).
    pub deactivated: Vec<(String, i64)>,
    /// Learners the file holds exactly as the school does.
    pub unchanged: usize,
    pub staff_added: Vec<StaffAddition>,
    pub staff_changed: Vec<StaffChange>,
    /// Rows that cannot be imported, and why (kept with the preview, not with the plan
    /// that is applied).
    #[serde(skip)]
    pub refused: Vec<Refusal>,
    /// Why the import waits for a lead teacher's confirmation, if it does.
    pub held: Vec<String>,
}

impl Plan {
    /// Whether the import would change nothing.
    pub fn is_empty(&self) -> bool {
        self.classes_added.is_empty()
            && self.classes_renamed.is_empty()
            && !self.classes_matched.iter().any(|c| c.adopt_source_id)
            && self.added.is_empty()
            && self.changed.is_empty()
            && self.deactivated.is_empty()
            && self.staff_added.is_empty()
            && self.staff_changed.is_empty()
    }
}

/// Works out what importing `incoming` into `school` would do.
pub fn plan(school: &School, incoming: &Incoming, guards: &Guards) -> Plan {
    let mut plan = Plan::default();

    let by_source: HashMap<&str, &SchoolClass> = school
        .classes
        .iter()
        .map(|c| (c.source_id.as_deref().unwrap_or(&c.id), c))
        .collect();
    let by_name: HashMap<String, &SchoolClass> = school
        .classes
        .iter()
        .map(|c| (identity_key(&c.name), c))
        .collect();
    // The school's class id each file class becomes (None: added by this import).
    let mut class_ids: HashMap<&str, Option<&str>> = HashMap::new();
    // Classes whose name cannot be a class's name: their learners are refused with them.
    let mut refused_classes: HashSet<&str> = HashSet::new();
    for class in &incoming.classes {
        let name = match ClassName::parse(&class.name) {
            Ok(name) => name.as_str().to_owned(),
            Err(e) => {
                plan.refused.push(Refusal::file(
                    format!("class {}", class.source_id),
                    e.reason,
                ));
                refused_classes.insert(&class.source_id);
                continue;
            }
        };
        let found = by_source
            .get(class.source_id.as_str())
            .or_else(|| by_name.get(&identity_key(&name)))
            .copied();
        match found {
            Some(existing) => {
                if existing.name != name {
                    plan.classes_renamed.push(ClassRename {
                        class_id: existing.id.clone(),
                        version: existing.version,
                        from: existing.name.clone(),
                        to: name,
                    });
                }
                plan.classes_matched.push(MatchedClass {
                    source_id: class.source_id.clone(),
                    class_id: existing.id.clone(),
                    adopt_source_id: existing.source_id.is_none() && existing.id != class.source_id,
                });
                class_ids.insert(&class.source_id, Some(&existing.id));
            }
            None => {
                plan.classes_added.push(FileClass {
                    source_id: class.source_id.clone(),
                    name,
                });
                class_ids.insert(&class.source_id, None);
            }
        }
    }

    // A delta names the classes its learners join without listing them again: those the
    // school has (by the file's id) count as the file's.
    for class in &school.classes {
        let source = class.source_id.as_deref().unwrap_or(&class.id);
        if !class_ids.contains_key(source) && !refused_classes.contains(source) {
            class_ids.insert(source, Some(&class.id));
        }
    }

    // Usernames and addresses share one namespace across learners and staff.
    let mut taken: HashSet<String> = HashSet::new();
    for staff in &school.staff {
        taken.insert(identity_key(&staff.username));
        if let Some(email) = &staff.email {
            taken.insert(identity_key(email));
        }
    }
    for learner in &school.learners {
        taken.insert(identity_key(&learner.username));
        if let Some(email) = &learner.email {
            taken.insert(identity_key(email));
        }
    }
    let source_index: HashMap<&str, &SchoolLearner> = school
        .learners
        .iter()
        .map(|l| (l.source_id.as_deref().unwrap_or(&l.id), l))
        .collect();
    let ident_index: HashMap<String, &SchoolLearner> = school
        .learners
        .iter()
        .filter(|l| l.source_id.is_none())
        .flat_map(|l| {
            std::iter::once((identity_key(&l.username), l))
                .chain(l.email.as_deref().map(|e| (identity_key(e), l)))
        })
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut renamed = 0;

    let mut leaving: Vec<(String, i64)> = Vec::new();
    for row in &incoming.learners {
        let refuse = |reason: String| Refusal::file(&row.file, reason).at_line(row.line);
        if row.leaving {
            if let Some(existing) = source_index.get(row.source_id.as_str())
                && existing.active
            {
                seen.insert(&existing.id);
                leaving.push((existing.id.clone(), existing.version));
            }
            continue;
        }
        let given = match GivenName::parse(&row.given_name) {
            Ok(name) => name,
            Err(e) => {
                plan.refused.push(refuse(e.reason).in_column("given_name"));
                continue;
            }
        };
        let family = match FamilyName::parse(&row.family_name) {
            Ok(name) => name,
            Err(e) => {
                plan.refused.push(refuse(e.reason).in_column("family_name"));
                continue;
            }
        };
        let email = match row
            .email
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(Email::parse)
        {
            Some(Ok(email)) => Some(email),
            Some(Err(e)) => {
                plan.refused.push(refuse(e.reason).in_column("email"));
                continue;
            }
            None => None,
        };
        let username = match row
            .username
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(Username::parse)
        {
            Some(Ok(username)) => Some(username),
            Some(Err(e)) => {
                plan.refused.push(refuse(e.reason).in_column("username"));
                continue;
            }
            None => None,
        };
        let unknown: Vec<&String> = row
            .classes
            .iter()
            .filter(|c| !class_ids.contains_key(c.as_str()))
            .collect();
        if let Some(class) = unknown.first() {
            let reason = if refused_classes.contains(class.as_str()) {
                format!("their class {class} cannot be imported (see the class's refusal)")
            } else {
                format!("the class {class} is neither in the file nor in the school")
            };
            plan.refused.push(refuse(reason));
            continue;
        }
        let matched = source_index
            .get(row.source_id.as_str())
            .copied()
            .or_else(|| {
                username
                    .as_ref()
                    .map(|u| identity_key(u.as_str()))
                    .and_then(|k| ident_index.get(&k).copied())
                    .or_else(|| {
                        email
                            .as_ref()
                            .and_then(|e| ident_index.get(e.key()).copied())
                    })
            });
        let Some(existing) = matched else {
            // A new learner: their username (given or made) and address must be free.
            let (username, made) = match new_username(&taken, username, &given, &family) {
                Ok(made) => made,
                Err(refusal) => {
                    plan.refused.push(refusal.of_row(&row.file, row.line));
                    continue;
                }
            };
            if let Some(email) = &email
                && taken.contains(email.key())
            {
                plan.refused.push(
                    refuse(format!(
                        "the email address {email} already belongs to another account"
                    ))
                    .in_column("email"),
                );
                continue;
            }
            taken.insert(identity_key(username.as_str()));
            if let Some(email) = &email {
                taken.insert(email.key().to_owned());
            }
            plan.added.push(Addition {
                source_id: row.source_id.clone(),
                given_name: given.as_str().to_owned(),
                family_name: family.as_str().to_owned(),
                username: username.as_str().to_owned(),
                username_made: made,
                email: email.map(|e| e.as_str().to_owned()),
                classes: row.classes.clone(),
                active: row.enabled,
            });
            continue;
        };
        let clash = |ident: &str, own: Option<&str>| {
            own.map(identity_key).as_deref() != Some(ident) && taken.contains(ident)
        };
        if let Some(u) = &username
            && clash(&identity_key(u.as_str()), Some(&existing.username))
        {
            plan.refused.push(
                refuse(format!(
                    "the username {u} already belongs to another account"
                ))
                .in_column("username"),
            );
            continue;
        }
        if let Some(e) = &email
            && clash(e.key(), existing.email.as_deref())
        {
            plan.refused.push(
                refuse(format!(
                    "the email address {e} already belongs to another account"
                ))
                .in_column("email"),
            );
            continue;
        }
        seen.insert(&existing.id);
        if !row.enabled {
            // Disabled in the information system: deactivated, and otherwise left as it is.
            if existing.active {
                leaving.push((existing.id.clone(), existing.version));
            } else {
                plan.unchanged += 1;
            }
            continue;
        }

        let mut fields = Vec::new();
        let mut field = |name: Field, from: &str, to: &str| {
            if from != to {
                fields.push(FieldChange {
                    field: name,
                    from: from.to_owned(),
                    to: to.to_owned(),
                });
            }
        };
        field(Field::GivenName, &existing.given_name, given.as_str());
        field(Field::FamilyName, &existing.family_name, family.as_str());
        if let Some(u) = &username {
            field(Field::Username, &existing.username, u.as_str());
        }
        // The same address in other capitals is the same address: not a change.
        if let Some(e) = &email
            && existing.email.as_deref().map(identity_key).as_deref() != Some(e.key())
        {
            field(
                Field::Email,
                existing.email.as_deref().unwrap_or_default(),
                e.as_str(),
            );
        }
        if fields
            .iter()
            .any(|f| matches!(f.field, Field::GivenName | Field::FamilyName))
        {
            renamed += 1;
        }
        let wanted: Vec<(&str, Option<&str>)> = row
            .classes
            .iter()
            .map(|c| (c.as_str(), class_ids.get(c.as_str()).copied().flatten()))
            .collect();
        let enrol: Vec<String> = wanted
            .iter()
            .filter(|(_, id)| id.is_none_or(|id| !existing.classes.iter().any(|c| c == id)))
            .map(|(source, _)| (*source).to_owned())
            .collect();
        let unenrol: Vec<String> = existing
            .classes
            .iter()
            .filter(|c| !wanted.iter().any(|(_, id)| *id == Some(c.as_str())))
            .cloned()
            .collect();
        // A username or address this row takes is not free for a later row.
        for changed in fields
            .iter()
            .filter(|f| matches!(f.field, Field::Username | Field::Email))
        {
            taken.insert(identity_key(&changed.to));
        }
        let adopt = (existing.source_id.is_none() && existing.id != row.source_id)
            .then(|| row.source_id.clone());
        let change = Change {
            learner_id: existing.id.clone(),
            version: existing.version,
            adopt_source_id: adopt,
            fields,
            reactivate: !existing.active,
            enrol,
            unenrol,
        };
        if change.fields.is_empty()
            && !change.reactivate
            && change.enrol.is_empty()
            && change.unenrol.is_empty()
            && change.adopt_source_id.is_none()
        {
            plan.unchanged += 1;
        } else {
            plan.changed.push(change);
        }
    }

    plan_staff(school, incoming, &class_ids, &mut taken, &mut plan);

    let active = school.learners.iter().filter(|l| l.active).count();
    plan.deactivated = leaving;
    if incoming.complete {
        plan.deactivated.extend(
            school
                .learners
                .iter()
                .filter(|l| l.active && l.source_id.is_some() && !seen.contains(l.id.as_str()))
                .map(|l| (l.id.clone(), l.version)),
        );
    }
    if active > 0 && plan.deactivated.len() as f64 > guards.deactivate_share * active as f64 {
        plan.held.push(format!(
            "{} of the school's {active} active learners would be deactivated, more than {:.0} %",
            plan.deactivated.len(),
            guards.deactivate_share * 100.0
        ));
    }
    if renamed > guards.renamed {
        plan.held.push(format!(
            "{renamed} learners' names would change, more than {}",
            guards.renamed
        ));
    }
    plan
}

/// A refused username or address, before it is placed in a file.
struct Refused {
    column: Option<&'static str>,
    reason: String,
}

impl Refused {
    fn of_row(self, file: &str, line: u64) -> Refusal {
        let refusal = Refusal::file(file, self.reason).at_line(line);
        match self.column {
            Some(column) => refusal.in_column(column),
            None => refusal,
        }
    }
}

/// The username of a new account: the file's, if free, or one made from the names that
/// no one has (`taken` holds every identity key of the school and of this import so far).
/// Says whether it was made.
fn new_username(
    taken: &HashSet<String>,
    given_username: Option<Username>,
    given: &GivenName,
    family: &FamilyName,
) -> std::result::Result<(Username, bool), Refused> {
    if let Some(u) = given_username {
        if taken.contains(&identity_key(u.as_str())) {
            return Err(Refused {
                column: Some("username"),
                reason: format!("the username {u} already belongs to another account"),
            });
        }
        return Ok((u, false));
    }
    let Some(base) = Username::suggest(given.as_str(), family.as_str()) else {
        return Err(Refused {
            column: None,
            reason: "no username can be made from these names: give one in the file".into(),
        });
    };
    // Every taken key bounds how many candidates can be taken.
    base.first_free(taken.len(), |u| taken.contains(u))
        .map(|u| (u, true))
        .ok_or(Refused {
            column: None,
            reason: "no free username could be made".into(),
        })
}

/// Plans the file's staff: new staff added (without a password), and the teaching of staff
/// the school has following the file. Staff gone from the file are left as they are.
fn plan_staff(
    school: &School,
    incoming: &Incoming,
    class_ids: &HashMap<&str, Option<&str>>,
    taken: &mut HashSet<String>,
    plan: &mut Plan,
) {
    let by_source: HashMap<&str, &SchoolStaff> = school
        .staff
        .iter()
        .map(|s| (s.source_id.as_deref().unwrap_or(&s.id), s))
        .collect();
    let by_ident: HashMap<String, &SchoolStaff> = school
        .staff
        .iter()
        .filter(|s| s.source_id.is_none())
        .flat_map(|s| {
            std::iter::once((identity_key(&s.username), s))
                .chain(s.email.as_deref().map(|e| (identity_key(e), s)))
        })
        .collect();
    for row in incoming.staff.iter().filter(|s| !s.leaving) {
        let refuse = |reason: String| Refusal::file(&row.file, reason).at_line(row.line);
        let classes: Vec<String> = row
            .classes
            .iter()
            .filter(|c| class_ids.contains_key(c.as_str()))
            .cloned()
            .collect();
        let username = match row.username.as_deref().filter(|u| !u.is_empty()) {
            Some(u) => match Username::parse(u) {
                Ok(u) => Some(u),
                Err(e) => {
                    plan.refused.push(refuse(e.reason).in_column("username"));
                    continue;
                }
            },
            None => None,
        };
        let email = match row.email.as_deref().filter(|e| !e.is_empty()) {
            Some(e) => match Email::parse(e) {
                Ok(e) => Some(e),
                Err(e) => {
                    plan.refused.push(refuse(e.reason).in_column("email"));
                    continue;
                }
            },
            None => None,
        };
        let matched = by_source.get(row.source_id.as_str()).copied().or_else(|| {
            username
                .as_ref()
                .and_then(|u| by_ident.get(&identity_key(u.as_str())))
                .or_else(|| email.as_ref().and_then(|e| by_ident.get(e.key())))
                .copied()
        });
        if let Some(existing) = matched {
            let wanted: Vec<(&str, Option<&str>)> = classes
                .iter()
                .map(|c| (c.as_str(), class_ids.get(c.as_str()).copied().flatten()))
                .collect();
            let teach: Vec<String> = wanted
                .iter()
                .filter(|(_, id)| id.is_none_or(|id| !existing.classes.iter().any(|c| c == id)))
                .map(|(source, _)| (*source).to_owned())
                .collect();
            let stop_teaching: Vec<String> = existing
                .classes
                .iter()
                .filter(|c| !wanted.iter().any(|(_, id)| *id == Some(c.as_str())))
                .cloned()
                .collect();
            let adopt_source_id = (existing.source_id.is_none() && existing.id != row.source_id)
                .then(|| row.source_id.clone());
            if !teach.is_empty() || !stop_teaching.is_empty() || adopt_source_id.is_some() {
                plan.staff_changed.push(StaffChange {
                    staff_id: existing.id.clone(),
                    adopt_source_id,
                    teach,
                    stop_teaching,
                });
            }
            continue;
        }
        let (Ok(given), Ok(family)) = (
            GivenName::parse(&row.given_name),
            FamilyName::parse(&row.family_name),
        ) else {
            plan.refused.push(refuse(
                "the member of staff needs a given and a family name".into(),
            ));
            continue;
        };
        let (username, made) = match new_username(taken, username, &given, &family) {
            Ok(made) => made,
            Err(refusal) => {
                plan.refused.push(refusal.of_row(&row.file, row.line));
                continue;
            }
        };
        if let Some(e) = &email
            && taken.contains(e.key())
        {
            plan.refused.push(
                refuse(format!(
                    "the email address {e} already belongs to another account"
                ))
                .in_column("email"),
            );
            continue;
        }
        taken.insert(identity_key(username.as_str()));
        if let Some(e) = &email {
            taken.insert(e.key().to_owned());
        }
        plan.staff_added.push(StaffAddition {
            source_id: row.source_id.clone(),
            username: username.as_str().to_owned(),
            username_made: made,
            display_name: format!("{given} {family}"),
            email: email.map(|e| e.as_str().to_owned()),
            lead: row.lead,
            classes,
        });
    }
}
