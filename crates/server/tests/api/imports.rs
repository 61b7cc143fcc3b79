//! Previewing a roster import: what it would do, named for the lead teacher, with nothing
//! changed; only lead teachers import; files that cannot be read are refused with where.

use std::io::Write;

use classkeys_protocol::ErrorCode;
use classkeys_protocol::imports::ImportQuery;
use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::Backend;
use zip::write::SimpleFileOptions;

use crate::harness::World;
use crate::on_both_backends;

on_both_backends!(
    a_oneroster_preview_says_what_would_happen_and_changes_nothing,
    a_spreadsheet_preview_matches_learners_already_there,
    only_lead_teachers_preview_and_unreadable_files_say_where,
);

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn export() -> Vec<u8> {
    zip_of(&[
        (
            "manifest.csv",
            "propertyName,value\noneroster.version,1.1\n",
        ),
        (
            "orgs.csv",
            "sourcedId,name,type\norg-1,Demo Primary,school\n",
        ),
        (
            "users.csv",
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,email\n\
             s-1,active,2025-01-06,true,org-1,student,,Nia,Okoro,\n\
             s-2,active,2025-01-06,true,org-1,student,,Omar,Haddad,omar@home.example\n\
             t-1,active,2025-01-06,true,org-1,teacher,,Tess,Lane,\n",
        ),
        (
            "classes.csv",
            "sourcedId,title,schoolSourcedId\nc-9,7 Ravens,org-1\nc-1,1 Owls,org-1\n",
        ),
        (
            "enrollments.csv",
            "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role\n\
             e-1,c-9,org-1,s-1,student\ne-2,c-1,org-1,s-2,student\ne-3,c-9,org-1,t-1,teacher\n",
        ),
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

async fn only_lead_teachers_preview_and_unreadable_files_say_where(backend: Backend) {
    let world = World::start(backend).await;
    let refused = world
        .teacher1
        .import_preview(&ImportQuery::default(), export())
        .await;
    assert_eq!(
        refused.err().and_then(|e| e.code()),
        Some(ErrorCode::Forbidden)
    );

    let tricked = zip_of(&[("../x", "sourcedId\n"), ("users.csv", "sourcedId\n")]);
    let refused = world
        .lead
        .import_preview(
            &ImportQuery {
                name: Some("export.zip".into()),
                ..ImportQuery::default()
            },
            tricked,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidInput));
    assert!(
        refused
            .to_string()
            .contains("export.zip: the zip holds an entry named \"../x\""),
        "{refused}"
    );
    let dangling = zip_of(&[
        ("orgs.csv", "sourcedId,name\norg-1,Demo\n"),
        (
            "users.csv",
            "sourcedId,role,givenName,familyName\ns-1,student,A,B\n",
        ),
        (
            "classes.csv",
            "sourcedId,title,schoolSourcedId\nc-1,X,org-1\n",
        ),
        (
            "enrollments.csv",
            "sourcedId,classSourcedId,userSourcedId,role\ne-1,c-1,s-404,student\n",
        ),
    ]);
    let refused = world
        .lead
        .import_preview(&ImportQuery::default(), dangling)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains(
            "enrollments.csv, line 2, column userSourcedId: the user s-404 is not in users.csv"
        ),
        "{refused}"
    );
    world.stop().await;
}
