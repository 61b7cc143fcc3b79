//! OneRoster zips as information systems write them, read into records; and the files that
//! would import the wrong thing, refused with file, line and column.

use crate::zip_of;
use classkeys_roster::Limits;
use classkeys_roster::oneroster::{Role, Status, Version, read_zip};

const MANIFEST_11: &str = "propertyName,value\n\
    manifest.version,1.0\n\
    oneroster.version,1.1\n\
    file.orgs,bulk\nfile.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\n\
    file.courses,absent\nfile.academicSessions,absent\n";

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
    org-1,,,Hillside Primary,school,HP01,dist-1\n\
    dist-1,,,North District,district,,\n";

const USERS_11: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
    userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
    u-1,active,2024-08-30T10:15:00.000Z,true,org-1,student,ada.l,,Ada,Lovelace,,S1,ada@home.example,,,,03,\n\
    u-2,,2024-08-30,true,org-1,teacher,c.babbage,,Charles,Babbage,,T1,cb@school.example,,,,,\n\
    u-3,,,true,org-1,parent,p.l,,Anne,Lovelace,,,,,,,,\n";

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,\
    location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
    c-1,,,3 Owls,\"03,04\",course-1,3OW,homeroom,,org-1,term-1,,,\n";

const ENROLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,\
    role,primary,beginDate,endDate\n\
    e-1,,,c-1,org-1,u-1,student,false,,\n\
    e-2,,,c-1,org-1,u-2,teacher,true,,\n";

#[test]
fn a_bulk_1_1_export_reads_into_orgs_users_classes_and_enrolments() {
    let zip = zip_of(&[
        ("manifest.csv", MANIFEST_11),
        ("orgs.csv", ORGS),
        ("users.csv", USERS_11),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLMENTS),
        ("courses.csv", "sourcedId,title\ncourse-1,Year 3\n"),
    ]);
    let roster = read_zip("export.zip", &zip, &Limits::default()).unwrap();
    assert_eq!((roster.version, roster.delta), (Version::V1_1, false));
    assert_eq!(roster.orgs.len(), 2);
    let ada = &roster.users[0];
    assert_eq!(
        (
            ada.role.clone(),
            ada.given_name.as_str(),
            ada.email.as_str(),
            ada.line
        ),
        (Role::Student, "Ada", "ada@home.example", 2)
    );
    assert_eq!(ada.orgs, ["org-1"]);
    assert_eq!(roster.users[1].role, Role::Teacher);
    assert_eq!(roster.users[2].role, Role::Other("parent".into()));
    assert_eq!(roster.classes[0].grades, ["03", "04"]);
    assert_eq!(roster.enrollments.len(), 2);

    // As an import takes it: the school's students, its classes, each student's classes.
    assert_eq!(
        roster
            .schools()
            .iter()
            .map(|o| o.sourced_id.as_str())
            .collect::<Vec<_>>(),
        ["org-1"]
    );
    let incoming = roster.incoming("org-1");
    assert!(incoming.complete);
    assert_eq!(incoming.classes.len(), 1);
    assert_eq!(
        incoming.learners.len(),
        1,
        "the teacher and the parent are not learners"
    );
    assert_eq!(incoming.learners[0].source_id, "u-1");
    assert_eq!(incoming.learners[0].classes, ["c-1"]);
    assert_eq!(incoming.learners[0].username.as_deref(), Some("ada.l"));
}

