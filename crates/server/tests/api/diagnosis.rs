//! "Why can't they sign in?" on a real server: for each reason a learner cannot sign in, the
//! diagnosis names it and offers a fix, and the fix makes sign-in work; nobody learns
//! anything about a learner they may not see; no typed password is ever shown.

use classkeys_client::Client;
use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{AuditAction, AuditQuery};
use classkeys_protocol::diagnosis::{Check, Diagnosis, Fix, Resemblance, Severity};
use classkeys_protocol::roster::{LearnerRecord, NewLearner};
use classkeys_server::Backend;
use classkeys_server::links::Refusal;
use classkeys_server::login_help::{self, School};

use crate::harness::{self, World, learner_sign_in, learner_with_password};
use crate::on_both_backends;

on_both_backends!(
    a_deactivated_learner_is_named_and_reactivating_lets_them_in,
    a_locked_learner_is_named_without_the_passwords_typed_and_unlocking_lets_them_in,
    an_address_held_by_a_deactivated_duplicate_is_named_with_the_account_holding_it,
    an_older_reset_link_is_named_and_a_new_one_from_the_teacher_lets_them_in,
    nobody_learns_anything_of_a_learner_they_may_not_see,
);

async fn diagnose(teacher: &Client, learner: &LearnerRecord) -> Diagnosis {
    teacher.learner_diagnosis(learner.id).await.unwrap()
}

/// The finding of `check`, which must say it stops the learner signing in.
fn problem(diagnosis: &Diagnosis, check: Check) -> &classkeys_protocol::diagnosis::Finding {
    diagnosis
        .problems()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("a {check:?} problem in {:#?}", diagnosis.findings))
}

/// The checks that say they stop the learner signing in.
fn problems(diagnosis: &Diagnosis) -> Vec<Check> {
    diagnosis.problems().map(|f| f.check).collect()
}

async fn a_deactivated_learner_is_named_and_reactivating_lets_them_in(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, password) =
        learner_with_password(&world.teacher1, "1 Owls", PasswordStyle::Words).await;
    assert!(
        diagnose(&world.teacher1, &learner)
            .await
            .problems()
            .next()
            .is_none()
    );

    world
        .lead
        .learner_set_active(learner.id, false, None)
        .await
        .unwrap();
    assert_eq!(
        learner_sign_in(&world, &learner.username, &password)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials)
    );
    let diagnosis = diagnose(&world.teacher1, &learner).await;
    assert_eq!(problems(&diagnosis), [Check::Account]);
    let found = problem(&diagnosis, Check::Account);
    assert!(
        found.says.contains("deactivated by Mrs Adebayo just now"),
        "{}",
        found.says
    );
    assert_eq!(found.fixes, [Fix::Reactivate]);
    assert_eq!(
        diagnosis.findings[0].check,
        Check::Account,
        "problems first"
    );

    world
        .teacher1
        .learner_set_active(learner.id, true, None)
        .await
        .unwrap();
    learner_sign_in(&world, &learner.username, &password)
        .await
        .expect("reactivated, the learner signs in");
    let diagnosis = diagnose(&world.teacher1, &learner).await;
    assert!(diagnosis.problems().next().is_none());
    assert!(diagnosis.facts.last_sign_in_at.is_some());
    world.stop().await;
}

