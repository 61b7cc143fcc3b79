//! Writing a school back out as OneRoster 1.2 CSV: the zip an information system (or
//! ClassKeys itself) imports. What [`crate::oneroster::read_zip`] reads from it is what was
//! written: the same ids, names, usernames, emails, classes and enrolments.
//!
//! 1.2 asks every class for a course and a term, which ClassKeys does not keep: the export
//! has one course per class and one academic session, the school year it is made in.
//! Everything is written as `bulk`, dates as UTC timestamps, and every field through the
//! csv crate's quoting, so commas, quotes and line breaks in names survive.

use std::io::Write;

use zip::write::SimpleFileOptions;

use crate::oneroster::Role;

/// The school, as its one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOrg {
    pub sourced_id: String,
    pub name: String,
}

/// The school year the export is made in: the academic session of every class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolYear {
    /// `2026-2027`.
    pub title: String,
    /// `2026-08-01`.
    pub start_date: String,
    /// `2027-07-31`.
    pub end_date: String,
    /// The year it ends in, as OneRoster counts school years: `2027`.
    pub end_year: i32,
}

impl SchoolYear {
    /// The school year (August to July) that the day `year-month-…` falls in.
    pub fn of(year: i32, month: u8) -> Self {
        let start = if month >= 8 { year } else { year - 1 };
        Self {
            title: format!("{start}-{}", start + 1),
            start_date: format!("{start}-08-01"),
            end_date: format!("{}-07-31", start + 1),
            end_year: start + 1,
        }
    }
}

/// A learner or member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportUser {
    pub sourced_id: String,
    pub role: Role,
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    /// Deactivated accounts are written with `enabledUser` false.
    pub enabled: bool,
    /// When the record last changed (`2026-09-01T08:00:00.000Z`).
    pub modified: String,
}

/// A class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportClass {
    pub sourced_id: String,
    pub title: String,
    pub modified: String,
}

/// A user in a class, by `sourcedId`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEnrollment {
    pub class: String,
    pub user: String,
    pub role: Role,
}

/// Everything the export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub org: ExportOrg,
    pub year: SchoolYear,
    /// When the export is made, as `dateLastModified` of what has no time of its own.
    pub now: String,
    pub users: Vec<ExportUser>,
    pub classes: Vec<ExportClass>,
    pub enrollments: Vec<ExportEnrollment>,
}

const MANIFEST: &[(&str, &str)] = &[
    ("manifest.version", "1.0"),
    ("oneroster.version", "1.2"),
    ("file.academicSessions", "bulk"),
    ("file.categories", "absent"),
    ("file.classes", "bulk"),
    ("file.classResources", "absent"),
    ("file.courses", "bulk"),
    ("file.courseResources", "absent"),
    ("file.demographics", "absent"),
    ("file.enrollments", "bulk"),
    ("file.lineItemLearningObjectiveIds", "absent"),
    ("file.lineItems", "absent"),
    ("file.lineItemScoreScales", "absent"),
    ("file.orgs", "bulk"),
    ("file.resources", "absent"),
    ("file.results", "absent"),
    ("file.roles", "bulk"),
    ("file.scoreScales", "absent"),
    ("file.userProfiles", "absent"),
    ("file.userResources", "absent"),
    ("file.users", "bulk"),
    ("source.systemName", "ClassKeys"),
    ("source.systemCode", "classkeys"),
];

fn role_name(role: &Role) -> &str {
    match role {
        Role::Student => "student",
        Role::Teacher => "teacher",
        Role::Administrator => "administrator",
        Role::Other(other) => other,
    }
}

