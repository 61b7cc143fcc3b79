//! The login helper and its links, end to end on a real server: the question asked, the
//! mail read back from the outbox, the link used, and the learner (or teacher) signed in
//! with the password they chose — on both database engines.

use std::sync::Arc;
use std::time::Duration;

use classkeys_domain::generator::PasswordStyle;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{LearnerPasswordChange, PasswordState};
use classkeys_protocol::roster::LearnerRecord;
use classkeys_server::audit::Device;
use classkeys_server::links::{Link, Refusal};
use classkeys_server::login_help::{self, Question, ResetDone, School};
use classkeys_server::{AppState, Backend, Settings};
use classkeys_testsupport::{DEMO_PASSWORD, Mail, TestServer};

use crate::harness::{self, World, active_learners, learner_sign_in};
use crate::on_both_backends;

on_both_backends!(
    forgot_password_mails_links_and_the_reset_link_sets_a_password_of_the_learners_own,
    only_the_newest_reset_link_works_and_none_after_two_hours,
    fifty_parallel_uses_of_one_link_give_exactly_one_success,
    a_sign_in_link_signs_in_once_and_the_learner_may_choose_a_password_without_the_old_one,
    links_die_when_the_password_changes,
    forgot_username_answers_the_address_that_was_typed,
    the_helper_floods_nobody,
    a_teacher_chooses_a_new_staff_password_through_the_helper,
    a_sign_in_link_works_for_the_schools_chosen_time_and_no_longer,
);

const HERE: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

async fn demo(state: &AppState) -> School {
    School::by_slug(state, "demo").await.unwrap().unwrap()
}

/// Asks the demo school's helper and waits until the answer is queued.
async fn ask(state: &AppState, question: Question) {
    login_help::ask(state, &demo(state).await, HERE, question)
        .await
        .unwrap();
    state.help.idle().await;
}

/// The active learner of `class` with an email address on file, given a password.
async fn learner_with_email(world: &World, class: &str) -> (LearnerRecord, String) {
    let learner = active_learners(&world.lead, class)
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .expect("a demo learner with an email address");
    let password = harness::generated(PasswordStyle::Words);
    harness::reset(
        &world.lead,
        learner.id,
        &password,
        classkeys_protocol::credentials::PasswordSource::Generated,
    )
    .await;
    (learner, password)
}

/// How many messages the server has queued or sent, all told.
async fn mail_count(state: &AppState) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM mail")
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

/// The token at the end of a link to `/s/demo/<kind>/`.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

/// Asks the demo school's helper "I forgot my password" for `username`, and returns the
/// one message it sends.
async fn forgot_password(world: &World, username: &str) -> Mail {
    ask(
        world.server.state(),
        Question::Password {
            username: username.to_owned(),
        },
    )
    .await;
    world.server.mail_in_outbox(1).await.remove(0)
}

/// The reset and sign-in links of a password-help message.
fn links_in(mail: &Mail, public_url: &str) -> (Option<String>, Option<String>) {
    let base = format!("{}/s/demo/", public_url.trim_end_matches('/'));
    let find = |kind: &str| {
        mail.links(&format!("{base}{kind}/"))
            .into_iter()
            .next()
            .map(|l| token_of(&l))
    };
    (find("reset"), find("link"))
}

async fn reset_with(state: &AppState, token: &str, password: &str) -> Result<ResetDone, Refusal> {
    login_help::reset_with_link(
        state,
        &demo(state).await,
        token,
        Sensitive::new(password.to_owned()),
        &Device::default(),
    )
    .await
    .unwrap()
}

