//! Importing a roster: the preview says what would happen, named for the lead teacher,
//! with nothing changed; applying it makes exactly those changes in one go, leaves out (and
//! reports) a learner changed since, waits for confirmation when a guard holds it, and is
//! audited; only lead teachers import; files that cannot be read are refused with where.

use std::io::Write;

use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{
    AuditAction, AuditQuery, SchoolExportKind, SchoolExportRequest,
};
use classkeys_protocol::imports::ImportQuery;
use classkeys_protocol::roster::{LearnerPatch, LearnerQuery};
use classkeys_server::Backend;
use zip::write::SimpleFileOptions;

use crate::harness::{self, World};
use crate::on_both_backends;

on_both_backends!(
    a_oneroster_preview_says_what_would_happen_and_changes_nothing,
    a_spreadsheet_preview_matches_learners_already_there,
    only_lead_teachers_preview,
    applying_makes_the_previewed_changes_and_the_same_file_again_changes_nothing,
    the_next_terms_file_previews_and_applies_exactly_who_left_joined_and_moved,
    a_learner_changed_since_the_preview_is_reported_not_overwritten,
    an_import_deactivating_many_waits_for_confirmation,
    new_staff_choose_their_password_through_their_invitation,
    a_school_exported_as_oneroster_imports_into_an_empty_school_as_the_same_records,
    every_bad_file_is_refused_with_where_and_the_school_is_unchanged,
    a_school_keeps_only_its_newest_unapplied_previews,
    a_class_renamed_by_the_file_is_renamed_unless_it_changed_since_the_preview,
    an_import_that_fails_part_way_changes_nothing,
);

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = entries.iter().map(|(n, c)| (*n, c.as_bytes())).collect();
    zip_bytes(&entries)
}

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn export() -> Vec<u8> {
    export_of(
        "s-1,active,2025-01-06,true,org-1,student,,Nia,Okoro,\n\
         s-2,active,2025-01-06,true,org-1,student,,Omar,Haddad,omar@home.example\n\
         t-1,active,2025-01-06,true,org-1,teacher,,Tess,Lane,\n",
        "e-1,c-9,org-1,s-1,student\ne-2,c-1,org-1,s-2,student\ne-3,c-9,org-1,t-1,teacher\n",
    )
}

/// A OneRoster 1.1 export of one school with classes 7 Ravens (c-9) and 1 Owls (c-1), and
/// these users and enrolments rows.
fn export_of(users: &str, enrollments: &str) -> Vec<u8> {
    export_with_classes(users, enrollments, "c-9,7 Ravens,org-1\nc-1,1 Owls,org-1\n")
}

/// [`export_of`] with these classes.csv rows.
fn export_with_classes(users: &str, enrollments: &str, classes: &str) -> Vec<u8> {
    let classes = format!("sourcedId,title,schoolSourcedId\n{classes}");
    let users = format!(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,email\n{users}"
    );
    let enrollments =
        format!("sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role\n{enrollments}");
    zip_of(&[
        (
            "manifest.csv",
            "propertyName,value\noneroster.version,1.1\n",
        ),
        (
            "orgs.csv",
            "sourcedId,name,type\norg-1,Demo Primary,school\n",
        ),
        ("users.csv", &users),
        ("classes.csv", &classes),
        ("enrollments.csv", &enrollments),
    ])
}

async fn learner_count(world: &World) -> i64 {
    world
        .lead
        .learners(&LearnerQuery::default())
        .await
        .unwrap()
        .total
}

async fn a_oneroster_preview_says_what_would_happen_and_changes_nothing(backend: Backend) {
    let world = World::start(backend).await;
    let before = learner_count(&world).await;
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), export())
        .await
        .unwrap();
    assert_eq!(preview.format, "oneroster 1.1");
    assert_eq!(
        preview.classes_added,
        ["7 Ravens"],
        "1 Owls is there already, by name"
    );
    let added: Vec<(&str, &[String])> = preview
        .added
        .iter()
        .map(|a| (a.username.as_str(), a.classes.as_slice()))
        .collect();
    assert_eq!(
        added,
        [
            ("nia.okoro", &["7 Ravens".to_owned()][..]),
            ("omar.haddad", &["1 Owls".to_owned()][..])
        ]
    );
    assert!(preview.refused.is_empty(), "{:?}", preview.refused);
    assert!(
        preview.deactivated.is_empty(),
        "the demo's learners were typed in, not imported"
    );
    assert_eq!(
        learner_count(&world).await,
        before,
        "a preview changes nothing"
    );
    world.stop().await;
}

