//! A CSV of learners saved from a spreadsheet: one row a learner, with their class. Columns
//! are recognised by name in the languages schools write them in; when a needed one is not
//! recognised, the refusal lists the columns found so the person importing can say which
//! is which ([`Mapping::with`]).

use std::collections::HashMap;

use classkeys_domain::text::{identity_key, search_fold};

use crate::error::{Refusal, Result};
use crate::plan::{FileClass, FileLearner, Incoming};
use crate::table::{Table, header_key};
use crate::text::{Encodings, decode};
use crate::unzip::Limits;

/// What a column of the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The school's own id for the learner: the next import updates instead of duplicating.
    Id,
    GivenName,
    FamilyName,
    /// The class (several separated by `|`).
    Class,
    Username,
    Email,
}

impl Field {
    /// Every field, in the order they are looked for.
    pub const ALL: [Field; 6] = [
        Field::Id,
        Field::GivenName,
        Field::FamilyName,
        Field::Class,
        Field::Username,
        Field::Email,
    ];

    /// The name used to map a column to it (`Vorname=given_name`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Class => "class",
            Field::Username => "username",
            Field::Email => "email",
        }
    }

    /// The field named `name` (as [`Field::name`] spells it, or any header it recognises).
    pub fn parse(name: &str) -> Option<Field> {
        let key = header_key(name);
        Field::ALL.into_iter().find(|f| {
            header_key(f.name()) == key || f.headers().iter().any(|h| header_key(h) == key)
        })
    }

    /// Header names that mean this field.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Field::Id => &[
                "id",
                "student id",
                "pupil id",
                "learner id",
                "sourcedId",
                "upn",
                "identifier",
                "student number",
                "admission number",
            ],
            Field::GivenName => &[
                "given name",
                "first name",
                "forename",
                "forenames",
                "preferred first name",
                "vorname",
                "prénom",
                "nombre",
            ],
            Field::FamilyName => &[
                "family name",
                "last name",
                "surname",
                "lastname",
                "nachname",
                "nom",
                "apellidos",
                "apellido",
            ],
            Field::Class => &[
                "class",
                "class name",
                "classes",
                "form",
                "tutor group",
                "registration group",
                "homeroom",
                "group",
                "klasse",
                "classe",
                "clase",
            ],
            Field::Username => &["username", "user name", "login", "benutzername"],
            Field::Email => &["email", "e-mail", "email address", "mail", "e-mail address"],
        }
    }
}

/// Columns mapped by hand, one per line as `COLUMN=field` (`Vorname=given_name`); blank
/// lines are skipped. The field is any name [`Field::parse`] knows.
pub fn parse_map(text: &str) -> Result<Vec<(String, Field)>> {
    let mut chosen = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let refuse = |reason: String| Refusal::file("the column map", reason);
        let Some((column, field)) = line.rsplit_once('=') else {
            return Err(refuse(format!(
                "{line:?} maps nothing: write COLUMN=field, as Vorname=given_name"
            )));
        };
        let field = Field::parse(field.trim()).ok_or_else(|| {
            refuse(format!(
                "{:?} is not a field: use {}",
                field.trim(),
                Field::ALL.map(Field::name).join(", ")
            ))
        })?;
        chosen.push((column.trim().to_owned(), field));
    }
    Ok(chosen)
}

/// Which column holds which field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    columns: HashMap<Field, usize>,
}

impl Mapping {
    /// The columns recognised by their header names.
    pub fn guess(table: &Table) -> Mapping {
        let columns = Field::ALL
            .into_iter()
            .filter_map(|f| table.column(f.headers()).map(|c| (f, c)))
            .collect();
        Mapping { columns }
    }

    /// The guess, with `chosen` columns (`(header as written, field)`) put where they were
    /// said to go.
    pub fn with(mut self, table: &Table, chosen: &[(String, Field)]) -> Result<Mapping> {
        for (header, field) in chosen {
            let Some(column) = table.column(&[header.as_str()]) else {
                return Err(Refusal::file(
                    table.file(),
                    format!(
                        "there is no column named {header}; the columns are: {}",
                        table.other_columns(&[]).join(", ")
                    ),
                )
                .at_line(1));
            };
            self.columns.retain(|_, c| *c != column);
            self.columns.insert(*field, column);
        }
        Ok(self)
    }

    /// The column of `field`, if any.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns.get(&field).copied()
    }
}