async fn forgot_password_mails_links_and_the_reset_link_sets_a_password_of_the_learners_own(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, old) = learner_with_email(&world, "3 Badgers").await;
    let mail = forgot_password(&world, &format!("  {}  ", learner.username.to_uppercase())).await;
    assert_eq!(mail.to, [learner.email.clone().unwrap()]);
    assert!(
        mail.from.starts_with("\"Demo Primary\""),
        "from the school: {}",
        mail.from
    );
    assert!(mail.body.contains(&learner.given_name), "{}", mail.body);
    let (reset, sign_in) = links_in(&mail, &state.settings.public_url);
    let (reset, _sign_in) = (
        reset.expect("a reset link"),
        sign_in.expect("a sign-in link"),
    );

    let chosen = "lantern-mossy-quiet-7";
    let Err(refusal) = login_help::reset_with_link(
        state,
        &demo(state).await,
        &reset,
        Sensitive::new("1".into()),
        &Device::default(),
    )
    .await
    else {
        panic!("a one-character password is refused")
    };
    assert_eq!(refusal.code(), ErrorCode::InvalidInput);
    assert!(refusal.to_string().contains("choose another password"));

    let elsewhere = learner_sign_in(&world, &learner.username, &old)
        .await
        .expect("a session opened before the reset");
    let done = reset_with(state, &reset, chosen).await;
    let Ok(ResetDone::Learner { session, .. }) = done else {
        panic!("the learner is signed in after choosing a password: {done:?}")
    };
    let signed_in = world.anon.clone().with_token(session.expose().clone());
    assert_eq!(signed_in.learner_me().await.unwrap().learner_id, learner.id);
    assert_eq!(
        learner_sign_in(&world, &learner.username, &old).await.err(),
        Some(ErrorCode::InvalidCredentials),
        "the old password is refused"
    );
    learner_sign_in(&world, &learner.username, chosen)
        .await
        .expect("the new password signs in");
    assert_eq!(
        elsewhere.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated),
        "the reset ended the learner's other sessions"
    );
    let seen = harness::learner(&world.lead, &learner.username).await;
    assert_eq!(
        seen.password,
        PasswordState::SetByLearner,
        "teachers no longer see it"
    );
    assert_eq!(
        reset_with(state, &reset, "another-good-one-42").await.err(),
        Some(Refusal::Used),
        "a reset link works once"
    );
    world.stop().await;
}

async fn only_the_newest_reset_link_works_and_none_after_two_hours(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, _) = learner_with_email(&world, "4B").await;
    let question = Question::Password {
        username: learner.username.clone(),
    };
    ask(state, question.clone()).await;
    ask(state, question.clone()).await;
    let mails = world.server.mail_in_outbox(2).await;
    let first = links_in(&mails[0], &state.settings.public_url).0.unwrap();
    let second = links_in(&mails[1], &state.settings.public_url).0.unwrap();
    let school = demo(state).await;

    assert_eq!(
        classkeys_server::links::inspect(state, Link::Reset, &school.id, &first)
            .await
            .unwrap()
            .err(),
        Some(Refusal::Superseded),
        "opening the older link says a newer one was sent"
    );
    assert_eq!(
        reset_with(state, &first, "lantern-mossy-quiet-7")
            .await
            .err(),
        Some(Refusal::Superseded)
    );
    assert!(
        classkeys_server::links::inspect(state, Link::Reset, &school.id, &second)
            .await
            .unwrap()
            .is_ok(),
        "the newest link works"
    );

    world
        .server
        .advance_clock(Duration::from_secs(2 * 60 * 60 + 1));
    assert_eq!(
        reset_with(state, &second, "lantern-mossy-quiet-7")
            .await
            .err(),
        Some(Refusal::Expired),
        "2 hours and a second later it has expired"
    );
    assert_eq!(
        reset_with(state, "not-a-link-at-all", "lantern-mossy-quiet-7")
            .await
            .err(),
        Some(Refusal::Unknown)
    );
    world.stop().await;
}

async fn fifty_parallel_uses_of_one_link_give_exactly_one_success(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, _) = learner_with_email(&world, "5 Kestrels").await;
    let mail = forgot_password(&world, &learner.username).await;
    let (reset, sign_in) = links_in(&mail, &state.settings.public_url);
    let (reset, sign_in) = (Arc::new(reset.unwrap()), Arc::new(sign_in.unwrap()));
    let school = demo(state).await;

    let mut uses = Vec::new();
    for _ in 0..50 {
        let (state, school, sign_in) = (state.clone(), school.clone(), sign_in.clone());
        uses.push(tokio::spawn(async move {
            login_help::sign_in_with_link(&state, &school, &sign_in)
                .await
                .unwrap()
                .is_ok()
        }));
    }
    let mut signed_in = 0;
    for used in uses {
        signed_in += usize::from(used.await.unwrap());
    }
    assert_eq!(signed_in, 1, "one sign-in link, one sign-in");

    let mut uses = Vec::new();
    for i in 0..50 {
        let (state, school, reset) = (state.clone(), school.clone(), reset.clone());
        uses.push(tokio::spawn(async move {
            login_help::reset_with_link(
                &state,
                &school,
                &reset,
                Sensitive::new(format!("lantern-mossy-quiet-{i}")),
                &Device::default(),
            )
            .await
        }));
    }
    let mut chosen = 0;
    for used in uses {
        match used.await.unwrap() {
            Ok(Ok(_)) => chosen += 1,
            Ok(Err(refusal)) => assert_eq!(refusal, Refusal::Used),
            // Each use hashes the new password first; past the hashing queue's bound the
            // server asks to try again, using nothing up.
            Err(busy) => assert_eq!(busy.code(), ErrorCode::Busy),
        }
    }
    assert_eq!(chosen, 1, "one reset link, one new password");
    world.stop().await;
}