async fn a_spreadsheet_preview_matches_learners_already_there(backend: Backend) {
    let world = World::start(backend).await;
    let csv = "First name;Surname;Form;Username\n\
               Grace;Ahmed-Cole;1 Owls;grace.ahmed\n\
               New;Comer;1 Owls;\n";
    let preview = world
        .lead
        .import_preview(
            &ImportQuery {
                name: Some("class-list.csv".into()),
                ..ImportQuery::default()
            },
            csv.as_bytes().to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(preview.format, "csv");
    assert_eq!(preview.changed.len(), 1);
    let grace = &preview.changed[0];
    assert_eq!(grace.learner.username, "grace.ahmed");
    assert_eq!(
        grace
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.from.as_str(), f.to.as_str()))
            .collect::<Vec<_>>(),
        [("family_name", "Ahmed", "Ahmed-Cole")]
    );
    assert_eq!(preview.added.len(), 1);
    assert_eq!(preview.added[0].username, "new.comer");
    world.stop().await;
}

async fn only_lead_teachers_preview(backend: Backend) {
    let world = World::start(backend).await;
    let refused = world
        .teacher1
        .import_preview(&ImportQuery::default(), export())
        .await;
    assert_eq!(
        refused.err().and_then(|e| e.code()),
        Some(ErrorCode::Forbidden)
    );
    world.stop().await;
}

async fn apply_preview(world: &World, file: Vec<u8>) -> classkeys_protocol::imports::ImportApplied {
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), file)
        .await
        .unwrap();
    world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap()
}

/// The names of a learner's classes, as the lead teacher sees them.
async fn classes_of(world: &World, username: &str) -> Vec<String> {
    let learner = harness::learner(&world.lead, username).await;
    let classes = world.lead.classes().await.unwrap();
    let mut names: Vec<String> = learner
        .classes
        .iter()
        .filter_map(|id| classes.iter().find(|c| c.id == *id))
        .map(|c| c.name.clone())
        .collect();
    names.sort();
    names
}

