//! Throttling that protects PINs without lockouts, on both database engines: one address
//! guessing across many accounts is slowed to the stated rate, a device that signed in
//! before is never locked out by someone else's guesses, a teacher's reset lifts a
//! learner's wait, and moving the server's clock ends sessions and windows.

use std::time::Duration;

use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{
    LearnerSignInRequest, PasswordSource, SchoolExportKind, SchoolExportRequest,
};
use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::Backend;

use crate::harness::{PASSWORD, World, generated, learner_sign_in, learner_with_password, reset};
use crate::on_both_backends;

on_both_backends!(
    one_address_guessing_across_sixty_accounts_gets_thirty_guesses_every_ten_minutes,
    eleven_wrong_passwords_for_the_lead_do_not_lock_out_a_device_that_signed_in_before,
    a_teachers_reset_lifts_a_learners_wait,
    moving_the_clock_ends_sessions,
    what_has_expired_is_purged,
    a_forwarded_address_is_believed_only_from_a_trusted_proxy,
);

fn staff(username: &str, password: &str, device: Option<&str>) -> SignInRequest {
    SignInRequest {
        school: Some("demo".into()),
        username: username.into(),
        password: password.into(),
        device_token: device.map(Into::into),
    }
}

async fn one_address_guessing_across_sixty_accounts_gets_thirty_guesses_every_ten_minutes(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let usernames: Vec<String> = world
        .lead
        .learners(&LearnerQuery {
            include_inactive: Some(false),
            limit: Some(60),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|l| l.username)
        .collect();
    assert_eq!(usernames.len(), 60);
    let guess_all = async || {
        let mut answers = Vec::new();
        for username in &usernames {
            let answer = world
                .anon
                .raw_with_headers(
                    classkeys_client::HttpMethod::POST,
                    classkeys_protocol::paths::LEARNER_SIGN_IN,
                    Some("application/json"),
                    Some(
                        serde_json::json!({"school": "demo", "username": username,
                                           "password": "123456"})
                        .to_string()
                        .into_bytes(),
                    ),
                )
                .await
                .unwrap();
            answers.push(answer);
        }
        answers
    };
    let first = guess_all().await;
    let statuses: Vec<u16> = first.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(statuses[..30], [401; 30], "{statuses:?}");
    assert_eq!(statuses[30..], [429; 30], "{statuses:?}");
    let (_, headers, body) = &first[59];
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&wait), "{wait}");
    assert!(
        String::from_utf8_lossy(body).contains("too many failed sign-ins from here"),
        "{}",
        String::from_utf8_lossy(body)
    );

    // Ten minutes on, the next thirty are checked, and no more.
    world.server.advance_clock(Duration::from_secs(10 * 60));
    let second: Vec<u16> = guess_all().await.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(second.iter().filter(|s| **s == 401).count(), 30);
    assert_eq!(second.iter().filter(|s| **s == 429).count(), 30);
    world.stop().await;
}

async fn eleven_wrong_passwords_for_the_lead_do_not_lock_out_a_device_that_signed_in_before(
    backend: Backend,
) {
    let world = World::start(backend).await;
    // The lead's own computer signed in before and kept its device token.
    let (_, earlier) = world
        .anon
        .sign_in(&staff("lead", PASSWORD, None))
        .await
        .unwrap();
    let device = earlier.device_token;

    for i in 0..11 {
        let err = world
            .anon
            .sign_in(&staff("lead", &format!("guess-{i}"), None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidCredentials));
    }
    // From a new device the lead now waits like anyone.
    assert_eq!(
        world
            .anon
            .sign_in(&staff("lead", PASSWORD, None))
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::InvalidCredentials)
    );
    let address_failures = async || -> i64 {
        sqlx::query_scalar(
            "SELECT failures FROM login_throttle WHERE throttle_key LIKE 'address:%'",
        )
        .fetch_one(world.server.state().db.pool())
        .await
        .unwrap()
    };
    let counted = address_failures().await;
    let devices_before = known_devices(&world).await;
    // From the known device the lead signs in at once, and exports the school.
    let (lead, session) = world
        .anon
        .sign_in(&staff("lead", PASSWORD, Some(&device)))
        .await
        .expect("the lead's own device is not locked out");
    assert_eq!(session.device_token, device, "the device keeps its token");
    assert_eq!(
        known_devices(&world).await,
        devices_before,
        "no new device row"
    );
    // That sign-in neither gives the guessers back their failures nor their free tries.
    assert_eq!(address_failures().await, counted);
    assert_eq!(
        world
            .anon
            .sign_in(&staff("lead", PASSWORD, None))
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::InvalidCredentials),
        "a new device still waits after the lead signed in on a known one"
    );
    let csv = lead
        .school_export(&SchoolExportRequest {
            kind: SchoolExportKind::AccessCodes,
            password: PASSWORD.into(),
        })
        .await
        .expect("the export is not blocked by someone else's failures");
    assert!(!csv.is_empty());
    // A device token is the lead's own: it does not help another account.
    assert_eq!(
        world
            .anon
            .sign_in(&staff("teacher1", "guess", Some(&device)))
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::InvalidCredentials)
    );
    world.stop().await;
}

