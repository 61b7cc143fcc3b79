//! Teachers' messages with `[loginLink]`: each recipient's copy signs in only that
//! recipient, once; the sender's copy keeps the tag; who was not reached is listed; the audit
//! log says who sent links to whom; and nobody messages a learner they may not see.

use std::collections::BTreeSet;

use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{AuditAction, AuditQuery};
use classkeys_protocol::messages::{MessageReport, NewMessage};
use classkeys_server::Backend;
use classkeys_server::links::Refusal;
use classkeys_server::login_help::{self, School};
use classkeys_testsupport::TestServer;

use crate::harness::{self, World, active_learners};
use crate::on_both_backends;

on_both_backends!(
    each_learner_gets_a_link_of_their_own_and_the_senders_copy_keeps_the_tag,
    a_teacher_cannot_message_learners_outside_their_classes,
);

async fn mail_count(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM mail")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

fn message(body: &str) -> NewMessage {
    NewMessage {
        class_id: None,
        learner_ids: Vec::new(),
        subject: "Our class page".into(),
        body: body.into(),
        cc_me: false,
    }
}

async fn each_learner_gets_a_link_of_their_own_and_the_senders_copy_keeps_the_tag(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "1 Owls").await;
    let learners = active_learners(&world.teacher1, "1 Owls").await;
    let with_email: BTreeSet<String> = learners
        .iter()
        .filter(|l| l.email.is_some())
        .map(|l| l.username.clone())
        .collect();
    assert!(!with_email.is_empty() && with_email.len() < learners.len());

    let report: MessageReport = world
        .teacher1
        .message_send(&NewMessage {
            class_id: Some(class.id),
            cc_me: true,
            ..message("Hello! Sign in here: [loginLink]\nSee you on Monday.")
        })
        .await
        .unwrap();
    let sent: BTreeSet<String> = report.sent.iter().map(|r| r.username.clone()).collect();
    assert_eq!(sent, with_email);
    assert_eq!(report.sent.len() + report.not_reached.len(), learners.len());
    assert!(report.copy_sent && report.with_links);

    let status = world
        .teacher1
        .message_status(&report.message_id)
        .await
        .unwrap();
    assert_eq!(
        status.copies.len(),
        with_email.len() + 1,
        "each learner's and mine"
    );
    assert!(
        status.copies.last().unwrap().learner_id.is_none(),
        "my copy last"
    );
    let lead_sees = world.lead.message_status(&report.message_id).await.unwrap();
    assert_eq!(lead_sees.copies.len(), status.copies.len());
    for outsider in [&world.teacher2, &world.other_lead] {
        let refused = outsider.message_status(&report.message_id).await;
        assert_eq!(
            refused.err().and_then(|e| e.code()),
            Some(ErrorCode::NotFound)
        );
    }
    let mails = world.server.mail_in_outbox(with_email.len() + 1).await;
    let public = world.server.state().settings.public_url.clone();
    let copy = mails
        .iter()
        .find(|m| m.to == ["teacher1@staff.demo-primary.example"])
        .expect("the sender's copy");
    assert!(copy.body.contains("Sign in here: [loginLink]"));
    assert!(copy.links(&public).is_empty(), "the copy signs nobody in");

    let delivered = world
        .teacher1
        .message_status(&report.message_id)
        .await
        .unwrap();
    assert!(!delivered.waiting(), "every copy has left: {delivered:?}");
    assert!(delivered.copies.iter().all(|c| c.sent_at.is_some()));

    let school = School::by_slug(world.server.state(), "demo")
        .await
        .unwrap()
        .unwrap();
    let mut tokens = BTreeSet::new();
    for learner in learners.iter().filter(|l| l.email.is_some()) {
        let mail = mails
            .iter()
            .find(|m| m.to == [learner.email.clone().unwrap()])
            .unwrap_or_else(|| panic!("a message to {}", learner.username));
        assert_eq!(mail.subject, "Our class page");
        assert!(mail.from.contains("Demo Primary"));
        let links = mail.links(&format!("{public}/s/demo/link/"));
        assert_eq!(links.len(), 1, "{}", mail.body);
        assert!(!mail.body.contains("[loginLink]"));
        let token = links[0].rsplit('/').next().unwrap().to_owned();
        assert!(tokens.insert(token.clone()), "every link is different");

        let (session, _) = login_help::sign_in_with_link(world.server.state(), &school, &token)
            .await
            .unwrap()
            .expect("the link signs its learner in");
        let me = world
            .anon
            .clone()
            .with_token(session.expose().clone())
            .learner_me()
            .await
            .unwrap();
        assert_eq!(me.learner_id, learner.id, "and only that learner");
        assert_eq!(
            login_help::sign_in_with_link(world.server.state(), &school, &token)
                .await
                .unwrap()
                .err(),
            Some(Refusal::Used),
            "once"
        );
    }

    let audit = world
        .lead
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .items;
    let entry = audit
        .iter()
        .find(|e| e.action == AuditAction::MessageSent)
        .expect("the message is in the audit log");
    assert_eq!(entry.actor_name.as_deref(), Some("Mr Hughes"));
    assert_eq!(entry.class_name.as_deref(), Some("1 Owls"));
    let named: BTreeSet<String> = entry.learners.iter().map(|l| l.username.clone()).collect();
    assert_eq!(named, with_email, "who was sent a link");
    assert_eq!(entry.detail["sign_in_links"], true);
    world.stop().await;
}

async fn a_teacher_cannot_message_learners_outside_their_classes(backend: Backend) {
    let world = World::start(backend).await;
    let stranger = active_learners(&world.lead, "5 Kestrels")
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .unwrap();
    let kestrels = harness::class(&world.lead, "5 Kestrels").await;

    let refused = world
        .teacher1
        .message_send(&NewMessage {
            learner_ids: vec![stranger.id],
            ..message("[loginLink]")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::NotFound));
    let refused = world
        .teacher1
        .message_send(&NewMessage {
            class_id: Some(kestrels.id),
            ..message("[loginLink]")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::NotFound));
    let refused = world
        .other_lead
        .message_send(&NewMessage {
            learner_ids: vec![stranger.id],
            ..message("[loginLink]")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::NotFound));
    assert_eq!(mail_count(&world.server).await, 0, "nothing was queued");

    for (bad, field) in [
        (message(""), "body"),
        (
            NewMessage {
                subject: " ".into(),
                learner_ids: vec![stranger.id],
                ..message("x")
            },
            "subject",
        ),
        (
            NewMessage {
                subject: "Two\nlines".into(),
                learner_ids: vec![stranger.id],
                ..message("x")
            },
            "subject",
        ),
    ] {
        let error = world.lead.message_send(&bad).await.unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::InvalidInput), "{bad:?}");
        let classkeys_client::Error::Api { body, .. } = error else {
            panic!("an API error")
        };
        assert_eq!(body.field.as_deref(), Some(field), "{bad:?}");
    }
    let nobody = world.lead.message_send(&message("hi")).await.unwrap_err();
    assert_eq!(nobody.code(), Some(ErrorCode::InvalidInput));
    world.stop().await;
}
