//! Staff sign-in, sessions and sign-out.

use std::time::Duration;

use classkeys_client::{Client, Error};
use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use classkeys_server::Backend;

use crate::harness::{PASSWORD, World};
use crate::on_both_backends;

on_both_backends!(
    wrong_password_and_unknown_user_get_the_same_answer,
    signing_out_ends_the_session,
    deactivating_a_teacher_ends_their_sessions_and_sign_in,
    repeated_failures_are_throttled_for_existing_and_unknown_usernames_alike,
    sign_in_without_school_works_only_when_the_server_has_one_school,
    a_password_hashed_under_a_weaker_policy_is_rehashed_at_sign_in,
);

fn request(school: Option<&str>, username: &str, password: &str) -> SignInRequest {
    SignInRequest {
        school: school.map(Into::into),
        username: username.into(),
        password: password.into(),
        device_token: None,
    }
}

fn api_error(result: Result<(Client, classkeys_protocol::auth::Session), Error>) -> (u16, String) {
    match result {
        Err(Error::Api { status, body }) => (status, serde_json::to_string(&body).unwrap()),
        Err(other) => panic!("expected an API error, got {other}"),
        Ok(_) => panic!("expected sign-in to fail"),
    }
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let world = World::start(backend).await;
    let wrong = api_error(
        world
            .anon
            .sign_in(&request(Some("demo"), "teacher1", "not-the-password"))
            .await,
    );
    let unknown = api_error(
        world
            .anon
            .sign_in(&request(Some("demo"), "nobody", "not-the-password"))
            .await,
    );
    let no_school = api_error(
        world
            .anon
            .sign_in(&request(Some("nowhere"), "teacher1", PASSWORD))
            .await,
    );
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, no_school);
    assert!(wrong.1.contains("invalid_credentials"), "{}", wrong.1);
    // Usernames are not case-sensitive.
    world
        .anon
        .sign_in(&request(Some("DEMO"), "Teacher1", PASSWORD))
        .await
        .expect("sign-in ignores letter case in school and username");
    world.stop().await;
}

async fn signing_out_ends_the_session(backend: Backend) {
    let world = World::start(backend).await;
    let me = world.teacher1.me().await.unwrap();
    assert_eq!(me.username, "teacher1");
    assert_eq!(me.school_slug, "demo");
    world.teacher1.sign_out().await.unwrap();
    let err = world.teacher1.classes().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));
    // Other sessions are unaffected.
    assert_eq!(world.lead.classes().await.unwrap().len(), 7);
    // A made-up token is refused the same way.
    let forged = world.anon.clone().with_token("x".repeat(43));
    assert_eq!(
        forged.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    world.stop().await;
}