async fn a_sign_in_link_signs_in_once_and_the_learner_may_choose_a_password_without_the_old_one(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, old) = learner_with_email(&world, "6 Herons").await;
    let mail = forgot_password(&world, &learner.username).await;
    let sign_in = links_in(&mail, &state.settings.public_url).1.unwrap();
    let school = demo(state).await;

    // Opening the link (what a mail scanner does) uses nothing.
    for _ in 0..3 {
        assert!(
            classkeys_server::links::inspect(state, Link::SignIn, &school.id, &sign_in)
                .await
                .unwrap()
                .is_ok()
        );
    }
    let (session, _) = login_help::sign_in_with_link(state, &school, &sign_in)
        .await
        .unwrap()
        .expect("the link signs the learner in");
    assert_eq!(
        login_help::sign_in_with_link(state, &school, &sign_in)
            .await
            .unwrap()
            .err(),
        Some(Refusal::Used),
        "a sign-in link works once"
    );
    let signed_in = world.anon.clone().with_token(session.expose().clone());
    assert_eq!(signed_in.learner_me().await.unwrap().learner_id, learner.id);
    let changed = signed_in
        .learner_password_change(&LearnerPasswordChange {
            current_password: String::new(),
            new_password: "lantern-mossy-quiet-7".into(),
        })
        .await
        .expect("no old password needed after a sign-in link");
    assert!(!changed.must_change_password);
    assert_eq!(
        learner_sign_in(&world, &learner.username, &old).await.err(),
        Some(ErrorCode::InvalidCredentials)
    );
    learner_sign_in(&world, &learner.username, "lantern-mossy-quiet-7")
        .await
        .unwrap();

    // A session opened with the password still needs the current one.
    let with_password = learner_sign_in(&world, &learner.username, "lantern-mossy-quiet-7")
        .await
        .unwrap();
    let refused = with_password
        .learner_password_change(&LearnerPasswordChange {
            current_password: String::new(),
            new_password: "otter-velvet-brisk-9".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidCredentials));
    world.stop().await;
}

async fn links_die_when_the_password_changes(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, _) = learner_with_email(&world, "3 Badgers").await;
    let mail = forgot_password(&world, &learner.username).await;
    let (reset, sign_in) = links_in(&mail, &state.settings.public_url);
    harness::reset(
        &world.lead,
        learner.id,
        &harness::generated(PasswordStyle::Words),
        classkeys_protocol::credentials::PasswordSource::Generated,
    )
    .await;
    let school = demo(state).await;
    assert_eq!(
        login_help::sign_in_with_link(state, &school, &sign_in.unwrap())
            .await
            .unwrap()
            .err(),
        Some(Refusal::Used),
        "a teacher's reset ends the sign-in link"
    );
    assert_eq!(
        reset_with(state, &reset.unwrap(), "lantern-mossy-quiet-7")
            .await
            .err(),
        Some(Refusal::Used),
        "and the reset link"
    );
    world.stop().await;
}

async fn forgot_username_answers_the_address_that_was_typed(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, _) = learner_with_email(&world, "2 Foxes").await;
    let email = learner.email.clone().unwrap();
    ask(
        state,
        Question::Username {
            email: email.to_uppercase(),
        },
    )
    .await;
    ask(
        state,
        Question::Username {
            email: "nobody.here@example.org".into(),
        },
    )
    .await;
    ask(
        state,
        Question::Username {
            email: "not an address".into(),
        },
    )
    .await;
    let mails = world.server.mail_in_outbox(2).await;
    let to_learner = mails
        .iter()
        .find(|m| m.to == [email.clone()])
        .unwrap_or_else(|| panic!("a message to {email}: {mails:?}"));
    assert!(
        to_learner
            .body
            .contains(&format!("Your username is: {}", learner.username)),
        "{}",
        to_learner.body
    );
    let to_nobody = mails
        .iter()
        .find(|m| m.to == ["nobody.here@example.org"])
        .unwrap();
    assert!(to_nobody.body.contains("No account there uses it"));
    assert!(
        !to_nobody.body.contains(&learner.username),
        "no username in the answer to an unknown address"
    );
    assert_eq!(mail_count(state).await, 2, "nothing for a non-address");
    world.stop().await;
}