async fn applying_makes_the_previewed_changes_and_the_same_file_again_changes_nothing(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let preview = world
        .lead
        .import_preview(
            &ImportQuery {
                name: Some("sis-export.zip".into()),
                ..ImportQuery::default()
            },
            export(),
        )
        .await
        .unwrap();
    let applied = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap();
    assert_eq!(
        (
            applied.classes_added,
            applied.added,
            applied.changed,
            applied.deactivated
        ),
        (1, 2, 0, 0)
    );
    assert!(applied.skipped.is_empty(), "{:?}", applied.skipped);
    assert_eq!(classes_of(&world, "nia.okoro").await, ["7 Ravens"]);
    assert_eq!(classes_of(&world, "omar.haddad").await, ["1 Owls"]);
    let omar = harness::learner(&world.lead, "omar.haddad").await;
    assert_eq!(omar.email.as_deref(), Some("omar@home.example"));
    // The teacher of 1 Owls sees the new learner in their class, as after any change.
    let owls = harness::learner(&world.teacher1, "omar.haddad").await;
    assert_eq!(owls.id, omar.id);

    // One audit entry names the import and every learner it touched.
    let log = world.lead.audit(&AuditQuery::default()).await.unwrap();
    let entry = log
        .items
        .iter()
        .find(|e| e.action == AuditAction::RosterImported)
        .expect("the import is in the audit log");
    assert_eq!(entry.detail["import"], preview.import_id.to_string());
    assert_eq!(entry.detail["file"], "sis-export.zip");
    assert_eq!(entry.learner_count, 2);
    let omars = world
        .lead
        .audit(&AuditQuery {
            learner_id: Some(omar.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(
        omars
            .items
            .iter()
            .any(|e| e.action == AuditAction::RosterImported),
        "the learner's own history links them to the import"
    );

    // Applying twice is refused; the same file again would change nothing, and says so.
    let again = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some(ErrorCode::ImportStale));
    let count = learner_count(&world).await;
    let second = world
        .lead
        .import_preview(&ImportQuery::default(), export())
        .await
        .unwrap();
    assert!(
        second.added.is_empty()
            && second.changed.is_empty()
            && second.deactivated.is_empty()
            && second.classes_added.is_empty(),
        "{second:?}"
    );
    assert_eq!(second.unchanged, 2);
    let applied = world
        .lead
        .import_apply(second.import_id, false)
        .await
        .unwrap();
    assert!(applied.changed_nothing(), "{applied:?}");
    assert_eq!(learner_count(&world).await, count);
    world.stop().await;
}

async fn the_next_terms_file_previews_and_applies_exactly_who_left_joined_and_moved(
    backend: Backend,
) {
    let world = World::start(backend).await;
    apply_preview(&world, export()).await;
    // Nia moves from 7 Ravens to 1 Owls, Omar leaves, Pia joins 7 Ravens.
    let next_term = export_of(
        "s-1,active,2025-09-01,true,org-1,student,,Nia,Okoro,\n\
         s-3,active,2025-09-01,true,org-1,student,,Pia,Lund,\n",
        "e-1,c-1,org-1,s-1,student\ne-4,c-9,org-1,s-3,student\n",
    );
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), next_term)
        .await
        .unwrap();
    assert_eq!(
        preview
            .added
            .iter()
            .map(|a| a.username.as_str())
            .collect::<Vec<_>>(),
        ["pia.lund"]
    );
    assert_eq!(preview.changed.len(), 1, "{:?}", preview.changed);
    let nia = &preview.changed[0];
    assert_eq!(nia.learner.username, "nia.okoro");
    assert!(nia.fields.is_empty());
    assert_eq!(
        (nia.joins.as_slice(), nia.leaves.as_slice()),
        (&["1 Owls".to_owned()][..], &["7 Ravens".to_owned()][..])
    );
    assert_eq!(
        preview
            .deactivated
            .iter()
            .map(|l| l.username.as_str())
            .collect::<Vec<_>>(),
        ["omar.haddad"]
    );
    assert!(preview.classes_added.is_empty());

    let applied = world
        .lead
        .import_apply(preview.import_id, true)
        .await
        .unwrap();
    assert_eq!(
        (applied.added, applied.changed, applied.deactivated),
        (1, 1, 1)
    );
    assert_eq!(classes_of(&world, "nia.okoro").await, ["1 Owls"]);
    assert_eq!(classes_of(&world, "pia.lund").await, ["7 Ravens"]);
    let omar = harness::learner(&world.lead, "omar.haddad").await;
    assert!(!omar.active, "deactivated, never deleted");
    assert_eq!(
        omar.email.as_deref(),
        Some("omar@home.example"),
        "their address stays theirs"
    );
    world.stop().await;
}

async fn a_learner_changed_since_the_preview_is_reported_not_overwritten(backend: Backend) {
    let world = World::start(backend).await;
    apply_preview(&world, export()).await;
    let renamed = export_of(
        "s-1,active,2025-09-01,true,org-1,student,,Nia,Okoro-Bell,\n\
         s-2,active,2025-09-01,true,org-1,student,,Omar,Hadad,omar@home.example\n",
        "e-1,c-9,org-1,s-1,student\ne-2,c-1,org-1,s-2,student\n",
    );
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), renamed)
        .await
        .unwrap();
    assert_eq!(preview.changed.len(), 2);
    // Meanwhile Nia's name is corrected in ClassKeys.
    let nia = harness::learner(&world.lead, "nia.okoro").await;
    world
        .lead
        .learner_update(
            nia.id,
            &LearnerPatch {
                given_name: Some("Niamh".into()),
                ..LearnerPatch::default()
            },
        )
        .await
        .unwrap();
    let applied = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap();
    assert_eq!(applied.changed, 1, "Omar's change is made");
    assert_eq!(applied.skipped.len(), 1, "{:?}", applied.skipped);
    assert!(
        applied.skipped[0].who.contains("nia.okoro")
            && applied.skipped[0]
                .reason
                .contains("changed in ClassKeys since the preview"),
        "{:?}",
        applied.skipped
    );
    let nia = harness::learner(&world.lead, "nia.okoro").await;
    assert_eq!(
        (nia.given_name.as_str(), nia.family_name.as_str()),
        ("Niamh", "Okoro"),
        "the teacher's change stands; the import's is not half made"
    );
    let omar = harness::learner(&world.lead, "omar.haddad").await;
    assert_eq!(omar.family_name, "Hadad");
    world.stop().await;
}

