//! What the commands print: JSON shapes for `--json`, tables for people, one-line reports
//! for changes — and the one place that writes to standard output.

use std::io::{self, Write};

use anyhow::Result;
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_protocol::roster::{ClassRecord, LearnerRecord};
use serde::Serialize;

use crate::table::{Align, Table, terminal_safe};

/// How this run prints: JSON for scripts, text for people.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json` was given.
    pub json: bool,
}

impl Output {
    /// Prints `data` as JSON, or `text()` for people.
    pub fn show<T: Serialize>(&self, data: &T, text: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            let mut json = serde_json::to_string_pretty(data)?;
            json.push('\n');
            write_stdout(&json)
        } else {
            let mut text = text();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            write_stdout(&terminal_safe(&text))
        }
    }
}

/// Writes to standard output. A closed pipe (`classkeys learners | head`) ends the output
/// quietly instead of failing: the reader has all it wanted.
fn write_stdout(s: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Prints a warning to standard error: something the admin should know that did not stop
/// the command.
pub fn warn(message: &str) {
    let _ = writeln!(io::stderr(), "warning: {}", terminal_safe(message));
}

/// A class as `--json` shows it: teachers by username, so scripts can use them directly.
#[derive(Debug, Serialize)]
pub struct ClassView {
    /// Class id.
    pub id: ClassId,
    /// Name.
    pub name: String,
    /// Year group label.
    pub year_group: Option<String>,
    /// Whether the class is archived.
    pub archived: bool,
    /// The teachers' usernames.
    pub teachers: Vec<String>,
    /// Learners enrolled, active and deactivated.
    pub learner_count: i64,
    /// The record's version.
    pub version: i64,
}

impl From<&ClassRecord> for ClassView {
    fn from(c: &ClassRecord) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            year_group: c.year_group.clone(),
            archived: c.archived,
            teachers: c.teachers.iter().map(|t| t.username.clone()).collect(),
            learner_count: c.learner_count,
            version: c.version,
        }
    }
}

/// A learner as `--json` shows it: classes by name, as the admin typed them.
#[derive(Debug, Serialize)]
pub struct LearnerView {
    /// Learner id.
    pub id: LearnerId,
    /// Username.
    pub username: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Names of the learner's classes that the admin can see.
    pub classes: Vec<String>,
    /// Whether the learner can sign in.
    pub active: bool,
    /// The record's version.
    pub version: i64,
}

impl LearnerView {
    /// The view of `l`, given the names of its classes.
    pub fn new(l: &LearnerRecord, classes: Vec<String>) -> Self {
        Self {
            id: l.id,
            username: l.username.clone(),
            given_name: l.given_name.clone(),
            family_name: l.family_name.clone(),
            email: l.email.clone(),
            classes,
            active: l.active,
            version: l.version,
        }
    }

    /// "Zoe Adams".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// A class deleted: there is no record left to show, so say which one went.
#[derive(Debug, Serialize)]
pub struct Deleted {
    /// The class's id.
    pub id: ClassId,
    /// Its name.
    pub name: String,
    /// Always `true`.
    pub deleted: bool,
}

const NONE: &str = "-";

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The `classkeys classes` table.
pub fn classes_table(classes: &[ClassView]) -> String {
    let mut t = Table::new(&["NAME", "YEAR GROUP", "TEACHERS", "LEARNERS", "ARCHIVED"])
        .align(3, Align::Right);
    for c in classes {
        let teachers = c.teachers.join(", ");
        t.row([
            c.name.as_str(),
            c.year_group.as_deref().unwrap_or(NONE),
            if teachers.is_empty() { NONE } else { &teachers },
            &c.learner_count.to_string(),
            yes_no(c.archived),
        ]);
    }
    t.render()
}

/// The `classkeys learners` table.
pub fn learners_table(learners: &[LearnerView]) -> String {
    let mut t = Table::new(&[
        "USERNAME",
        "GIVEN NAME",
        "FAMILY NAME",
        "EMAIL",
        "CLASSES",
        "ACTIVE",
    ]);
    for l in learners {
        let classes = l.classes.join(", ");
        t.row([
            l.username.as_str(),
            &l.given_name,
            &l.family_name,
            l.email.as_deref().unwrap_or(NONE),
            if classes.is_empty() { NONE } else { &classes },
            yes_no(l.active),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learner(username: &str, given: &str, family: &str, classes: &[&str]) -> LearnerView {
        LearnerView {
            id: LearnerId(uuid::Uuid::from_u128(1)),
            username: username.into(),
            given_name: given.into(),
            family_name: family.into(),
            email: None,
            classes: classes.iter().map(|c| (*c).to_owned()).collect(),
            active: true,
            version: 1,
        }
    }

    #[test]
    fn learner_table_lines_up_unicode_names() {
        let out = learners_table(&[
            learner("lukasz.wojcik", "Łukasz", "Wójcik", &["4B"]),
            learner("nguyenvan.an", "Nguyễn Văn", "An", &["4B", "5C"]),
            learner("aleksandr.petrov", "Александр", "Петров", &[]),
        ]);
        // USERNAME is 16 wide, GIVEN NAME 10 and FAMILY NAME 11 characters, whatever the
        // bytes: EMAIL starts at character 43, CLASSES at 50 and ACTIVE at 59 on every line.
        let at = |line: &str, i: usize| line.chars().skip(i).take(2).collect::<String>();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(
            (at(lines[0], 42), at(lines[0], 49), at(lines[0], 58)),
            (" E".into(), " C".into(), " A".into()),
            "{out}"
        );
        for line in &lines[1..] {
            assert_eq!(at(line, 42), " -", "{out}");
            assert_eq!(at(line, 58), " y", "{out}");
        }
        assert_eq!(at(lines[2], 49), " 4", "{out}");
    }

    #[test]
    fn class_table_shows_teachers_by_username_and_dashes_for_nothing() {
        let out = classes_table(&[ClassView {
            id: ClassId(uuid::Uuid::from_u128(1)),
            name: "4B".into(),
            year_group: None,
            archived: false,
            teachers: vec!["teacher1".into(), "teacher2".into()],
            learner_count: 27,
            version: 1,
        }]);
        assert_eq!(
            out,
            "NAME  YEAR GROUP  TEACHERS            LEARNERS  ARCHIVED\n\
             4B    -           teacher1, teacher2        27  no\n"
        );
    }
}
