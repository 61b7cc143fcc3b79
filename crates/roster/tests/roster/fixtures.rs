//! The files `scripts/roster-fixtures` writes: OneRoster in the specification's column
//! order (1.1 and 1.2), and what information systems and Excel really send — a BOM, CRLF,
//! quoted line breaks, extra columns, their own header spellings, optional files left out,
//! a delta with `tobedeleted`, two schools in one export, Windows-1252 and UTF-16 — each
//! read and planned into a school as an import would.

use classkeys_roster::Limits;
use classkeys_roster::oneroster::{Role, Roster, Version, read_zip};
use classkeys_roster::plain::{incoming, read_csv};
use classkeys_roster::plan::{Guards, Plan, School, plan};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/roster-fixtures)"))
}

fn roster(name: &str) -> Roster {
    read_zip(name, &fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The plan of importing `org` of `file` into an empty school.
fn first_import(file: &Roster, org: &str) -> Plan {
    let plan = plan(&School::default(), &file.incoming(org), &Guards::default());
    assert!(plan.refused.is_empty(), "{:?}", plan.refused);
    plan
}

fn usernames(plan: &Plan) -> Vec<&str> {
    plan.added.iter().map(|a| a.username.as_str()).collect()
}

#[test]
fn a_bulk_export_in_the_specifications_1_1_columns_imports_its_students_and_teachers() {
    let file = roster("spec-1.1.zip");
    assert_eq!(file.version, Version::V1_1);
    assert_eq!(
        file.schools()
            .iter()
            .map(|o| o.sourced_id.as_str())
            .collect::<Vec<_>>(),
        ["school-1"],
        "the district is not a school"
    );
    let plan = first_import(&file, "school-1");
    assert_eq!(
        usernames(&plan),
        ["lisa.s", "milhouse.vanhouten", "nelson.muntz"]
    );
    let lisa = &plan.added[0];
    assert_eq!(lisa.email.as_deref(), Some("lisa@home.example"));
    assert_eq!(lisa.classes, ["class-3a"]);
    assert!(
        !plan.added[2].active,
        "enabledUser false: added deactivated"
    );
    let staff: Vec<(&str, bool, &[String])> = plan
        .staff_added
        .iter()
        .map(|s| (s.username.as_str(), s.lead, s.classes.as_slice()))
        .collect();
    assert_eq!(
        staff,
        [
            ("e.hoover", false, &["class-3a".to_owned()][..]),
            ("s.skinner", true, &[][..]),
        ],
        "the guardian gets no account"
    );
}

#[test]
fn a_1_2_export_takes_each_users_primary_role_from_roles_csv() {
    let file = roster("spec-1.2.zip");
    assert_eq!(file.version, Version::V1_2);
    let edna = file.users.iter().find(|u| u.sourced_id == "u-9").unwrap();
    assert_eq!(
        edna.role,
        Role::Teacher,
        "primary, not the secondary guardian role"
    );
    let plan = first_import(&file, "org-7");
    assert_eq!(usernames(&plan), ["asa.lindqvist", "chidi.okonkwo"]);
    assert_eq!(plan.added[0].given_name, "Åsa");
    assert_eq!(plan.staff_added[0].username, "j.krabappel");
    assert_eq!(plan.classes_added[0].name, "4 Kestrels");
}

#[test]
fn what_an_information_system_sends_reads_with_every_rows_true_line() {
    let file = roster("sis-bulk.zip");
    assert!(!file.delta, "no manifest: a bulk export");
    let mary = &file.users[0];
    assert_eq!(mary.family_name, "O'Brien, Jr.");
    // Kai's address holds a quoted line break: the rows after his start a line later.
    let lines: Vec<u64> = file.users.iter().map(|u| u.line).collect();
    assert_eq!(lines, [2, 3, 5, 6]);
    assert_eq!(file.users[2].role, Role::Student, "\"Student\" in capitals");
    let plan = first_import(&file, "sch-9");
    assert_eq!(
        usernames(&plan),
        ["mary.obrienjr", "kai.nakamurasato", "zoe.dubois"]
    );
    assert_eq!(plan.staff_added[0].username, "jin.park");
    assert_eq!(plan.staff_added[0].classes, ["cl-1"]);
}

#[test]
fn the_next_days_delta_deactivates_who_it_removes_and_adds_who_joined_a_known_class() {
    let file = roster("sis-delta.zip");
    assert!(file.delta);
    let school = crate::school_after(&roster("sis-bulk.zip").incoming("sch-9"));
    let next = plan(&school, &file.incoming("sch-9"), &Guards::default());
    assert!(next.refused.is_empty(), "{:?}", next.refused);
    assert_eq!(next.deactivated, [("L-p-2".to_owned(), 1)]);
    assert_eq!(usernames(&next), ["ines.almeida"]);
    assert_eq!(
        next.added[0].classes,
        ["cl-2"],
        "a class the school has from the bulk export, not in the delta"
    );
    assert!(next.changed.is_empty(), "nobody else is touched by a delta");
}

#[test]
fn two_schools_in_one_export_import_one_at_a_time() {
    let file = roster("sis-two-schools.zip");
    let schools: Vec<&str> = file
        .schools()
        .iter()
        .map(|o| o.sourced_id.as_str())
        .collect();
    assert_eq!(schools, ["s-a", "s-b"]);
    let alder = first_import(&file, "s-a");
    assert_eq!(usernames(&alder), ["ana.alder"]);
    assert_eq!(alder.staff_added[0].classes, ["a-1"], "only Alder's class");
    let birch = first_import(&file, "s-b");
    assert_eq!(usernames(&birch), ["ben.birch"]);
}

#[test]
fn spreadsheets_saved_by_excel_read_in_their_encodings() {
    let bytes = fixture("excel-1252-semicolon.csv");
    let learners = read_csv("klasse.csv", &bytes, &[], &Limits::default()).unwrap();
    let names: Vec<(&str, &str, &[String])> = learners
        .iter()
        .map(|l| {
            (
                l.given_name.as_str(),
                l.family_name.as_str(),
                l.classes.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("Jürgen", "Müller", &["4b".to_owned()][..]),
            ("Søren", "Østergård", &["4b".to_owned()][..]),
            ("Zoë", "François", &["4a".to_owned(), "Chor".to_owned()][..]),
        ]
    );
    assert_eq!(learners[0].email, "juergen@home.example");

    let bytes = fixture("excel-utf16.csv");
    let learners = read_csv("list.csv", &bytes, &[], &Limits::default()).unwrap();
    assert_eq!(learners[0].given_name, "Łucja");
    assert_eq!(learners[1].family_name, "Παπαδοπούλου");
    assert_eq!(learners[1].id, "7002");
    let plan = plan(
        &School::default(),
        &incoming("list.csv", &learners),
        &Guards::default(),
    );
    assert_eq!(plan.added.len(), 2, "{:?}", plan.refused);
}