async fn an_import_deactivating_many_waits_for_confirmation(backend: Backend) {
    let world = World::start(backend).await;
    // The demo school's learners and 40 imported: 39 leaving is more than 10 % of them.
    let rows: String = (0..40)
        .map(|i| format!("id-{i},Kit,Number{i},1 Owls\n"))
        .collect();
    let everyone = format!("Student ID,First name,Surname,Class\n{rows}");
    let first = world
        .lead
        .import_preview(&ImportQuery::default(), everyone.into_bytes())
        .await
        .unwrap();
    world
        .lead
        .import_apply(first.import_id, false)
        .await
        .unwrap();
    let active = learner_count(&world).await;

    let only_one = "Student ID,First name,Surname,Class\nid-0,Kit,Number0,1 Owls\n";
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), only_one.as_bytes().to_vec())
        .await
        .unwrap();
    assert_eq!(preview.deactivated.len(), 39);
    assert!(
        preview
            .held
            .iter()
            .any(|h| h.contains("39 of the school's") && h.contains("more than 10 %")),
        "{:?}",
        preview.held
    );
    let held = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap_err();
    assert_eq!(held.code(), Some(ErrorCode::ImportHeld));
    assert!(
        held.to_string().contains("waits for your confirmation"),
        "{held}"
    );
    assert_eq!(learner_count(&world).await, active, "nothing applied");
    let applied = world
        .lead
        .import_apply(preview.import_id, true)
        .await
        .unwrap();
    assert_eq!(applied.deactivated, 39);
    world.stop().await;
}

async fn new_staff_choose_their_password_through_their_invitation(backend: Backend) {
    let world = World::start(backend).await;
    let file = || {
        export_of(
            "s-1,active,2025-01-06,true,org-1,student,,Nia,Okoro,\n\
             t-1,active,2025-01-06,true,org-1,teacher,,Tess,Lane,\n\
             t-2,active,2025-01-06,true,org-1,teacher,,Omid,Farah,omid@school.example\n",
            "e-1,c-9,org-1,s-1,student\ne-3,c-9,org-1,t-1,teacher\ne-4,c-1,org-1,t-2,teacher\n",
        )
    };
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), file())
        .await
        .unwrap();
    let staff: Vec<(&str, Option<&str>, &[String])> = preview
        .staff_added
        .iter()
        .map(|s| {
            (
                s.username.as_str(),
                s.email.as_deref(),
                s.classes.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        staff,
        [
            ("tess.lane", None, &["7 Ravens".to_owned()][..]),
            (
                "omid.farah",
                Some("omid@school.example"),
                &["1 Owls".to_owned()][..]
            ),
        ]
    );
    let applied = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap();
    assert_eq!(applied.staff_added, 2);
    let tess = &applied.invitations[0];
    let omid = &applied.invitations[1];
    assert_eq!(omid.mailed_to.as_deref(), Some("omid@school.example"));
    assert!(omid.link.is_none(), "a mailed link is in the mail only");
    let link = tess
        .link
        .clone()
        .expect("without an address, the lead hands over the link");
    assert!(tess.mailed_to.is_none());

    // Omid's invitation is in the mail, with a link of its own.
    let public = world.server.state().settings.public_url.clone();
    let mails = world.server.mail_in_outbox(1).await;
    assert_eq!(mails[0].to, ["omid@school.example"]);
    assert!(
        mails[0].body.contains("Your username is omid.farah"),
        "{}",
        mails[0].body
    );
    assert_eq!(mails[0].links(&format!("{public}/s/demo/reset/")).len(), 1);

    // No password opens a new account until its holder chooses one.
    let sign_in = |password: &str| SignInRequest {
        school: Some("demo".into()),
        username: "tess.lane".into(),
        password: password.into(),
        device_token: None,
    };
    for guess in ["", "password", classkeys_testsupport::DEMO_PASSWORD] {
        let refused = world.anon.sign_in(&sign_in(guess)).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Some(ErrorCode::InvalidCredentials),
            "{guess:?}"
        );
    }
    let path = link.trim_start_matches(public.as_str()).to_owned();
    let mut visitor = crate::pages::Visitor::new(&world.server);
    let page = visitor.get(&path).await;
    assert!(page.body.contains("tess.lane"), "{}", page.body);
    let chosen = visitor
        .post(
            &path,
            &[
                ("new_password", "copper-kettle-rain-42"),
                ("repeat_password", "copper-kettle-rain-42"),
            ],
        )
        .await;
    assert!(
        chosen.status.is_success() || chosen.status.is_redirection(),
        "{chosen:?}"
    );
    let (tess_client, _) = world
        .anon
        .sign_in(&sign_in("copper-kettle-rain-42"))
        .await
        .unwrap();
    let classes = tess_client.classes().await.unwrap();
    assert_eq!(
        classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["7 Ravens"],
        "she teaches the class the file gave her"
    );

    // The link is answered once and kept nowhere.
    let token = path.rsplit('/').next().unwrap().to_owned();
    let kept: Vec<String> = sqlx::query_scalar("SELECT outcome FROM roster_import")
        .fetch_all(world.server.state().db.pool())
        .await
        .unwrap();
    assert!(kept.iter().all(|o| !o.contains(&token)), "{kept:?}");

    // The same file again adds no one twice.
    let again = world
        .lead
        .import_preview(&ImportQuery::default(), file())
        .await
        .unwrap();
    assert!(
        again.staff_added.is_empty() && again.staff_changed.is_empty(),
        "{again:?}"
    );
    world.stop().await;
}

