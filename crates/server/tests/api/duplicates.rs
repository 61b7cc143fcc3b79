//! Duplicate accounts and moving an email address between them: the move is one step (the
//! address on exactly one account at every moment, even under 50 parallel moves both
//! ways), audited, and refused to anyone who may not see both learners; the duplicates
//! list finds likely pairs among the learners the caller may see.

use std::sync::Arc;

use classkeys_client::Client;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{AuditAction, AuditQuery};
use classkeys_protocol::diagnosis::{Check, Fix, Resemblance};
use classkeys_protocol::roster::{EmailMove, LearnerRecord, NewLearner};
use classkeys_server::Backend;
use classkeys_server::login_help::{self, Question, School};

use crate::harness::{self, World};
use crate::on_both_backends;

on_both_backends!(
    moving_the_address_off_a_deactivated_duplicate_lets_the_learner_in,
    fifty_parallel_moves_both_ways_leave_the_address_on_exactly_one_account,
    only_teachers_who_see_both_learners_may_move_an_address,
    the_duplicates_list_finds_likely_pairs_among_the_learners_the_caller_sees,
);

async fn create(
    teacher: &Client,
    class: &str,
    (given, family): (&str, &str),
    username: &str,
    email: Option<&str>,
) -> LearnerRecord {
    let class = harness::class(teacher, class).await;
    teacher
        .learner_create(&NewLearner {
            id: None,
            given_name: given.into(),
            family_name: family.into(),
            username: Some(username.into()),
            email: email.map(Into::into),
            classes: vec![class.id],
        })
        .await
        .unwrap()
}

/// Who holds `address` in the school-wide namespace of usernames and emails.
async fn holder(world: &World, address: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT owner_id FROM identity_key WHERE ident = $1")
        .bind(address)
        .fetch_all(world.server.state().db.pool())
        .await
        .unwrap()
}

