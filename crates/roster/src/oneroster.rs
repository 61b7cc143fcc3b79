//! OneRoster CSV (1.1 and 1.2): the files of a zip read into typed records, each with the
//! line it came from, and checked as a whole before anything is imported.
//!
//! Tolerant where the data means the same: optional files missing, extra columns, header
//! spellings, `status` and `dateLastModified` left empty in bulk files, dates with or
//! without a time, 1.1's `role` column or 1.2's `roles.csv`. Strict where it would import
//! the wrong thing: a `sourcedId` twice in a file, an enrolment of a user or class the file
//! does not have, a class without a school, an unknown status or role, a date that is not
//! one. Delta files (the manifest says `delta`) may name records the school already holds;
//! those references are checked against the school by the import, not here.

use std::collections::HashMap;

use crate::error::{Refusal, Result};
use crate::plan::{FileClass, FileLearner, FileStaff, Incoming};
use crate::table::{Row, Table};
use crate::text::{Encodings, decode};
use crate::unzip::{Limits, unzip};

/// The files read from a OneRoster zip; the rest (courses, sessions, results…) are not
/// needed to make accounts and classes.
pub const FILES: &[&str] = &[
    "manifest.csv",
    "orgs.csv",
    "users.csv",
    "roles.csv",
    "classes.csv",
    "enrollments.csv",
];

/// Which OneRoster version the files follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 1.1: a user's role in `users.csv`.
    V1_1,
    /// 1.2: roles in `roles.csv`.
    V1_2,
}

/// A record's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Current.
    Active,
    /// To be removed (in a delta file, or left in a bulk one).
    ToBeDeleted,
}

/// What a user is at the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A learner.
    Student,
    /// A teacher.
    Teacher,
    /// A school or district administrator.
    Administrator,
    /// Anything else (aide, guardian, parent, proctor…): not imported as an account.
    Other(String),
}

/// An organisation: a school, or a district above schools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub sourced_id: String,
    pub status: Status,
    pub name: String,
    /// `school`, `district`, …
    pub kind: String,
    pub line: u64,
}

/// A person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub sourced_id: String,
    pub status: Status,
    pub enabled: bool,
    pub role: Role,
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// The organisations the user belongs to (1.1 `orgSourcedIds`, 1.2 the role's org).
    pub orgs: Vec<String>,
    pub line: u64,
}

/// A class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub sourced_id: String,
    pub status: Status,
    pub title: String,
    pub school: String,
    /// Grades as listed (`03`, `KG`…), for a year group.
    pub grades: Vec<String>,
    pub line: u64,
}

/// A user in a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub sourced_id: String,
    pub status: Status,
    pub class: String,
    pub user: String,
    pub role: Role,
    pub line: u64,
}

/// Everything read from one OneRoster zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub version: Version,
    /// Whether any file is a delta (changes since the last export) rather than everything.
    pub delta: bool,
    pub orgs: Vec<Org>,
    pub users: Vec<User>,
    pub classes: Vec<Class>,
    pub enrollments: Vec<Enrollment>,
}

/// Reads the OneRoster zip `name`.
pub fn read_zip(name: &str, bytes: &[u8], limits: &Limits) -> Result<Roster> {
    let files = unzip(name, bytes, FILES, limits)?;
    let table = |file: &str| -> Result<Option<Table>> {
        files
            .get(file)
            .map(|bytes| Table::parse(file, &decode(file, bytes, Encodings::Utf8)?))
            .transpose()
    };
    let manifest = table("manifest.csv")?;
    let (version, delta) = read_manifest(manifest.as_ref(), files.contains_key("roles.csv"))?;
    let orgs = match table("orgs.csv")? {
        Some(t) => read_orgs(&t)?,
        None => Vec::new(),
    };
    let roles = match table("roles.csv")? {
        Some(t) => read_roles(&t)?,
        None => HashMap::new(),
    };
    let Some(users) = table("users.csv")? else {
        return Err(Refusal::file(
            name,
            "the zip has no users.csv: export the users too",
        ));
    };
    let users = read_users(&users, &roles)?;
    let classes = match table("classes.csv")? {
        Some(t) => read_classes(&t)?,
        None => Vec::new(),
    };
    let enrollments = match table("enrollments.csv")? {
        Some(t) => read_enrollments(&t)?,
        None => Vec::new(),
    };
    let roster = Roster {
        version,
        delta,
        orgs,
        users,
        classes,
        enrollments,
    };
    if !roster.delta {
        roster.check_references()?;
    }
    Ok(roster)
}

