//! What an import would do, worked out before anything changes: the same file twice
//! changes nothing; the next term's file shows exactly who left, joined, moved and was
//! renamed; clashes are refused per row; large changes wait for a lead teacher.

use crate::school_after;
use classkeys_roster::plan::{
    FileClass, FileLearner, FileStaff, Guards, Incoming, School, SchoolLearner, SchoolStaff, plan,
};

/// Mr Hughes, a teacher typed in by hand, teaching nothing yet.
fn hughes() -> SchoolStaff {
    SchoolStaff {
        id: "S-1".into(),
        source_id: None,
        username: "mr.hughes".into(),
        name: "Mr Hughes".into(),
        email: None,
        classes: vec![],
    }
}

fn class(source: &str, name: &str) -> FileClass {
    FileClass {
        source_id: source.into(),
        name: name.into(),
    }
}

fn row(source: &str, given: &str, family: &str, classes: &[&str]) -> FileLearner {
    FileLearner {
        source_id: source.into(),
        given_name: given.into(),
        family_name: family.into(),
        username: None,
        email: None,
        classes: classes.iter().map(|c| (*c).to_owned()).collect(),
        leaving: false,
        enabled: true,
        file: "users.csv".into(),
        line: 2,
    }
}

fn autumn() -> Incoming {
    Incoming {
        complete: true,
        classes: vec![class("c3", "3 Owls"), class("c4", "4 Foxes")],
        learners: vec![
            row("s1", "Ada", "Lovelace", &["c3"]),
            row("s2", "Ben", "Okafor", &["c3"]),
            row("s3", "Cleo", "Marsh", &["c4"]),
            row("s4", "Dan", "Quill", &["c4"]),
            row("s5", "Ada", "Lovelace", &["c4"]),
        ],
        staff: Vec::new(),
    }
}

#[test]
fn a_first_import_adds_everyone_with_usernames_made_and_none_twice() {
    let first = plan(&School::default(), &autumn(), &Guards::default());
    let usernames: Vec<&str> = first.added.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(
        usernames,
        [
            "ada.lovelace",
            "ben.okafor",
            "cleo.marsh",
            "dan.quill",
            "ada.lovelace2"
        ]
    );
    assert!(first.added.iter().all(|a| a.username_made));
    assert_eq!(first.classes_added.len(), 2);
    assert!(first.held.is_empty());
}

#[test]
fn importing_the_same_file_again_changes_nothing_and_says_so() {
    let school = school_after(&autumn());
    let again = plan(&school, &autumn(), &Guards::default());
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 5);
}

#[test]
fn the_next_terms_file_previews_exactly_who_left_joined_moved_and_was_renamed() {
    let school = school_after(&autumn());
    let mut spring = autumn();
    spring.learners.retain(|l| l.source_id != "s4"); // Dan left
    spring.learners.push(row("s6", "Eve", "Hart", &["c4"])); // Eve joined
    spring.learners[1].classes = vec!["c4".into()]; // Ben moved to 4 Foxes
    spring.learners[2].family_name = "Marsh-Hale".into(); // Cleo's name changed
    let guards = Guards {
        deactivate_share: 0.5,
        ..Guards::default()
    };
    let next = plan(&school, &spring, &guards);
    assert_eq!(next.deactivated, [("L-s4".to_owned(), 1)]);
    assert_eq!(next.added.len(), 1);
    assert_eq!(next.added[0].username, "eve.hart");
    let ben = next
        .changed
        .iter()
        .find(|c| c.learner_id == "L-s2")
        .unwrap();
    assert_eq!(
        (ben.enrol.clone(), ben.unenrol.clone()),
        (vec!["c4".to_owned()], vec!["C-c3".to_owned()])
    );
    let cleo = next
        .changed
        .iter()
        .find(|c| c.learner_id == "L-s3")
        .unwrap();
    assert_eq!(cleo.fields.len(), 1);
    assert_eq!(
        (
            cleo.fields[0].field.as_str(),
            cleo.fields[0].from.as_str(),
            cleo.fields[0].to.as_str()
        ),
        ("family_name", "Marsh", "Marsh-Hale")
    );
    assert_eq!(
        next.changed.len(),
        2,
        "Ada twice unchanged: {:?}",
        next.changed
    );
    assert_eq!(next.unchanged, 2);
    assert!(next.held.is_empty());
}

#[test]
fn learners_typed_in_by_hand_are_matched_once_by_username_or_email_and_otherwise_left_alone() {
    let school = School {
        classes: vec![],
        learners: vec![
            SchoolLearner {
                id: "L-1".into(),
                source_id: None,
                username: "ada.l".into(),
                given_name: "Ada".into(),
                family_name: "Lovelace".into(),
                email: None,
                active: true,
                classes: vec![],
                version: 4,
            },
            SchoolLearner {
                id: "L-2".into(),
                source_id: None,
                username: "by.hand".into(),
                given_name: "By".into(),
                family_name: "Hand".into(),
                email: Some("hand@home.example".into()),
                active: true,
                classes: vec![],
                version: 1,
            },
        ],
        staff: vec![hughes()],
    };
    let mut ada = row("s1", "Ada", "Lovelace", &[]);
    ada.username = Some("ADA.L".into());
    let mut staffname = row("s9", "Mr", "Hughes", &[]);
    staffname.username = Some("mr.hughes".into());
    let mut stolen = row("s8", "Zed", "Ox", &[]);
    stolen.email = Some("Hand@Home.example".into());
    stolen.line = 7;
    let incoming = Incoming {
        complete: true,
        classes: vec![],
        learners: vec![ada, staffname, stolen],
        staff: Vec::new(),
    };
    let first = plan(&school, &incoming, &Guards::default());
    assert_eq!(first.changed.len(), 2);
    assert_eq!(first.changed[0].adopt_source_id.as_deref(), Some("s1"));
    assert_eq!(
        first.changed[0].version, 4,
        "applied only if nobody changed Ada since"
    );
    // "Zed Ox" has By Hand's address, so is matched to By Hand by email (the address is
    // the learner's), and the preview shows the names it would change.
    let by_email = &first.changed[1];
    assert_eq!(by_email.learner_id, "L-2");
    assert_eq!(
        by_email
            .fields
            .iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>(),
        ["given_name", "family_name"]
    );
    // The staff username is refused.
    let refusals: Vec<String> = first.refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        refusals,
        [
            "users.csv, line 2, column username: the username mr.hughes already belongs to another account"
        ]
    );
    assert!(
        first.deactivated.is_empty(),
        "learners typed in by hand are never deactivated"
    );
}