#[test]
fn a_1_2_export_takes_roles_from_roles_csv_and_tolerates_missing_files_bom_and_crlf() {
    let users = "\u{feff}sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,\
        familyName,middleName,identifier,email,primaryOrgSourcedId,Extra Column\r\n\
        u-1,active,2024-08-30T10:15:00Z,true,ada.l,,Ada,Lovelace,,,ada@home.example,org-1,x\r\n\
        u-2,tobedeleted,2024-08-30,false,c.b,,Charles,Babbage,,,,org-1,\r\n";
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,orgSourcedId\r\n\
        r-1,,,u-1,primary,student,org-1\r\n\
        r-2,,,u-2,secondary,aide,org-1\r\n\
        r-3,,,u-2,primary,teacher,org-1\r\n";
    let zip = zip_of(&[
        ("oneroster/users.csv", users),
        ("oneroster/roles.csv", roles),
        ("oneroster/orgs.csv", ORGS),
    ]);
    let roster = read_zip("export.zip", &zip, &Limits::default()).unwrap();
    assert_eq!(
        roster.version,
        Version::V1_2,
        "no manifest: roles.csv says 1.2"
    );
    assert_eq!(roster.users[0].role, Role::Student);
    assert_eq!(roster.users[1].role, Role::Teacher, "the primary role");
    assert_eq!(roster.users[1].status, Status::ToBeDeleted);
    assert!(!roster.users[1].enabled);
    assert!(roster.classes.is_empty() && roster.enrollments.is_empty());
}

#[test]
fn a_delta_export_may_name_records_it_does_not_hold() {
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.enrollments,delta\n";
    let enrolments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n\
        e-9,tobedeleted,2025-01-06,c-old,org-1,u-old,student\n";
    let zip = zip_of(&[
        ("manifest.csv", manifest),
        ("users.csv", USERS_11),
        ("enrollments.csv", enrolments),
    ]);
    let roster = read_zip("delta.zip", &zip, &Limits::default()).unwrap();
    assert!(roster.delta);
    assert_eq!(roster.enrollments[0].status, Status::ToBeDeleted);
}

/// The refusal of `export.zip` with `file` replaced by `content` in the bulk export above.
fn refused_with(file: &str, content: &str) -> String {
    let mut entries = vec![
        ("manifest.csv", MANIFEST_11),
        ("orgs.csv", ORGS),
        ("users.csv", USERS_11),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLMENTS),
    ];
    for entry in &mut entries {
        if entry.0 == file {
            entry.1 = content;
        }
    }
    read_zip("export.zip", &zip_of(&entries), &Limits::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn what_would_import_the_wrong_thing_is_refused_with_file_line_and_column() {
    let duplicate = format!("{USERS_11}u-1,,,true,org-1,student,ada2,,Ada,L,,,,,,,,\n");
    assert_eq!(
        refused_with("users.csv", &duplicate),
        "users.csv, line 5, column sourcedId: the sourcedId u-1 is also on line 2: each record needs its own"
    );
    let unknown_user = format!("{ENROLMENTS}e-3,,,c-1,org-1,u-404,student,false,,\n");
    assert_eq!(
        refused_with("enrollments.csv", &unknown_user),
        "enrollments.csv, line 4, column userSourcedId: the user u-404 is not in users.csv"
    );
    let no_org = CLASSES.replace(",org-1,", ",,");
    assert_eq!(
        refused_with("classes.csv", &no_org),
        "classes.csv, line 2, column schoolSourcedId: the class names no school"
    );
    let bad_date = USERS_11.replace("2024-08-30,true", "30/08/2024,true");
    assert_eq!(
        refused_with("users.csv", &bad_date),
        "users.csv, line 3, column dateLastModified: \"30/08/2024\" is not a date (2024-09-01 or 2024-09-01T08:00:00Z)"
    );
    let bad_status = USERS_11.replace("u-1,active", "u-1,gone");
    assert!(
        refused_with("users.csv", &bad_status)
            .starts_with("users.csv, line 2, column status: \"gone\" is not a status"),
    );
    // "Schöle" saved as Windows-1252: one byte that is not UTF-8, the 12th character.
    let latin = "sourcedId,status,dateLastModified,name,type\norg-1,,,Sch\u{f6}le,school\n";
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(latin);
    let zip = zip_of(&[("orgs.csv", &latin[..]), ("users.csv", USERS_11.as_bytes())]);
    let refused = read_zip("export.zip", &zip, &Limits::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "orgs.csv, line 2, column 12: the file must be UTF-8, and a character there is in \
         another encoding: export it again as UTF-8"
    );
    assert!(
        refused_with("users.csv", "sourcedId,givenName\nu-1,Ada\n")
            .starts_with("users.csv, line 1: there is no column named familyName")
    );
}