async fn a_locked_learner_is_named_without_the_passwords_typed_and_unlocking_lets_them_in(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (learner, password) =
        learner_with_password(&world.teacher1, "1 Owls", PasswordStyle::Words).await;
    let typed: Vec<String> = (0..7).map(|i| format!("Guessed-Wrong-{i}x")).collect();
    for guess in &typed {
        assert!(
            learner_sign_in(&world, &learner.username, guess)
                .await
                .is_err()
        );
    }
    assert_eq!(
        learner_sign_in(&world, &learner.username, &password)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials),
        "locked: even the right password is refused, and said like a wrong one"
    );

    let diagnosis = diagnose(&world.teacher1, &learner).await;
    assert_eq!(problems(&diagnosis), [Check::Lock]);
    let found = problem(&diagnosis, Check::Lock);
    assert!(found.says.contains("wrong passwords"), "{}", found.says);
    assert!(found.says.contains("refused for"), "{}", found.says);
    assert_eq!(found.fixes[0], Fix::Unlock);
    assert!(diagnosis.facts.failed_attempts >= 6);
    assert!(diagnosis.facts.locked_until.is_some());
    let json = serde_json::to_string(&diagnosis).unwrap();
    for secret in typed.iter().chain([&password]) {
        assert!(
            !json.contains(secret.as_str()),
            "no password in the diagnosis"
        );
    }

    let unlocked = world.teacher1.learner_unlock(learner.id).await.unwrap();
    assert!(unlocked.was_locked);
    learner_sign_in(&world, &learner.username, &password)
        .await
        .expect("unlocked, the right password works at once");
    let audit = world.teacher1.audit(&AuditQuery::default()).await.unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == AuditAction::LearnerUnlocked)
    );
    world.stop().await;
}

async fn an_address_held_by_a_deactivated_duplicate_is_named_with_the_account_holding_it(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let owls = harness::class(&world.teacher1, "1 Owls").await;
    let new = |username: &str, email: Option<&str>| NewLearner {
        id: None,
        given_name: "Sam".into(),
        family_name: "Okafor".into(),
        username: Some(username.into()),
        email: email.map(Into::into),
        classes: vec![owls.id],
    };
    let old = world
        .teacher1
        .learner_create(&new("sam.okafor", Some("sam.okafor@home.example")))
        .await
        .unwrap();
    world
        .teacher1
        .learner_set_active(old.id, false, None)
        .await
        .unwrap();
    let current = world
        .teacher1
        .learner_create(&new("sam.okafor2", None))
        .await
        .unwrap();

    let diagnosis = diagnose(&world.teacher1, &current).await;
    assert_eq!(problems(&diagnosis), [Check::Password, Check::Duplicates]);
    let found = problem(&diagnosis, Check::Duplicates);
    assert!(
        found
            .says
            .contains("deactivated account sam.okafor (Sam Okafor)")
            && found.says.contains("sam.okafor@home.example")
            && found.says.contains("does not free its address"),
        "{}",
        found.says
    );
    assert_eq!(
        found.fixes,
        [Fix::MoveEmail {
            from: old.id,
            from_username: "sam.okafor".into(),
            address: "sam.okafor@home.example".into(),
        }]
    );
    let email = diagnosis
        .findings
        .iter()
        .find(|f| f.check == Check::Email)
        .unwrap();
    assert_eq!(email.severity, Severity::Warning, "no address on file");

    // An address one dot away from the one on file is found too.
    let dotted = world
        .teacher1
        .learner_create(&NewLearner {
            given_name: "Samuel".into(),
            email: Some("samokafor@home.example".into()),
            ..new("samuel.okafor", None)
        })
        .await
        .unwrap();
    let diagnosis = diagnose(&world.teacher1, &dotted).await;
    let like = &diagnosis.facts.look_alikes;
    assert_eq!(like.len(), 1, "{like:#?}");
    assert_eq!(like[0].resemblance, Resemblance::EmailDots);
    assert!(!like[0].active);
    world.stop().await;
}