async fn known_devices(world: &World) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM known_device")
        .fetch_one(world.server.state().db.pool())
        .await
        .unwrap()
}

async fn a_teachers_reset_lifts_a_learners_wait(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "1 Owls", PasswordStyle::Pin).await;
    for _ in 0..8 {
        assert_eq!(
            learner_sign_in(&world, &learner.username, "000000")
                .await
                .err(),
            Some(ErrorCode::InvalidCredentials)
        );
    }
    assert_eq!(
        learner_sign_in(&world, &learner.username, &given)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials),
        "waiting"
    );
    let fresh = generated(PasswordStyle::Pin);
    reset(
        &world.teacher1,
        learner.id,
        &fresh,
        PasswordSource::Generated,
    )
    .await;
    learner_sign_in(&world, &learner.username, &fresh)
        .await
        .expect("the reset lifted the wait");
    world.stop().await;
}

async fn moving_the_clock_ends_sessions(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "1 Owls", PasswordStyle::Pin).await;
    let session = learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();
    world.teacher1.me().await.unwrap();
    session.learner_me().await.unwrap();

    world
        .server
        .advance_clock(Duration::from_secs(13 * 60 * 60));
    assert_eq!(
        world.teacher1.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated),
        "a staff session lasts twelve hours"
    );
    assert_eq!(
        session.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    world.stop().await;
}

async fn what_has_expired_is_purged(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    for username in ["ghost", "teacher3"] {
        let _ = world.anon.sign_in(&staff(username, "guess", None)).await;
    }
    let _ = world
        .anon
        .learner_sign_in(&LearnerSignInRequest {
            school: "demo".into(),
            username: "nobody".into(),
            password: "123456".into(),
            device_token: None,
        })
        .await;
    let count = async |table: &str| -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(state.db.pool())
            .await
            .unwrap()
    };
    // teacher3's failures are kept; "ghost" and "nobody" do not exist, and their guesses
    // only count in the address's and the school's windows, which pass.
    let accounts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_throttle WHERE throttle_key LIKE 'account:%'",
    )
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    assert_eq!(accounts, 1);
    assert!(count("token").await > 0);
    assert!(count("known_device").await > 0);

    // A day on, the windows are gone; an account's failures are kept while they matter.
    world
        .server
        .advance_clock(Duration::from_secs(24 * 60 * 60));
    classkeys_server::throttle::purge(state).await.unwrap();
    assert_eq!(count("login_throttle").await, 1);
    // Past every wait, every session and every device's year, nothing is left.
    world
        .server
        .advance_clock(Duration::from_secs(400 * 24 * 60 * 60));
    classkeys_server::throttle::purge(state).await.unwrap();
    for table in ["login_throttle", "token", "known_device"] {
        assert_eq!(count(table).await, 0, "{table}");
    }
    world.stop().await;
}

async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy(backend: Backend) {
    let guesses_from = async |server: &classkeys_testsupport::TestServer, forwarded: &str, n| {
        let anon = classkeys_client::Client::new(&server.url).unwrap();
        let mut statuses = Vec::new();
        for _ in 0..n {
            let (status, _) = anon
                .raw_forwarded(
                    classkeys_protocol::paths::LEARNER_SIGN_IN,
                    forwarded,
                    serde_json::json!({"school": "demo", "username": "nobody",
                                       "password": "123456"}),
                )
                .await
                .unwrap();
            statuses.push(status);
        }
        statuses
    };
    // Behind a proxy on loopback: each client address has its own thirty.
    let proxied = classkeys_testsupport::TestServer::start_demo_with(
        backend,
        classkeys_server::Settings {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Default::default()
        },
    )
    .await;
    let first = guesses_from(&proxied, "203.0.113.1", 31).await;
    assert_eq!(first[..30], [401; 30]);
    assert_eq!(first[30], 429);
    assert_eq!(guesses_from(&proxied, "203.0.113.2", 1).await, [401]);
    proxied.stop().await;

    // Not behind one: the header is the client's own word, and changes nothing.
    let direct = classkeys_testsupport::TestServer::start_demo(backend).await;
    let first = guesses_from(&direct, "203.0.113.1", 30).await;
    assert_eq!(first, [401; 30]);
    assert_eq!(guesses_from(&direct, "203.0.113.2", 1).await, [429]);
    direct.stop().await;
}