/// Every record of a OneRoster export, as comparable text: users with role, names,
/// username, email and whether enabled; classes; enrolments. The org (each school's own id)
/// and the staff named in `leave_out` are left out.
fn records_of(zip: &[u8], leave_out: &[&str]) -> Vec<String> {
    use classkeys_roster::oneroster::read_zip;
    let roster = read_zip("export.zip", zip, &classkeys_roster::Limits::default()).unwrap();
    let left_out: Vec<&str> = roster
        .users
        .iter()
        .filter(|u| leave_out.contains(&u.username.as_str()))
        .map(|u| u.sourced_id.as_str())
        .collect();
    let mut records: Vec<String> = roster
        .users
        .iter()
        .filter(|u| !left_out.contains(&u.sourced_id.as_str()))
        .map(|u| {
            format!(
                "user {} {:?} {} {:?} {:?} {:?} enabled={}",
                u.sourced_id, u.role, u.username, u.given_name, u.family_name, u.email, u.enabled
            )
        })
        .chain(
            roster
                .classes
                .iter()
                .map(|c| format!("class {} {:?}", c.sourced_id, c.title)),
        )
        .chain(
            roster
                .enrollments
                .iter()
                .filter(|e| !left_out.contains(&e.user.as_str()))
                .map(|e| format!("enrolment {} {} {:?}", e.class, e.user, e.role)),
        )
        .collect();
    records.sort();
    records
}

async fn a_school_exported_as_oneroster_imports_into_an_empty_school_as_the_same_records(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let export = |client: classkeys_client::Client| async move {
        client
            .school_export(&SchoolExportRequest {
                kind: SchoolExportKind::Roster,
                password: harness::PASSWORD.into(),
            })
            .await
            .unwrap()
    };
    let first = export(world.lead.clone()).await;
    let original = records_of(&first, &[]);
    assert!(
        original.iter().filter(|r| r.starts_with("user")).count() > 150,
        "the demo's learners and staff are in it"
    );
    assert!(
        original.iter().any(|r| r.contains("enabled=false")),
        "the deactivated learner too"
    );

    let empty = world.empty_school("fresh", "head").await;
    let preview = empty
        .import_preview(
            &ImportQuery {
                name: Some("demo-oneroster.zip".into()),
                ..ImportQuery::default()
            },
            first.clone(),
        )
        .await
        .unwrap();
    assert_eq!(preview.format, "oneroster 1.2");
    assert!(preview.refused.is_empty(), "{:?}", preview.refused);
    let applied = empty.import_apply(preview.import_id, false).await.unwrap();
    assert!(applied.skipped.is_empty(), "{:?}", applied.skipped);

    let again = export(empty.clone()).await;
    assert_eq!(
        records_of(&again, &["head"]),
        original,
        "the same ids, names, usernames, emails, classes and enrolments"
    );
    world.stop().await;
}