async fn moving_the_address_off_a_deactivated_duplicate_lets_the_learner_in(backend: Backend) {
    let world = World::start(backend).await;
    let sam = ("Sam", "Okafor");
    let old = create(
        &world.teacher1,
        "1 Owls",
        sam,
        "sam.okafor",
        Some("sam@home.example"),
    )
    .await;
    world
        .teacher1
        .learner_set_active(old.id, false, None)
        .await
        .unwrap();
    let current = create(&world.teacher1, "1 Owls", sam, "sam.okafor2", None).await;

    // The learner asks for help with their username: their address is on the old account.
    let state = world.server.state();
    let school = School::by_slug(state, "demo").await.unwrap().unwrap();
    let here = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    login_help::ask(
        state,
        &school,
        here,
        Question::Password {
            username: "sam.okafor2".into(),
        },
    )
    .await
    .unwrap();
    state.help.idle().await;
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(queued, 0, "no address on file: nothing sent");

    let diagnosis = world.teacher1.learner_diagnosis(current.id).await.unwrap();
    let fix = diagnosis
        .problems()
        .find(|f| f.check == Check::Duplicates)
        .and_then(|f| f.fixes.first())
        .cloned()
        .expect("a fix for the duplicate");
    let Fix::MoveEmail { from, .. } = fix else {
        panic!("moving the address is the fix: {fix:?}")
    };
    let moved = world
        .teacher1
        .learner_email_move(
            current.id,
            &EmailMove {
                from,
                base_version: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.learner.email.as_deref(), Some("sam@home.example"));
    assert_eq!(moved.from.email, None);
    assert!(!moved.from.active, "the duplicate stays deactivated");
    assert_eq!(
        holder(&world, "sam@home.example").await,
        [current.id.to_string()]
    );

    // Now the helper reaches the learner, and its link signs them in.
    login_help::ask(
        state,
        &school,
        here,
        Question::Password {
            username: "sam.okafor2".into(),
        },
    )
    .await
    .unwrap();
    state.help.idle().await;
    let mail = world.server.mail_in_outbox(1).await.remove(0);
    assert_eq!(mail.to, ["sam@home.example"]);
    let public = &state.settings.public_url;
    let link = mail.links(&format!("{public}/s/demo/link/"))[0].clone();
    login_help::sign_in_with_link(state, &school, link.rsplit('/').next().unwrap())
        .await
        .unwrap()
        .expect("the link signs the learner in");
    let again = world.teacher1.learner_diagnosis(current.id).await.unwrap();
    assert!(
        again.problems().all(|f| f.check == Check::Password),
        "only the password they have yet to choose: {:#?}",
        again.findings
    );
    world.stop().await;
}

async fn fifty_parallel_moves_both_ways_leave_the_address_on_exactly_one_account(backend: Backend) {
    let world = World::start(backend).await;
    let address = "shared.inbox@home.example";
    let ada = create(
        &world.teacher1,
        "1 Owls",
        ("Ada", "Brown"),
        "ada.b",
        Some(address),
    )
    .await;
    let bea = create(&world.teacher1, "1 Owls", ("Bea", "Brown"), "bea.b", None).await;
    let teacher = Arc::new(world.teacher1.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let teacher = teacher.clone();
        let (to, from) = if n % 2 == 0 {
            (bea.id, ada.id)
        } else {
            (ada.id, bea.id)
        };
        tasks.spawn(async move {
            teacher
                .learner_email_move(
                    to,
                    &EmailMove {
                        from,
                        base_version: None,
                    },
                )
                .await
                .map_err(|e| e.code())
        });
    }
    let mut moved = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(_) => moved += 1,
            Err(code) => assert_eq!(code, Some(ErrorCode::InvalidInput), "nothing to move"),
        }
    }
    assert!(moved >= 1);

    let (a, b) = (
        world.teacher1.learner(ada.id).await.unwrap(),
        world.teacher1.learner(bea.id).await.unwrap(),
    );
    let holders: Vec<&LearnerRecord> = [&a, &b].into_iter().filter(|l| l.email.is_some()).collect();
    assert_eq!(holders.len(), 1, "exactly one holds it: {a:?} {b:?}");
    assert_eq!(holder(&world, address).await, [holders[0].id.to_string()]);
    assert!(
        a.active && b.active,
        "different names: nobody is deactivated"
    );

    // The audit log tells the story: each move took the address from whoever held it.
    let mut entries = world
        .teacher1
        .audit(&AuditQuery {
            limit: Some(500),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .items;
    entries.retain(|e| e.action == AuditAction::EmailMoved);
    assert_eq!(entries.len(), moved);
    entries.reverse();
    let mut holding = "ada.b".to_owned();
    for entry in &entries {
        assert_eq!(entry.detail["from"], holding.as_str(), "{entry:?}");
        assert_eq!(entry.detail["address"], address);
        holding = entry.detail["to"].as_str().unwrap().to_owned();
    }
    assert_eq!(holding, holders[0].username);
    world.stop().await;
}

async fn only_teachers_who_see_both_learners_may_move_an_address(backend: Backend) {
    let world = World::start(backend).await;
    let owl = create(
        &world.teacher1,
        "1 Owls",
        ("Cy", "Dunn"),
        "cy.dunn",
        Some("cy@home.example"),
    )
    .await;
    let owl2 = create(&world.teacher1, "1 Owls", ("Cy", "Dunn"), "cy.dunn2", None).await;
    let fox = create(
        &world.lead,
        "2 Foxes",
        ("Di", "Eve"),
        "di.eve",
        Some("di@home.example"),
    )
    .await;
    let refusals = [
        // teacher2 teaches neither.
        world
            .teacher2
            .learner_email_move(
                owl2.id,
                &EmailMove {
                    from: owl.id,
                    base_version: None,
                },
            )
            .await,
        // teacher1 does not see the fox.
        world
            .teacher1
            .learner_email_move(
                owl2.id,
                &EmailMove {
                    from: fox.id,
                    base_version: None,
                },
            )
            .await,
        world
            .other_lead
            .learner_email_move(
                owl2.id,
                &EmailMove {
                    from: owl.id,
                    base_version: None,
                },
            )
            .await,
    ];
    for refused in refusals {
        assert_eq!(
            refused.err().and_then(|e| e.code()),
            Some(ErrorCode::NotFound)
        );
    }
    let same = world
        .teacher1
        .learner_email_move(
            owl.id,
            &EmailMove {
                from: owl.id,
                base_version: None,
            },
        )
        .await;
    assert_eq!(
        same.err().and_then(|e| e.code()),
        Some(ErrorCode::InvalidInput)
    );
    assert_eq!(
        holder(&world, "cy@home.example").await,
        [owl.id.to_string()]
    );
    assert_eq!(
        holder(&world, "di@home.example").await,
        [fox.id.to_string()]
    );

    // The lead teacher may; the same learner's active other account is deactivated.
    let moved = world
        .lead
        .learner_email_move(
            owl2.id,
            &EmailMove {
                from: owl.id,
                base_version: None,
            },
        )
        .await
        .unwrap();
    assert!(!moved.from.active && moved.from.email.is_none());
    world.stop().await;
}

async fn the_duplicates_list_finds_likely_pairs_among_the_learners_the_caller_sees(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let before = world.lead.learner_duplicates().await.unwrap();
    let old = create(
        &world.teacher1,
        "1 Owls",
        ("Eli", "Fox"),
        "eli.fox",
        Some("eli.fox@home.example"),
    )
    .await;
    world
        .teacher1
        .learner_set_active(old.id, false, None)
        .await
        .unwrap();
    create(&world.teacher1, "1 Owls", ("Eli", "Fox"), "eli.fox2", None).await;
    create(
        &world.lead,
        "2 Foxes",
        ("Gus", "Hale"),
        "gus.hale",
        Some("gus.hale@home.example"),
    )
    .await;
    create(
        &world.lead,
        "4B",
        ("Gustav", "Hale"),
        "gustav.hale",
        Some("gushale@home.example"),
    )
    .await;

    let pairs =
        |list: &classkeys_protocol::roster::DuplicateList| -> Vec<(String, String, Resemblance)> {
            list.pairs
                .iter()
                .map(|p| {
                    (
                        p.first.username.clone(),
                        p.second.username.clone(),
                        p.resemblance,
                    )
                })
                .collect()
        };
    let lead = world.lead.learner_duplicates().await.unwrap();
    let new: Vec<_> = pairs(&lead)
        .into_iter()
        .filter(|p| !pairs(&before).contains(p))
        .collect();
    assert_eq!(
        new,
        [
            (
                "gus.hale".into(),
                "gustav.hale".into(),
                Resemblance::EmailDots
            ),
            ("eli.fox".into(), "eli.fox2".into(), Resemblance::SameName),
        ]
    );
    let teacher1 = pairs(&world.teacher1.learner_duplicates().await.unwrap());
    assert!(teacher1.iter().any(|p| p.0 == "eli.fox"));
    assert!(
        !teacher1.iter().any(|p| p.0.starts_with("gus")),
        "pairs outside a teacher's classes are not theirs to see"
    );
    world.stop().await;
}
