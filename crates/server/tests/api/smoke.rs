//! The demo school as each role sees it.

use crate::harness::{World, class};
use crate::on_both_backends;
use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::Backend;

on_both_backends!(teachers_see_only_their_classes_and_leads_see_all);

async fn teachers_see_only_their_classes_and_leads_see_all(backend: Backend) {
    let world = World::start(backend).await;
    let names = |classes: Vec<classkeys_protocol::roster::ClassRecord>| {
        let mut names: Vec<String> = classes.into_iter().map(|c| c.name).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(world.teacher1.classes().await.unwrap()),
        ["1 Owls", "3 Badgers", "Reception Robins"]
    );
    assert_eq!(world.lead.classes().await.unwrap().len(), 7);
    assert_eq!(
        names(world.other_lead.classes().await.unwrap()),
        ["Other 1"]
    );
    let badgers = class(&world.teacher2, "3 Badgers").await;
    assert_eq!(badgers.learner_count, 27);
    let found = world
        .teacher1
        .learners(&LearnerQuery {
            q: Some("lukasz".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].given_name, "Łukasz");
    world.stop().await;
}

on_both_backends!(
    seeding_the_demo_twice_duplicates_nothing,
    the_demo_school_has_the_names_a_real_school_has
);

async fn seeding_the_demo_twice_duplicates_nothing(backend: Backend) {
    let world = World::start(backend).await;
    let before = world
        .lead
        .learners(&LearnerQuery::default())
        .await
        .unwrap()
        .total;
    assert!(before >= 180, "{before} learners");
    let report = classkeys_server::demo::seed(world.server.state(), None)
        .await
        .unwrap();
    assert!(!report.created);
    assert!(report.sign_ins.iter().all(|s| s.password.is_none()));
    let after = world.lead.learners(&LearnerQuery::default()).await.unwrap();
    assert_eq!(after.total, before);
    assert_eq!(world.lead.classes().await.unwrap().len(), 7);
    // The staff kept their passwords: existing sessions and new sign-ins still work.
    assert_eq!(world.teacher1.classes().await.unwrap().len(), 3);
    crate::harness::sign_in(&world.anon, "demo", "teacher2").await;
    world.stop().await;
}

async fn the_demo_school_has_the_names_a_real_school_has(backend: Backend) {
    let world = World::start(backend).await;
    let search = |q: &'static str| {
        let lead = world.lead.clone();
        async move {
            lead.learners(&LearnerQuery {
                q: Some(q.into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .items
        }
    };
    for (query, given, family) in [
        ("zoe", "Zoë", "Adams"),
        ("lukasz", "Łukasz", "Kowalski"),
        ("nguyen van an", "Văn An", "Nguyễn"),
        ("aleksandr", "Александр", "Петров"),
        ("siobhan obrien", "Siobhán", "O'Brien"),
    ] {
        let found = search(query).await;
        assert!(
            found
                .iter()
                .any(|l| l.given_name == given && l.family_name == family),
            "{query}: {found:?}"
        );
    }
    let twins = search("mohammed ali").await;
    assert_eq!(twins.len(), 2, "two learners share a name");
    assert_ne!(twins[0].username, twins[1].username);
    let all = world
        .lead
        .learners(&LearnerQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(all.iter().filter(|l| l.email.is_some()).count() >= 20);
    let inactive: Vec<_> = all.iter().filter(|l| !l.active).collect();
    assert_eq!(inactive.len(), 1);
    assert!(
        inactive[0].email.is_some(),
        "the deactivated learner keeps an email"
    );
    // Every class has learners and every teacher some classes; one class has two teachers.
    let classes = world.lead.classes().await.unwrap();
    assert!(classes.iter().all(|c| c.learner_count > 0));
    assert!(classes.iter().any(|c| c.teachers.len() == 2));
    let years: std::collections::BTreeSet<_> = classes
        .iter()
        .filter_map(|c| c.year_group.clone())
        .collect();
    assert!(years.len() >= 6, "{years:?}");
    world.stop().await;
}

on_both_backends!(
    new_records_cannot_take_an_id_already_in_use,
    a_teacher_taking_a_learner_out_of_their_last_class_no_longer_sees_them
);

async fn new_records_cannot_take_an_id_already_in_use(backend: Backend) {
    use classkeys_domain::ids::LearnerId;
    use classkeys_protocol::ErrorCode;
    use classkeys_protocol::roster::NewLearner;
    let world = World::start(backend).await;
    let owls = class(&world.teacher1, "1 Owls").await;
    let teacher = owls.teachers[0].id;
    let new = |id: uuid::Uuid| NewLearner {
        id: Some(LearnerId(id)),
        given_name: "Id".into(),
        family_name: "Thief".into(),
        username: None,
        email: None,
        classes: vec![owls.id],
    };
    // A teacher's id, a class's id, and an id that is not a UUIDv7.
    for id in [teacher.0, owls.id.0, uuid::Uuid::new_v4()] {
        let err = world.teacher1.learner_create(&new(id)).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{id}");
    }
    assert_eq!(class(&world.lead, "1 Owls").await.learner_count, 27);
    // The teacher's username is still theirs alone.
    let thief = world
        .teacher1
        .learner_create(&NewLearner {
            username: Some("teacher1".into()),
            ..new(uuid::Uuid::now_v7())
        })
        .await
        .unwrap_err();
    assert_eq!(thief.code(), Some(ErrorCode::UsernameTaken));
    world.stop().await;
}

async fn a_teacher_taking_a_learner_out_of_their_last_class_no_longer_sees_them(backend: Backend) {
    let world = World::start(backend).await;
    let owls = class(&world.teacher1, "1 Owls").await;
    let siobhan = crate::harness::learner(&world.teacher1, "siobhan.obrien").await;
    let answer = world
        .teacher1
        .learner_unenrol(siobhan.id, owls.id)
        .await
        .unwrap();
    assert_eq!(answer, None, "gone from the teacher's view");
    assert!(world.teacher1.learner(siobhan.id).await.is_err());
    let seen_by_lead = world.lead.learner(siobhan.id).await.unwrap();
    assert!(seen_by_lead.classes.is_empty());
    world.stop().await;
}