async fn deactivating_a_teacher_ends_their_sessions_and_sign_in(backend: Backend) {
    let world = World::start(backend).await;
    classkeys_server::admin::deactivate_staff(&world.server.state().db, "demo", "teacher2")
        .await
        .unwrap();
    assert_eq!(
        world.teacher2.classes().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    let (status, body) = api_error(
        world
            .anon
            .sign_in(&request(Some("demo"), "teacher2", PASSWORD))
            .await,
    );
    assert_eq!(status, 401);
    assert!(body.contains("invalid_credentials"));
    world.stop().await;
}

async fn repeated_failures_are_throttled_for_existing_and_unknown_usernames_alike(
    backend: Backend,
) {
    let world = World::start(backend).await;
    for username in ["teacher3", "ghost"] {
        let mut answers = Vec::new();
        for _ in 0..7 {
            answers.push(api_error(
                world
                    .anon
                    .sign_in(&request(Some("demo"), username, "guess"))
                    .await,
            ));
        }
        // Every answer is the wrong password's, whether the account exists or waits.
        assert!(
            answers
                .iter()
                .all(|(status, body)| *status == 401 && body.contains("invalid_credentials")),
            "{username}: {answers:?}"
        );
    }
    // Past five failures teacher3 must wait: even the right password is refused, in the
    // same words, until the wait is over; other accounts are unaffected.
    let waiting = api_error(
        world
            .anon
            .sign_in(&request(Some("demo"), "teacher3", PASSWORD))
            .await,
    );
    assert_eq!(waiting.0, 401);
    assert!(waiting.1.contains("invalid_credentials"));
    world
        .anon
        .sign_in(&request(Some("demo"), "teacher1", PASSWORD))
        .await
        .expect("teacher1 is not throttled");
    world.server.advance_clock(Duration::from_secs(2 * 60));
    world
        .anon
        .sign_in(&request(Some("demo"), "teacher3", PASSWORD))
        .await
        .expect("after the wait, the right password works");
    world.stop().await;
}

async fn sign_in_without_school_works_only_when_the_server_has_one_school(backend: Backend) {
    let world = World::start(backend).await;
    // The world has two schools: the server asks which one.
    let err = world
        .anon
        .sign_in(&request(None, "teacher1", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput));
    assert!(err.to_string().contains("several schools"), "{err}");
    world.stop().await;

    let single = classkeys_testsupport::TestServer::start_demo(backend).await;
    let anon = Client::new(&single.url).unwrap();
    let (client, session) = anon
        .sign_in(&request(None, "teacher1", PASSWORD))
        .await
        .expect("the only school is assumed");
    assert_eq!(session.staff.school_name, "Demo Primary");
    assert_eq!(client.classes().await.unwrap().len(), 3);
    single.stop().await;
}

async fn a_password_hashed_under_a_weaker_policy_is_rehashed_at_sign_in(backend: Backend) {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let world = World::start(backend).await;
    let pool = world.server.state().db.pool();
    // teacher3's password as an older, cheaper policy would have stored it.
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE username = 'teacher3'")
        .bind(&weak)
        .execute(pool)
        .await
        .unwrap();
    let stored = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT password_hash FROM staff WHERE username = 'teacher3'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let (client, _) = world
        .anon
        .sign_in(&request(Some("demo"), "teacher3", PASSWORD))
        .await
        .expect("the old hash still lets teacher3 in");
    let rehashed = stored().await;
    assert!(rehashed.contains("m=19456,t=2,p=1"), "{rehashed}");
    // Same password, so the sessions already open stay open.
    assert_eq!(client.classes().await.unwrap().len(), 2);
    assert_eq!(world.teacher3.classes().await.unwrap().len(), 2);
    world
        .anon
        .sign_in(&request(Some("demo"), "teacher3", PASSWORD))
        .await
        .expect("the new hash works");
    assert_eq!(stored().await, rehashed, "a current hash is left alone");
    world.stop().await;
}

on_both_backends!(parallel_wrong_passwords_cannot_slip_past_the_limit);

async fn parallel_wrong_passwords_cannot_slip_past_the_limit(backend: Backend) {
    let world = World::start(backend).await;
    let guesses = (0..25).map(|i| {
        let anon = world.anon.clone();
        async move {
            anon.sign_in(&request(Some("demo"), "teacher2", &format!("guess-{i}")))
                .await
                .unwrap_err()
                .code()
        }
    });
    let codes = futures_join_all(guesses).await;
    assert!(
        codes
            .iter()
            .all(|c| *c == Some(ErrorCode::InvalidCredentials)),
        "{codes:?}"
    );
    // Five free failures and the one that started the wait were counted and checked; the
    // other nineteen found the account waiting, however close together they came.
    let counted: i64 = sqlx::query_scalar(
        "SELECT failures FROM login_throttle WHERE throttle_key LIKE 'account:staff:%'",
    )
    .fetch_one(world.server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(counted, 6);
    let err = world
        .anon
        .sign_in(&request(Some("demo"), "teacher2", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidCredentials), "waiting");
    world.server.advance_clock(Duration::from_secs(60));
    world
        .anon
        .sign_in(&request(Some("demo"), "teacher2", PASSWORD))
        .await
        .expect("a minute later the right password works");
    world.stop().await;
}

/// Runs futures concurrently on the test runtime and collects their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