async fn every_bad_file_is_refused_with_where_and_the_school_is_unchanged(backend: Backend) {
    let world = World::start(backend).await;
    let users = "sourcedId,role,givenName,familyName,orgSourcedIds\n";
    let orgs = ("orgs.csv", "sourcedId,name\norg-1,Demo\n");
    let truncated = {
        let whole = export();
        whole[..whole.len() / 2].to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong encoding",
            // "Zoë" in Windows-1252: not UTF-8, as OneRoster files must be.
            zip_bytes(&[
                (orgs.0, orgs.1.as_bytes()),
                (
                    "users.csv",
                    b"sourcedId,role,givenName,familyName\ns-1,student,Zo\xeb,B\n",
                ),
            ]),
            "users.csv, line 2, column",
        ),
        (
            "duplicate sourcedId",
            zip_of(&[
                orgs,
                (
                    "users.csv",
                    &format!("{users}s-1,student,A,B,org-1\ns-1,student,C,D,org-1\n"),
                ),
            ]),
            "users.csv, line 3, column sourcedId: the sourcedId s-1 is also on line 2",
        ),
        (
            "enrolment of an unknown user",
            zip_of(&[
                orgs,
                ("users.csv", &format!("{users}s-1,student,A,B,org-1\n")),
                (
                    "classes.csv",
                    "sourcedId,title,schoolSourcedId\nc-1,X,org-1\n",
                ),
                (
                    "enrollments.csv",
                    "sourcedId,classSourcedId,userSourcedId,role\ne-1,c-1,s-404,student\n",
                ),
            ]),
            "enrollments.csv, line 2, column userSourcedId: the user s-404 is not in users.csv",
        ),
        (
            "a class with no org",
            zip_of(&[
                orgs,
                ("users.csv", &format!("{users}s-1,student,A,B,org-1\n")),
                ("classes.csv", "sourcedId,title,schoolSourcedId\nc-1,X,\n"),
            ]),
            "classes.csv, line 2, column schoolSourcedId: the class names no school",
        ),
        ("a truncated zip", truncated, "export.zip: "),
        (
            "an entry named ../x",
            zip_of(&[("../x", "sourcedId\n"), ("users.csv", users)]),
            "export.zip: the zip holds an entry named \"../x\"",
        ),
    ];
    let count = learner_count(&world).await;
    let kept = || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roster_import")
            .fetch_one(world.server.state().db.pool())
            .await
            .unwrap();
        n
    };
    for (what, file, expected) in cases {
        let refused = world
            .lead
            .import_preview(
                &ImportQuery {
                    name: Some("export.zip".into()),
                    format: Some("oneroster".into()),
                    ..ImportQuery::default()
                },
                file,
            )
            .await
            .expect_err(what);
        assert_eq!(
            refused.code(),
            Some(ErrorCode::InvalidInput),
            "{what}: {refused}"
        );
        assert!(refused.to_string().contains(expected), "{what}: {refused}");
    }
    // Too large: refused before it is read, with what to do.
    let huge = vec![b'x'; classkeys_protocol::imports::MAX_IMPORT_BYTES + 1];
    let refused = world
        .lead
        .import_preview(&ImportQuery::default(), huge)
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Some(ErrorCode::PayloadTooLarge),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("larger than the 64 MB"),
        "{refused}"
    );

    assert_eq!(
        learner_count(&world).await,
        count,
        "the school is unchanged"
    );
    assert_eq!(kept().await, 0, "no preview of a bad file is kept");
    world.stop().await;
}

