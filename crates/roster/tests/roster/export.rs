//! A school written out as OneRoster 1.2 reads back as the same records: ids, roles,
//! names (commas, quotes and line breaks included), usernames, emails, whether enabled,
//! classes and enrolments.

use classkeys_roster::Limits;
use classkeys_roster::export::{
    Export, ExportClass, ExportEnrollment, ExportOrg, ExportUser, SchoolYear, oneroster_zip,
};
use classkeys_roster::oneroster::{Role, Version, read_zip};

fn user(id: &str, role: Role, given: &str, family: &str, email: Option<&str>) -> ExportUser {
    ExportUser {
        sourced_id: id.into(),
        role,
        username: format!("{}.{}", given.to_lowercase(), id),
        given_name: given.into(),
        family_name: family.into(),
        email: email.map(str::to_owned),
        enabled: true,
        modified: "2026-09-01T08:00:00.000Z".into(),
    }
}

fn school() -> Export {
    let mut gone = user("s-3", Role::Student, "Cleo", "Marsh", None);
    gone.enabled = false;
    Export {
        org: ExportOrg {
            sourced_id: "org-1".into(),
            name: "St. Mary's, \"Upper\" School".into(),
        },
        year: SchoolYear::of(2026, 12),
        now: "2026-12-07T10:00:00.000Z".into(),
        users: vec![
            user(
                "s-1",
                Role::Student,
                "Ada",
                "O'Neil, Jr.",
                Some("ada@home.example"),
            ),
            user("s-2", Role::Student, "Ben", "Line\nBreak", None),
            gone,
            user(
                "t-1",
                Role::Teacher,
                "Tess",
                "Lane",
                Some("tess@school.example"),
            ),
            user("a-1", Role::Administrator, "Hana", "Ito", None),
        ],
        classes: vec![
            ExportClass {
                sourced_id: "c-1".into(),
                title: "1 Owls, room 2".into(),
                modified: "2026-09-01T08:00:00.000Z".into(),
            },
            ExportClass {
                sourced_id: "c-2".into(),
                title: "2 Foxes".into(),
                modified: "2026-09-01T08:00:00.000Z".into(),
            },
        ],
        enrollments: vec![
            ExportEnrollment {
                class: "c-1".into(),
                user: "s-1".into(),
                role: Role::Student,
            },
            ExportEnrollment {
                class: "c-2".into(),
                user: "s-2".into(),
                role: Role::Student,
            },
            ExportEnrollment {
                class: "c-1".into(),
                user: "t-1".into(),
                role: Role::Teacher,
            },
        ],
    }
}

#[test]
fn an_export_reads_back_as_the_same_records() {
    let export = school();
    let zip = oneroster_zip(&export).unwrap();
    let roster = read_zip("school.zip", &zip, &Limits::default()).unwrap();
    assert_eq!(roster.version, Version::V1_2);
    assert!(!roster.delta);
    assert_eq!(roster.orgs.len(), 1);
    assert_eq!(roster.orgs[0].name, export.org.name);

    let users: Vec<(&str, &Role, &str, &str, &str, &str, bool)> = roster
        .users
        .iter()
        .map(|u| {
            (
                u.sourced_id.as_str(),
                &u.role,
                u.username.as_str(),
                u.given_name.as_str(),
                u.family_name.as_str(),
                u.email.as_str(),
                u.enabled,
            )
        })
        .collect();
    let written: Vec<(&str, &Role, &str, &str, &str, &str, bool)> = export
        .users
        .iter()
        .map(|u| {
            (
                u.sourced_id.as_str(),
                &u.role,
                u.username.as_str(),
                u.given_name.as_str(),
                u.family_name.as_str(),
                u.email.as_deref().unwrap_or_default(),
                u.enabled,
            )
        })
        .collect();
    assert_eq!(users, written);
    assert!(roster.users.iter().all(|u| u.orgs == ["org-1"]));

    let classes: Vec<(&str, &str, &str)> = roster
        .classes
        .iter()
        .map(|c| (c.sourced_id.as_str(), c.title.as_str(), c.school.as_str()))
        .collect();
    assert_eq!(
        classes,
        [
            ("c-1", "1 Owls, room 2", "org-1"),
            ("c-2", "2 Foxes", "org-1")
        ]
    );
    let enrollments: Vec<(&str, &str, &Role)> = roster
        .enrollments
        .iter()
        .map(|e| (e.class.as_str(), e.user.as_str(), &e.role))
        .collect();
    let expected: Vec<(&str, &str, &Role)> = export
        .enrollments
        .iter()
        .map(|e| (e.class.as_str(), e.user.as_str(), &e.role))
        .collect();
    assert_eq!(enrollments, expected);

    // As an import takes it: the students as learners, the teacher and the administrator
    // as staff (the administrator a lead teacher), each with their classes.
    let incoming = roster.incoming("org-1");
    assert!(incoming.complete);
    assert_eq!(incoming.learners.len(), 3);
    assert!(!incoming.learners[2].enabled && !incoming.learners[2].leaving);
    let staff: Vec<(&str, bool, &[String])> = incoming
        .staff
        .iter()
        .map(|s| (s.source_id.as_str(), s.lead, s.classes.as_slice()))
        .collect();
    assert_eq!(
        staff,
        [
            ("t-1", false, &["c-1".to_owned()][..]),
            ("a-1", true, &[][..])
        ]
    );
}

#[test]
fn the_school_year_runs_from_august_to_july() {
    let december = SchoolYear::of(2026, 12);
    assert_eq!(
        (
            december.title.as_str(),
            december.start_date.as_str(),
            december.end_year
        ),
        ("2026-2027", "2026-08-01", 2027)
    );
    let march = SchoolYear::of(2027, 3);
    assert_eq!(march.title, "2026-2027");
    assert_eq!(SchoolYear::of(2027, 8).title, "2027-2028");
}