fn read_manifest(manifest: Option<&Table>, has_roles: bool) -> Result<(Version, bool)> {
    let guessed = if has_roles {
        Version::V1_2
    } else {
        Version::V1_1
    };
    let Some(manifest) = manifest else {
        return Ok((guessed, false));
    };
    let property = manifest.require(&["propertyName"])?;
    let value = manifest.require(&["value"])?;
    let mut version = guessed;
    let mut delta = false;
    for row in manifest.rows() {
        let (key, val) = (row.get(property).to_ascii_lowercase(), row.get(value));
        match key.as_str() {
            "oneroster.version" => {
                version = match val {
                    "1.1" => Version::V1_1,
                    "1.2" => Version::V1_2,
                    other => {
                        return Err(manifest.refuse(
                            row,
                            value,
                            format!("OneRoster {other} is not supported: export as 1.1 or 1.2"),
                        ));
                    }
                }
            }
            k if k.starts_with("file.") => match val.to_ascii_lowercase().as_str() {
                "bulk" | "absent" | "" => {}
                "delta" => delta = true,
                other => {
                    return Err(manifest.refuse(
                        row,
                        value,
                        format!("{other:?} is not bulk, delta or absent"),
                    ));
                }
            },
            _ => {}
        }
    }
    Ok((version, delta))
}

/// The columns every record has.
struct Common {
    id: usize,
    status: Option<usize>,
    modified: Option<usize>,
}

impl Common {
    fn of(table: &Table) -> Result<Self> {
        Ok(Self {
            id: table.require(&["sourcedId"])?,
            status: table.column(&["status"]),
            modified: table.column(&["dateLastModified"]),
        })
    }

    /// The row's id and status, refusing a second row with the same id.
    fn read(
        &self,
        table: &Table,
        row: &Row,
        seen: &mut HashMap<String, u64>,
    ) -> Result<(String, Status)> {
        let id = row.get(self.id);
        if id.is_empty() {
            return Err(table.refuse(row, self.id, "the sourcedId is empty"));
        }
        if let Some(first) = seen.insert(id.to_owned(), row.line) {
            return Err(table.refuse(
                row,
                self.id,
                format!("the sourcedId {id} is also on line {first}: each record needs its own"),
            ));
        }
        if let Some(column) = self.modified {
            let date = row.get(column);
            if !date.is_empty() && !is_date(date) {
                return Err(table.refuse(
                    row,
                    column,
                    format!("{date:?} is not a date (2024-09-01 or 2024-09-01T08:00:00Z)"),
                ));
            }
        }
        let status = match self.status.map(|c| row.get(c).to_ascii_lowercase()) {
            None => Status::Active,
            Some(s) if s.is_empty() || s == "active" => Status::Active,
            Some(s) if s == "tobedeleted" || s == "inactive" => Status::ToBeDeleted,
            Some(s) => {
                let column = self.status.unwrap_or_default();
                return Err(table.refuse(
                    row,
                    column,
                    format!("{s:?} is not a status: use active or tobedeleted"),
                ));
            }
        };
        Ok((id.to_owned(), status))
    }
}

/// Every row of `table` as a record made by `record` from the row, its id and its status,
/// refusing a second row with the same id.
fn records<T>(
    table: &Table,
    mut record: impl FnMut(&Row, String, Status) -> Result<T>,
) -> Result<Vec<T>> {
    let common = Common::of(table)?;
    let mut seen = HashMap::new();
    table
        .rows()
        .iter()
        .map(|row| {
            let (id, status) = common.read(table, row, &mut seen)?;
            record(row, id, status)
        })
        .collect()
}

/// Whether `s` is a date as exports write them: `YYYY-MM-DD`, optionally followed by a time
/// (`T` or a space, then anything a timestamp holds).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    match b.get(10) {
        None => true,
        Some(b'T' | b't' | b' ') => s[11..]
            .chars()
            .all(|c| c.is_ascii_digit() || ":.+-Zz".contains(c)),
        _ => false,
    }
}

fn read_orgs(table: &Table) -> Result<Vec<Org>> {
    let name = table.require(&["name"])?;
    let kind = table.column(&["type"]);
    records(table, |row, sourced_id, status| {
        Ok(Org {
            sourced_id,
            status,
            name: row.get(name).to_owned(),
            kind: kind.map_or("school", |k| row.get(k)).to_ascii_lowercase(),
            line: row.line,
        })
    })
}