async fn a_school_keeps_only_its_newest_unapplied_previews(backend: Backend) {
    let world = World::start(backend).await;
    let mut previews = Vec::new();
    for _ in 0..12 {
        let preview = world
            .lead
            .import_preview(&ImportQuery::default(), export())
            .await
            .unwrap();
        previews.push(preview.import_id);
    }
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roster_import")
        .fetch_one(world.server.state().db.pool())
        .await
        .unwrap();
    assert_eq!(kept, 10, "a flood of previews keeps ten plans, not twelve");
    let pushed_out = world
        .lead
        .import_apply(previews[0], false)
        .await
        .unwrap_err();
    assert_eq!(pushed_out.code(), Some(ErrorCode::NotFound));
    let newest = world.lead.import_apply(previews[11], false).await.unwrap();
    assert_eq!(newest.added, 2);
    world.stop().await;
}

async fn a_class_renamed_by_the_file_is_renamed_unless_it_changed_since_the_preview(
    backend: Backend,
) {
    let world = World::start(backend).await;
    apply_preview(&world, export()).await;
    let renamed = |classes: &str| {
        export_with_classes(
            "s-1,active,2025-09-01,true,org-1,student,,Nia,Okoro,\n\
             s-2,active,2025-09-01,true,org-1,student,,Omar,Haddad,omar@home.example\n",
            "e-1,c-9,org-1,s-1,student\ne-2,c-1,org-1,s-2,student\n",
            classes,
        )
    };
    let file = renamed("c-9,7 Rooks,org-1\nc-1,1 Owls and Larks,org-1\n");
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), file)
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = preview
        .classes_renamed
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    assert_eq!(
        names,
        [("7 Ravens", "7 Rooks"), ("1 Owls", "1 Owls and Larks")]
    );
    // Meanwhile the lead teacher renames 1 Owls by hand.
    let owls = harness::class(&world.lead, "1 Owls").await;
    world
        .lead
        .class_update(
            owls.id,
            &classkeys_protocol::roster::ClassPatch {
                name: Some("1 Owls (Mrs Hughes)".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let applied = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap();
    assert_eq!(applied.classes_renamed, 1);
    assert_eq!(applied.skipped.len(), 1, "{:?}", applied.skipped);
    assert!(
        applied.skipped[0].who.contains("1 Owls")
            && applied.skipped[0]
                .reason
                .contains("changed in ClassKeys since the preview"),
        "{:?}",
        applied.skipped
    );
    harness::class(&world.lead, "7 Rooks").await;
    harness::class(&world.lead, "1 Owls (Mrs Hughes)").await;
    world.stop().await;
}

async fn an_import_that_fails_part_way_changes_nothing(backend: Backend) {
    let world = World::start(backend).await;
    let preview = world
        .lead
        .import_preview(&ImportQuery::default(), export())
        .await
        .unwrap();
    // Spoil the kept plan's last learner (a class nobody planned), so the fault comes after
    // the new class is written and the first learners are on their way.
    let db = world.server.state().db.pool().clone();
    let kept: String = sqlx::query_scalar("SELECT plan FROM roster_import WHERE id = $1")
        .bind(preview.import_id.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&kept).unwrap();
    let added = plan["added"].as_array_mut().unwrap();
    let mut spoiled = added[0].clone();
    spoiled["source_id"] = "s-spoiled".into();
    spoiled["username"] = "spoiled.row".into();
    spoiled["classes"] = serde_json::json!(["no-such-class"]);
    added.push(spoiled);
    sqlx::query("UPDATE roster_import SET plan = $1 WHERE id = $2")
        .bind(plan.to_string())
        .bind(preview.import_id.to_string())
        .execute(&db)
        .await
        .unwrap();
    let classes = world.lead.classes().await.unwrap().len();
    let learners = learner_count(&world).await;

    let failed = world
        .lead
        .import_apply(preview.import_id, false)
        .await
        .unwrap_err();
    assert_eq!(failed.code(), Some(ErrorCode::Internal), "{failed}");
    assert_eq!(
        world.lead.classes().await.unwrap().len(),
        classes,
        "the class it had added is gone with the rest"
    );
    assert_eq!(learner_count(&world).await, learners);
    let audited = world
        .lead
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .items
        .iter()
        .any(|e| e.action == AuditAction::RosterImported);
    assert!(!audited, "no import is recorded");
    let applied_at: Option<i64> =
        sqlx::query_scalar("SELECT applied_at FROM roster_import WHERE id = $1")
            .bind(preview.import_id.to_string())
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(applied_at, None, "the preview is not used up");
    world.stop().await;
}
