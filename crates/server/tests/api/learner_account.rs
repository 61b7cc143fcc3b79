//! A learner's own account through the API: signing out, choosing their own password, and
//! the teacher's "must change at next sign-in", on both database engines.

use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{
    AuditAction, AuditActorKind, AuditQuery, CodesPurpose, LearnerPasswordChange,
    LearnerPasswordReset, PasswordSource, PasswordState,
};
use classkeys_server::Backend;

use crate::harness::{
    self, World, active_learners, generated, learner_sign_in, learner_with_password,
};
use crate::on_both_backends;

on_both_backends!(
    a_learner_signs_out_and_that_session_ends,
    a_learner_chooses_their_own_password_which_ends_their_other_sessions_and_is_never_shown,
    a_password_a_learner_chooses_meets_their_year_groups_rules_and_needs_the_current_one,
    a_learner_who_must_change_their_password_can_do_nothing_else_until_they_do,
);

fn change(current: &str, new: &str) -> LearnerPasswordChange {
    LearnerPasswordChange {
        current_password: current.into(),
        new_password: new.into(),
    }
}

async fn a_learner_signs_out_and_that_session_ends(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, password) =
        learner_with_password(&world.teacher1, "3 Badgers", PasswordStyle::Words).await;
    let phone = learner_sign_in(&world, &learner.username, &password)
        .await
        .unwrap();
    let laptop = learner_sign_in(&world, &learner.username, &password)
        .await
        .unwrap();

    phone.learner_sign_out().await.unwrap();
    assert_eq!(
        phone.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    assert_eq!(
        phone.learner_sign_out().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated),
        "a session signs out once"
    );
    assert_eq!(
        laptop.learner_me().await.unwrap().learner_id,
        learner.id,
        "signing out on one device leaves the others signed in"
    );
    // A staff session is not a learner session.
    assert_eq!(
        world.teacher1.learner_sign_out().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    world.teacher1.me().await.unwrap();
    world.stop().await;
}

async fn a_learner_chooses_their_own_password_which_ends_their_other_sessions_and_is_never_shown(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "3 Badgers", PasswordStyle::Words).await;
    let phone = learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();
    let laptop = learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();

    let chosen = "Marmalade-Lighthouse-58";
    let session = laptop
        .learner_password_change(&change(&given, chosen))
        .await
        .unwrap();
    assert!(!session.must_change_password);
    let laptop = world.anon.clone().with_token(session.token);
    assert_eq!(laptop.learner_me().await.unwrap().learner_id, learner.id);
    for old in [&phone] {
        assert_eq!(
            old.learner_me().await.unwrap_err().code(),
            Some(ErrorCode::Unauthenticated),
            "sessions opened with the old password end"
        );
    }
    assert_eq!(
        learner_sign_in(&world, &learner.username, &given)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials)
    );
    learner_sign_in(&world, &learner.username, chosen)
        .await
        .unwrap();

    // The teacher sees who set it, and can no longer see it.
    let codes = world
        .teacher1
        .learner_access_codes(learner.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    assert_eq!(codes.codes[0].password_state, PasswordState::SetByLearner);
    assert_eq!(codes.codes[0].password, None);
    let record = harness::learner(&world.teacher1, &learner.username).await;
    assert_eq!(record.password, PasswordState::SetByLearner);
    // Nothing of it is kept in a form that opens: the sealed copy is gone.
    let sealed: Option<String> =
        sqlx::query_scalar("SELECT password_sealed FROM learner WHERE id = $1")
            .bind(learner.id.to_string())
            .fetch_one(world.server.state().db.pool())
            .await
            .unwrap();
    assert_eq!(sealed, None);

    // The audit log says the learner did it, to the lead and to the learner's teacher.
    for reader in [&world.lead, &world.teacher1] {
        let log = reader.audit(&AuditQuery::default()).await.unwrap();
        let entry = log
            .items
            .iter()
            .find(|e| e.action == AuditAction::LearnerPasswordChanged)
            .expect("the change is in the audit log");
        assert_eq!(entry.actor, AuditActorKind::Learner);
        assert_eq!(entry.actor_id, None, "a learner is not a member of staff");
        assert_eq!(
            entry.actor_name.as_deref(),
            Some(format!("{} {}", learner.given_name, learner.family_name).as_str())
        );
        assert_eq!(entry.learners[0].id, learner.id);
    }
    world.stop().await;
}

async fn a_password_a_learner_chooses_meets_their_year_groups_rules_and_needs_the_current_one(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "3 Badgers", PasswordStyle::Words).await;
    let session = learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();

    let refused = |new: &'static str, reason: &'static str| (new, reason);
    for (new, reason) in [
        refused("abc", "too short"),
        refused("password", "guess"),
        refused("=cmd|calc", "formula"),
    ] {
        let err = session
            .learner_password_change(&change(&given, new))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{new}");
        assert!(err.to_string().contains(reason), "{new}: {err}");
    }
    let err = session
        .learner_password_change(&change(&given, &learner.username))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("your name"), "{err}");
    let err = session
        .learner_password_change(&change(&given, &given))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("the password you have now"),
        "{err}"
    );
    let err = session
        .learner_password_change(&change("not-my-password", "Marmalade-Lighthouse-58"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidCredentials));

    // Nothing changed: the session and the given password still work.
    session.learner_me().await.unwrap();
    learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();
    world.stop().await;
}

async fn a_learner_who_must_change_their_password_can_do_nothing_else_until_they_do(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let learner = active_learners(&world.teacher1, "3 Badgers")
        .await
        .remove(0);
    let given = generated(PasswordStyle::Words);
    world
        .teacher1
        .learner_password_reset(
            learner.id,
            &LearnerPasswordReset {
                password: given.clone(),
                source: PasswordSource::Generated,
                must_change: true,
            },
        )
        .await
        .unwrap();
    let signed_in = world
        .anon
        .learner_sign_in(&classkeys_protocol::credentials::LearnerSignInRequest {
            school: "demo".into(),
            username: learner.username.clone(),
            password: given.clone(),
            device_token: None,
        })
        .await
        .unwrap();
    assert!(signed_in.must_change_password);
    let session = world.anon.clone().with_token(signed_in.token);
    let err = session.learner_me().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::PasswordChangeRequired));
    assert!(err.to_string().contains("choose a new password"), "{err}");

    let chosen = session
        .learner_password_change(&change(&given, "Marmalade-Lighthouse-58"))
        .await
        .unwrap();
    assert!(!chosen.must_change_password);
    let session = world.anon.clone().with_token(chosen.token);
    let me = session.learner_me().await.unwrap();
    assert!(!me.must_change_password);
    assert!(
        !harness::learner(&world.teacher1, &learner.username)
            .await
            .must_change_password,
        "the teacher sees the change was made"
    );
    world.stop().await;
}