fn role(table: &Table, row: &Row, column: usize) -> Result<Role> {
    Ok(match row.get(column).to_ascii_lowercase().as_str() {
        "student" => Role::Student,
        "teacher" => Role::Teacher,
        "administrator" | "siteadministrator" | "districtadministrator" => Role::Administrator,
        "" => return Err(table.refuse(row, column, "the role is empty")),
        other => Role::Other(other.to_owned()),
    })
}

/// 1.2's `roles.csv`: each user's primary role (or first, when none is marked) and its
/// organisation.
fn read_roles(table: &Table) -> Result<HashMap<String, (Role, String, u64)>> {
    let user = table.require(&["userSourcedId"])?;
    let role_column = table.require(&["role"])?;
    let kind = table.column(&["roleType"]);
    let org = table.column(&["orgSourcedId"]);
    let mut roles: HashMap<String, (Role, String, u64)> = HashMap::new();
    for row in table.rows() {
        let primary = kind.is_none_or(|k| row.get(k).eq_ignore_ascii_case("primary"));
        let entry = (
            role(table, row, role_column)?,
            org.map_or("", |o| row.get(o)).to_owned(),
            row.line,
        );
        let id = row.get(user).to_owned();
        if primary || !roles.contains_key(&id) {
            roles.insert(id, entry);
        }
    }
    Ok(roles)
}

fn read_users(table: &Table, roles: &HashMap<String, (Role, String, u64)>) -> Result<Vec<User>> {
    let given = table.require(&["givenName"])?;
    let family = table.require(&["familyName"])?;
    let username = table.column(&["username"]);
    let email = table.column(&["email"]);
    let enabled = table.column(&["enabledUser"]);
    let role_column = table.column(&["role"]);
    let orgs = table.column(&["orgSourcedIds", "primaryOrgSourcedId"]);
    records(table, |row, sourced_id, status| {
        let (role, role_org) = match (role_column, roles.get(&sourced_id)) {
            (Some(column), _) => (role(table, row, column)?, String::new()),
            (None, Some((role, org, _))) => (role.clone(), org.clone()),
            (None, None) => {
                return Err(Refusal::file(
                    table.file(),
                    format!("the user {sourced_id} has no role (in users.csv or roles.csv)"),
                )
                .at_line(row.line));
            }
        };
        let mut user_orgs: Vec<String> = orgs
            .map(|c| row.get(c))
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if !role_org.is_empty() && !user_orgs.contains(&role_org) {
            user_orgs.push(role_org);
        }
        Ok(User {
            sourced_id,
            status,
            enabled: enabled.is_none_or(|c| !row.get(c).eq_ignore_ascii_case("false")),
            role,
            username: username.map_or("", |c| row.get(c)).to_owned(),
            given_name: row.get(given).to_owned(),
            family_name: row.get(family).to_owned(),
            email: email.map_or("", |c| row.get(c)).to_owned(),
            orgs: user_orgs,
            line: row.line,
        })
    })
}

fn read_classes(table: &Table) -> Result<Vec<Class>> {
    let title = table.require(&["title"])?;
    let school = table.require(&["schoolSourcedId"])?;
    let grades = table.column(&["grades"]);
    records(table, |row, sourced_id, status| {
        if row.get(title).is_empty() {
            return Err(table.refuse(row, title, "the class has no title"));
        }
        Ok(Class {
            sourced_id,
            status,
            title: row.get(title).to_owned(),
            school: row.get(school).to_owned(),
            grades: grades
                .map(|c| row.get(c))
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            line: row.line,
        })
    })
}

fn read_enrollments(table: &Table) -> Result<Vec<Enrollment>> {
    let class = table.require(&["classSourcedId"])?;
    let user = table.require(&["userSourcedId"])?;
    let role_column = table.require(&["role"])?;
    records(table, |row, sourced_id, status| {
        Ok(Enrollment {
            sourced_id,
            status,
            class: row.get(class).to_owned(),
            user: row.get(user).to_owned(),
            role: role(table, row, role_column)?,
            line: row.line,
        })
    })
}

impl Roster {
    /// The schools of the export (orgs of type `school`, or every org when none says).
    pub fn schools(&self) -> Vec<&Org> {
        let schools: Vec<&Org> = self.orgs.iter().filter(|o| o.kind == "school").collect();
        if schools.is_empty() {
            self.orgs.iter().collect()
        } else {
            schools
        }
    }