/// A learner as a row of the file has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainLearner {
    pub line: u64,
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub classes: Vec<String>,
    pub username: String,
    pub email: String,
}

/// Reads the spreadsheet CSV `name` with the columns `chosen` mapped by hand (the rest
/// recognised by name).
pub fn read_csv(
    name: &str,
    bytes: &[u8],
    chosen: &[(String, Field)],
    limits: &Limits,
) -> Result<Vec<PlainLearner>> {
    limits.check_size(name, bytes.len() as u64)?;
    let table = Table::parse(name, &decode(name, bytes, Encodings::Spreadsheet)?)?;
    let mapping = Mapping::guess(&table).with(&table, chosen)?;
    let needed = |field: Field| {
        mapping.column(field).ok_or_else(|| {
            Refusal::file(
                name,
                format!(
                    "which column holds the {}? None is named so; the columns are: {} \
                     (map it as COLUMN={})",
                    field.name().replace('_', " "),
                    table.other_columns(&[]).join(", "),
                    field.name()
                ),
            )
            .at_line(1)
        })
    };
    let given = needed(Field::GivenName)?;
    let family = needed(Field::FamilyName)?;
    let class = needed(Field::Class)?;
    let optional = |field: Field| mapping.column(field);
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut usernames: HashMap<String, u64> = HashMap::new();
    let mut learners = Vec::with_capacity(table.rows().len());
    for row in table.rows() {
        for (column, what) in [(given, "given name"), (family, "family name")] {
            if row.get(column).is_empty() {
                return Err(table.refuse(row, column, format!("the {what} is empty")));
            }
        }
        let get = |field: Field| optional(field).map_or("", |c| row.get(c)).to_owned();
        let id = get(Field::Id);
        if !id.is_empty()
            && let Some(first) = ids.insert(id.clone(), row.line)
        {
            let column = optional(Field::Id).unwrap_or_default();
            return Err(table.refuse(
                row,
                column,
                format!("the id {id} is also on line {first}: each learner needs their own"),
            ));
        }
        let username = get(Field::Username);
        if !username.is_empty()
            && let Some(first) = usernames.insert(username.to_lowercase(), row.line)
        {
            let column = optional(Field::Username).unwrap_or_default();
            return Err(table.refuse(
                row,
                column,
                format!("the username {username} is also on line {first}"),
            ));
        }
        let classes: Vec<String> = row
            .get(class)
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if classes.is_empty() {
            return Err(table.refuse(row, class, "the class is empty"));
        }
        learners.push(PlainLearner {
            line: row.line,
            id,
            given_name: row.get(given).to_owned(),
            family_name: row.get(family).to_owned(),
            classes,
            username,
            email: get(Field::Email),
        });
    }
    Ok(learners)
}

/// What a spreadsheet's learners are as an import takes them. Classes are known by name.
/// A learner is known by the file's id column; without one, by username, else email
/// address, else name — weaker each time, so an id column is what makes next term's file
/// update rather than duplicate.
pub fn incoming(file: &str, learners: &[PlainLearner]) -> Incoming {
    let mut classes: Vec<FileClass> = Vec::new();
    for name in learners.iter().flat_map(|l| &l.classes) {
        if !classes.iter().any(|c| c.source_id == *name) {
            classes.push(FileClass {
                source_id: name.clone(),
                name: name.clone(),
            });
        }
    }
    let learners = learners
        .iter()
        .map(|l| {
            let source_id = if l.id.is_empty() {
                [&l.username, &l.email]
                    .into_iter()
                    .find(|s| !s.is_empty())
                    .map(|s| identity_key(s))
                    .unwrap_or_else(|| search_fold(&format!("{} {}", l.given_name, l.family_name)))
            } else {
                l.id.clone()
            };
            FileLearner {
                source_id: if l.id.is_empty() {
                    format!("csv:{source_id}")
                } else {
                    source_id
                },
                given_name: l.given_name.clone(),
                family_name: l.family_name.clone(),
                username: (!l.username.is_empty()).then(|| l.username.clone()),
                email: (!l.email.is_empty()).then(|| l.email.clone()),
                classes: l.classes.clone(),
                leaving: false,
                enabled: true,
                file: file.to_owned(),
                line: l.line,
            }
        })
        .collect();
    Incoming {
        complete: true,
        classes,
        learners,
        staff: Vec::new(),
    }
}