#[test]
fn large_changes_wait_for_a_lead_teachers_confirmation() {
    let school = school_after(&autumn());
    let mut gone = autumn();
    gone.learners.truncate(3);
    let held = plan(&school, &gone, &Guards::default());
    assert_eq!(held.deactivated.len(), 2);
    assert_eq!(
        held.held,
        ["2 of the school's 5 active learners would be deactivated, more than 10 %"]
    );
    let mut renamed = autumn();
    for learner in &mut renamed.learners {
        learner.given_name.push('e');
    }
    let guards = Guards {
        renamed: 3,
        ..Guards::default()
    };
    let held = plan(&school, &renamed, &guards);
    assert_eq!(held.held, ["5 learners' names would change, more than 3"]);
}

#[test]
fn a_delta_deactivates_only_whom_it_marks_to_be_removed() {
    let school = school_after(&autumn());
    let mut dan = row("s4", "Dan", "Quill", &["c4"]);
    dan.leaving = true;
    let delta = Incoming {
        complete: false,
        classes: vec![],
        learners: vec![dan, row("s6", "Eve", "Hart", &[])],
        staff: Vec::new(),
    };
    let next = plan(&school, &delta, &Guards::default());
    assert_eq!(
        next.deactivated,
        [("L-s4".to_owned(), 1)],
        "the others are not in a delta"
    );
    assert_eq!(next.added.len(), 1);
}

fn teacher(source: &str, given: &str, family: &str, classes: &[&str]) -> FileStaff {
    FileStaff {
        source_id: source.into(),
        given_name: given.into(),
        family_name: family.into(),
        username: None,
        email: None,
        lead: false,
        classes: classes.iter().map(|c| (*c).to_owned()).collect(),
        leaving: false,
        file: "users.csv".into(),
        line: 9,
    }
}

#[test]
fn a_disabled_learner_is_added_deactivated_or_deactivated_and_otherwise_left_alone() {
    let mut incoming = autumn();
    incoming.learners[1].enabled = false;
    let first = plan(&School::default(), &incoming, &Guards::default());
    let ben = first.added.iter().find(|a| a.source_id == "s2").unwrap();
    assert!(!ben.active, "added, but deactivated");
    assert!(
        first
            .added
            .iter()
            .filter(|a| a.source_id != "s2")
            .all(|a| a.active)
    );

    let school = school_after(&autumn());
    let mut next = autumn();
    next.learners[2].enabled = false;
    next.learners[2].family_name = "Marsh-Hale".into();
    let next = plan(&school, &next, &Guards::default());
    assert_eq!(next.deactivated, [("L-s3".to_owned(), 1)]);
    assert!(
        next.changed.is_empty(),
        "a disabled learner's other changes wait until they are back: {:?}",
        next.changed
    );
}

#[test]
fn new_staff_are_added_with_their_classes_and_staff_the_school_has_follow_the_file() {
    let mut incoming = autumn();
    let mut head = teacher("t2", "Hana", "Ito", &[]);
    head.lead = true;
    head.email = Some("hana.ito@school.example".into());
    incoming.staff = vec![
        teacher("t1", "Mr", "Hughes", &["c3"]),
        head,
        teacher("t3", "Gone", "Away", &["c4"]),
    ];
    incoming.staff[2].leaving = true;
    let school = School {
        staff: vec![hughes()],
        ..School::default()
    };
    let first = plan(&school, &incoming, &Guards::default());
    let added: Vec<(&str, &str, bool, &[String])> = first
        .staff_added
        .iter()
        .map(|s| {
            (
                s.username.as_str(),
                s.display_name.as_str(),
                s.lead,
                s.classes.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        added,
        [
            ("mr.hughes2", "Mr Hughes", false, &["c3".to_owned()][..]),
            ("hana.ito", "Hana Ito", true, &[][..]),
        ],
        "a username already taken is not made twice; someone leaving is not added"
    );
    assert!(
        first.added.iter().all(|a| a.username != "hana.ito"),
        "learners and staff share one namespace"
    );

    // The school has Mr Hughes (typed in), teaching 4 Foxes: the file has him teach 3 Owls.
    let mut school = school_after(&autumn());
    school.staff = vec![SchoolStaff {
        classes: vec!["C-c4".into()],
        ..hughes()
    }];
    let mut hughes = teacher("t1", "Mr", "Hughes", &["c3"]);
    hughes.username = Some("mr.hughes".into());
    let mut next = autumn();
    next.staff = vec![hughes];
    let next = plan(&school, &next, &Guards::default());
    assert!(next.staff_added.is_empty());
    assert_eq!(next.staff_changed.len(), 1);
    let change = &next.staff_changed[0];
    assert_eq!(change.adopt_source_id.as_deref(), Some("t1"));
    assert_eq!(change.teach, ["c3"]);
    assert_eq!(change.stop_teaching, ["C-c4"]);
}