    /// What the export holds for the school `org` (its `sourcedId`), as an import takes
    /// it: its students as learners, its teachers (and administrators, as lead teachers) as
    /// staff, its classes, and who is in and who teaches each. Parents and other roles get
    /// no account.
    pub fn incoming(&self, org: &str) -> Incoming {
        let classes: Vec<FileClass> = self
            .classes
            .iter()
            .filter(|c| c.school == org && c.status == Status::Active)
            .map(|c| FileClass {
                source_id: c.sourced_id.clone(),
                name: c.title.clone(),
            })
            .collect();
        // A delta lists only the classes that changed: a class it does not list at all may
        // be one the school has, which the plan looks up.
        let known = |class: &str| {
            classes.iter().any(|c| c.source_id == class)
                || (self.delta && !self.classes.iter().any(|c| c.sourced_id == class))
        };
        let mut enrolled: HashMap<&str, Vec<String>> = HashMap::new();
        for e in &self.enrollments {
            if matches!(e.role, Role::Student | Role::Teacher | Role::Administrator)
                && e.status == Status::Active
                && known(&e.class)
            {
                enrolled.entry(&e.user).or_default().push(e.class.clone());
            }
        }
        let single_school = self.schools().len() <= 1;
        let of_school =
            |u: &&User| u.orgs.iter().any(|o| o == org) || (u.orgs.is_empty() && single_school);
        let staff = self
            .users
            .iter()
            .filter(|u| matches!(u.role, Role::Teacher | Role::Administrator))
            .filter(of_school)
            .map(|u| FileStaff {
                source_id: u.sourced_id.clone(),
                given_name: u.given_name.clone(),
                family_name: u.family_name.clone(),
                username: (!u.username.is_empty()).then(|| u.username.clone()),
                email: (!u.email.is_empty()).then(|| u.email.clone()),
                lead: u.role == Role::Administrator,
                classes: enrolled.remove(u.sourced_id.as_str()).unwrap_or_default(),
                leaving: u.status == Status::ToBeDeleted || !u.enabled,
                file: "users.csv".to_owned(),
                line: u.line,
            })
            .collect();
        let learners = self
            .users
            .iter()
            .filter(|u| u.role == Role::Student)
            .filter(of_school)
            .map(|u| FileLearner {
                source_id: u.sourced_id.clone(),
                given_name: u.given_name.clone(),
                family_name: u.family_name.clone(),
                username: (!u.username.is_empty()).then(|| u.username.clone()),
                email: (!u.email.is_empty()).then(|| u.email.clone()),
                classes: enrolled.remove(u.sourced_id.as_str()).unwrap_or_default(),
                leaving: u.status == Status::ToBeDeleted,
                enabled: u.enabled,
                file: "users.csv".to_owned(),
                line: u.line,
            })
            .collect();
        Incoming {
            complete: !self.delta,
            classes,
            learners,
            staff,
        }
    }

    /// In a bulk export every reference must name a record of the export: an enrolment's
    /// user and class, a class's school.
    fn check_references(&self) -> Result<()> {
        let orgs: HashMap<&str, &Org> = self
            .orgs
            .iter()
            .map(|o| (o.sourced_id.as_str(), o))
            .collect();
        let users: HashMap<&str, &User> = self
            .users
            .iter()
            .map(|u| (u.sourced_id.as_str(), u))
            .collect();
        let classes: HashMap<&str, &Class> = self
            .classes
            .iter()
            .map(|c| (c.sourced_id.as_str(), c))
            .collect();
        for class in &self.classes {
            if class.school.is_empty() || !orgs.contains_key(class.school.as_str()) {
                let what = if class.school.is_empty() {
                    "the class names no school".to_owned()
                } else {
                    format!("the class's school {} is not in orgs.csv", class.school)
                };
                return Err(Refusal::file("classes.csv", what)
                    .at_line(class.line)
                    .in_column("schoolSourcedId"));
            }
        }
        for enrollment in &self.enrollments {
            if !users.contains_key(enrollment.user.as_str()) {
                return Err(Refusal::file(
                    "enrollments.csv",
                    format!("the user {} is not in users.csv", enrollment.user),
                )
                .at_line(enrollment.line)
                .in_column("userSourcedId"));
            }
            if !classes.contains_key(enrollment.class.as_str()) {
                return Err(Refusal::file(
                    "enrollments.csv",
                    format!("the class {} is not in classes.csv", enrollment.class),
                )
                .at_line(enrollment.line)
                .in_column("classSourcedId"));
            }
        }
        Ok(())
    }
}