/// One CSV file: the header, then the rows, CRLF line ends as the specification's
/// examples have them.
fn csv_file<'a>(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<&'a str>>,
) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    writer
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The school as a OneRoster 1.2 CSV zip. Written in memory: an error is a fault of the
/// writers, never of the data.
pub fn oneroster_zip(export: &Export) -> std::io::Result<Vec<u8>> {
    let now = export.now.as_str();
    let org = &export.org;
    let year = &export.year;
    let session_id = format!("{}-year-{}", org.sourced_id, year.end_year);
    let end_year = year.end_year.to_string();
    let course_id = |class: &str| format!("{class}-course");

    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    files.push((
        "manifest.csv",
        csv_file(
            &["propertyName", "value"],
            MANIFEST.iter().map(|(k, v)| vec![*k, *v]),
        )?,
    ));
    files.push((
        "orgs.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "name",
                "type",
                "identifier",
                "parentSourcedId",
            ],
            [vec![
                org.sourced_id.as_str(),
                "active",
                now,
                org.name.as_str(),
                "school",
                "",
                "",
            ]],
        )?,
    ));
    files.push((
        "academicSessions.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "title",
                "type",
                "startDate",
                "endDate",
                "parentSourcedId",
                "schoolYear",
            ],
            [vec![
                session_id.as_str(),
                "active",
                now,
                year.title.as_str(),
                "schoolYear",
                year.start_date.as_str(),
                year.end_date.as_str(),
                "",
                end_year.as_str(),
            ]],
        )?,
    ));
    let course_ids: Vec<String> = export
        .classes
        .iter()
        .map(|c| course_id(&c.sourced_id))
        .collect();
    files.push((
        "courses.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "schoolYearSourcedId",
                "title",
                "courseCode",
                "grades",
                "orgSourcedId",
                "subjects",
                "subjectCodes",
            ],
            export.classes.iter().zip(&course_ids).map(|(c, course)| {
                vec![
                    course.as_str(),
                    "active",
                    c.modified.as_str(),
                    session_id.as_str(),
                    c.title.as_str(),
                    "",
                    "",
                    org.sourced_id.as_str(),
                    "",
                    "",
                ]
            }),
        )?,
    ));
    files.push((
        "classes.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "title",
                "grades",
                "courseSourcedId",
                "classCode",
                "classType",
                "location",
                "schoolSourcedId",
                "termSourcedIds",
                "subjects",
                "subjectCodes",
                "periods",
            ],
            export.classes.iter().zip(&course_ids).map(|(c, course)| {
                vec![
                    c.sourced_id.as_str(),
                    "active",
                    c.modified.as_str(),
                    c.title.as_str(),
                    "",
                    course.as_str(),
                    "",
                    "homeroom",
                    "",
                    org.sourced_id.as_str(),
                    session_id.as_str(),
                    "",
                    "",
                    "",
                ]
            }),
        )?,
    ));
    files.push((
        "users.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "enabledUser",
                "username",
                "userIds",
                "givenName",
                "familyName",
                "middleName",
                "identifier",
                "email",
                "sms",
                "phone",
                "agentSourcedIds",
                "grades",
                "password",
                "userMasterIdentifier",
                "resourceSourcedIds",
                "preferredGivenName",
                "preferredMiddleName",
                "preferredFamilyName",
                "primaryOrgSourcedId",
                "pronouns",
            ],
            export.users.iter().map(|u| {
                vec![
                    u.sourced_id.as_str(),
                    "active",
                    u.modified.as_str(),
                    if u.enabled { "true" } else { "false" },
                    u.username.as_str(),
                    "",
                    u.given_name.as_str(),
                    u.family_name.as_str(),
                    "",
                    "",
                    u.email.as_deref().unwrap_or_default(),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    org.sourced_id.as_str(),
                    "",
                ]
            }),
        )?,
    ));
    let role_ids: Vec<String> = export
        .users
        .iter()
        .map(|u| format!("{}-role", u.sourced_id))
        .collect();
    files.push((
        "roles.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "userSourcedId",
                "roleType",
                "role",
                "beginDate",
                "endDate",
                "orgSourcedId",
                "userProfileSourcedId",
            ],
            export.users.iter().zip(&role_ids).map(|(u, id)| {
                vec![
                    id.as_str(),
                    "active",
                    u.modified.as_str(),
                    u.sourced_id.as_str(),
                    "primary",
                    role_name(&u.role),
                    "",
                    "",
                    org.sourced_id.as_str(),
                    "",
                ]
            }),
        )?,
    ));
    let enrollment_ids: Vec<String> = export
        .enrollments
        .iter()
        .map(|e| format!("{}-{}", e.class, e.user))
        .collect();
    files.push((
        "enrollments.csv",
        csv_file(
            &[
                "sourcedId",
                "status",
                "dateLastModified",
                "classSourcedId",
                "schoolSourcedId",
                "userSourcedId",
                "role",
                "primary",
                "beginDate",
                "endDate",
            ],
            export
                .enrollments
                .iter()
                .zip(&enrollment_ids)
                .map(|(e, id)| {
                    vec![
                        id.as_str(),
                        "active",
                        now,
                        e.class.as_str(),
                        org.sourced_id.as_str(),
                        e.user.as_str(),
                        role_name(&e.role),
                        if e.role == Role::Teacher {
                            "true"
                        } else {
                            "false"
                        },
                        "",
                        "",
                    ]
                }),
        )?,
    ));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name, options)?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