async fn the_helper_floods_nobody(backend: Backend) {
    let mut settings = Settings::default();
    settings.throttle.help_per_address = 12;
    let server = TestServer::start_demo_with(backend, settings).await;
    let state = server.state();
    let client = classkeys_client::Client::new(&server.url).unwrap();
    let lead = harness::sign_in(&client, "demo", "lead").await;
    let learner = active_learners(&lead, "3 Badgers")
        .await
        .into_iter()
        .find(|l| l.email.is_some())
        .unwrap();
    let school = demo(state).await;
    for _ in 0..6 {
        login_help::ask(
            state,
            &school,
            HERE,
            Question::Password {
                username: learner.username.clone(),
            },
        )
        .await
        .unwrap();
        state.help.idle().await;
    }
    assert_eq!(
        mail_count(state).await,
        3,
        "at most 3 messages an hour to one account"
    );
    for _ in 0..6 {
        login_help::ask(
            state,
            &school,
            HERE,
            Question::Username {
                email: "someone@example.org".into(),
            },
        )
        .await
        .unwrap();
        state.help.idle().await;
    }
    assert_eq!(mail_count(state).await, 6, "and to one address");
    let too_many = login_help::ask(
        state,
        &school,
        HERE,
        Question::Username {
            email: "else@example.org".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(too_many.code(), ErrorCode::RateLimited);
    assert!(too_many.retry_after_seconds().is_some());
    server.advance_clock(Duration::from_secs(60 * 60 + 1));
    login_help::ask(
        state,
        &school,
        HERE,
        Question::Password {
            username: learner.username.clone(),
        },
    )
    .await
    .unwrap();
    state.help.idle().await;
    assert_eq!(mail_count(state).await, 7, "an hour later, help again");
    server.stop().await;
}

async fn a_teacher_chooses_a_new_staff_password_through_the_helper(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let mail = forgot_password(&world, "teacher1").await;
    assert_eq!(mail.to, ["teacher1@staff.demo-primary.example"]);
    let (reset, sign_in) = links_in(&mail, &state.settings.public_url);
    assert_eq!(sign_in, None, "staff sign in with the app, not with a link");
    let short = login_help::reset_with_link(
        state,
        &demo(state).await,
        reset.as_deref().unwrap(),
        Sensitive::new("short".into()),
        &Device::default(),
    )
    .await
    .unwrap_err();
    assert!(
        short.to_string().contains("at least 10 characters"),
        "staff passwords need 10 characters: {short}"
    );
    let done = reset_with(state, &reset.unwrap(), "a-long-new-staff-password")
        .await
        .unwrap();
    assert!(matches!(done, ResetDone::Staff));
    let sign_in = |password: &str| SignInRequest {
        school: Some("demo".into()),
        username: "teacher1".into(),
        password: password.into(),
        device_token: None,
    };
    assert!(world.anon.sign_in(&sign_in(DEMO_PASSWORD)).await.is_err());
    world
        .anon
        .sign_in(&sign_in("a-long-new-staff-password"))
        .await
        .expect("the new staff password signs in");
    assert_eq!(
        world.teacher1.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated),
        "the old staff sessions ended"
    );
    world.stop().await;
}

async fn a_sign_in_link_works_for_the_schools_chosen_time_and_no_longer(backend: Backend) {
    let world = World::start(backend).await;
    let state = world.server.state();
    let (learner, _) = learner_with_email(&world, "2 Foxes").await;
    let school = demo(state).await;
    let question = Question::Password {
        username: learner.username.clone(),
    };
    let sign_in_link = |mail: &Mail| links_in(mail, &state.settings.public_url).1.unwrap();
    let works = async |token: &str| {
        classkeys_server::links::inspect(state, Link::SignIn, &school.id, token)
            .await
            .unwrap()
    };

    // 24 hours unless the school says otherwise.
    ask(state, question.clone()).await;
    let first = sign_in_link(&world.server.mail_in_outbox(1).await[0]);
    world
        .server
        .advance_clock(Duration::from_secs(24 * 60 * 60 - 60));
    assert!(works(&first).await.is_ok(), "a minute before 24 hours");
    world.server.advance_clock(Duration::from_secs(61));
    assert_eq!(works(&first).await.err(), Some(Refusal::Expired));

    // A school that chose 48 hours.
    let mut conn = state.db.pool().acquire().await.unwrap();
    classkeys_server::admin::set_school_look(
        &mut conn,
        "demo",
        classkeys_server::admin::SchoolLook {
            sign_in_link_hours: Some(48),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    drop(conn);
    ask(state, question).await;
    let second = sign_in_link(&world.server.mail_in_outbox(2).await[1]);
    world
        .server
        .advance_clock(Duration::from_secs(47 * 60 * 60));
    assert!(works(&second).await.is_ok(), "47 hours on");
    world.server.advance_clock(Duration::from_secs(60 * 60 + 1));
    assert_eq!(works(&second).await.err(), Some(Refusal::Expired));
    assert!(
        world.server.mail_in_outbox(2).await[1]
            .body
            .contains("for 48 hours"),
        "the message says how long"
    );
    world.stop().await;
}