async fn an_older_reset_link_is_named_and_a_new_one_from_the_teacher_lets_them_in(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let school = School::by_slug(state, "demo").await.unwrap().unwrap();
    let learner = harness::active_learners(&world.teacher1, "1 Owls")
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .expect("a learner with an address");
    let password = harness::generated(PasswordStyle::Words);
    let source = classkeys_protocol::credentials::PasswordSource::Generated;
    harness::reset(&world.teacher1, learner.id, &password, source).await;
    // Two password links, and the learner opens the first.
    let first = world.teacher1.learner_reset_link(learner.id).await.unwrap();
    assert_eq!(Some(&first.to), learner.email.as_ref());
    world
        .server
        .advance_clock(std::time::Duration::from_secs(60));
    world.teacher1.learner_reset_link(learner.id).await.unwrap();
    let mails = world.server.mail_in_outbox(2).await;
    let public = &state.settings.public_url;
    let older = mails[0].links(&format!("{public}/s/demo/reset/"))[0].clone();
    let older = older.rsplit('/').next().unwrap();
    assert_eq!(
        login_help::reset_with_link(
            state,
            &school,
            older,
            "Orchard-Lantern-Fox-58".to_owned().into(),
            &classkeys_server::audit::Device(None),
        )
        .await
        .unwrap()
        .err(),
        Some(Refusal::Superseded)
    );

    let diagnosis = diagnose(&world.teacher1, &learner).await;
    assert_eq!(problems(&diagnosis), [Check::ResetLink]);
    let found = problem(&diagnosis, Check::ResetLink);
    assert!(
        found.says.contains("An older link was opened"),
        "{}",
        found.says
    );
    assert!(
        found.says.contains("2 were sent within a day"),
        "{}",
        found.says
    );
    assert_eq!(found.fixes, [Fix::SendResetLink]);
    let mail = &diagnosis.facts.mail;
    assert_eq!(mail.len(), 2);
    assert!(mail.iter().all(|m| m.to == first.to));

    // The fix: a new link, which works.
    world.teacher1.learner_reset_link(learner.id).await.unwrap();
    let mails = world.server.mail_in_outbox(3).await;
    let newest = mails[2].links(&format!("{public}/s/demo/reset/"))[0].clone();
    assert!(
        mails[2].body.contains("Mr Hughes sent you this link"),
        "{}",
        mails[2].body
    );
    login_help::reset_with_link(
        state,
        &school,
        newest.rsplit('/').next().unwrap(),
        "Orchard-Lantern-Fox-58".to_owned().into(),
        &classkeys_server::audit::Device(None),
    )
    .await
    .unwrap()
    .expect("the newest link sets a password");
    learner_sign_in(&world, &learner.username, "Orchard-Lantern-Fox-58")
        .await
        .expect("and the learner signs in with it");
    world.stop().await;
}

async fn nobody_learns_anything_of_a_learner_they_may_not_see(backend: Backend) {
    let world = World::start(backend).await;
    let owl = harness::active_learners(&world.teacher1, "1 Owls")
        .await
        .remove(0);
    for outsider in [&world.teacher2, &world.other_lead] {
        let refused = [
            outsider.learner_diagnosis(owl.id).await.err(),
            outsider.learner_unlock(owl.id).await.err(),
            outsider.learner_reset_link(owl.id).await.err(),
        ];
        for error in refused {
            assert_eq!(error.and_then(|e| e.code()), Some(ErrorCode::NotFound));
        }
    }

    // A look-alike in a class the teacher does not teach is mentioned, never named.
    let foxes = harness::class(&world.lead, "2 Foxes").await;
    world
        .lead
        .learner_create(&NewLearner {
            id: None,
            given_name: owl.given_name.clone(),
            family_name: owl.family_name.clone(),
            username: Some("twin.elsewhere".into()),
            email: Some("twin.elsewhere@home.example".into()),
            classes: vec![foxes.id],
        })
        .await
        .unwrap();
    let diagnosis = diagnose(&world.teacher1, &owl).await;
    let json = serde_json::to_string(&diagnosis).unwrap();
    assert!(!json.contains("twin.elsewhere"), "{json}");
    let twin = &diagnosis.facts.look_alikes;
    assert_eq!(twin.len(), 1);
    assert!(twin[0].account.is_none());
    let by_lead = diagnose(&world.lead, &owl).await;
    assert_eq!(
        by_lead.facts.look_alikes[0]
            .account
            .as_ref()
            .map(|a| a.username.as_str()),
        Some("twin.elsewhere")
    );
    world.stop().await;
}
