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
