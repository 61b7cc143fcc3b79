//! The school's own pages in a real browser (headless Chromium), against a real demo server:
//! what a learner does to sign in, and to get back in when they forgot how.
//!
//! Runs with the other end-to-end tests (`./scripts/test`); needs `chromium` and
//! `chromium-driver`, and no display.

use classkeys_client::Client;
use classkeys_e2e::{Browser, TestServer};
use classkeys_protocol::credentials::{LearnerPasswordReset, PasswordSource};
use classkeys_protocol::roster::{LearnerQuery, LearnerRecord};
use classkeys_server::Backend;

/// A demo server and the lead teacher's API client.
async fn school() -> (TestServer, Client) {
    let server = TestServer::start_demo(Backend::Sqlite).await;
    let lead = server.staff_client("lead").await;
    (server, lead)
}

/// An active learner of class `class` (with an email address if `with_email`), given
/// `password` by the lead teacher.
async fn learner(
    lead: &Client,
    class: &str,
    with_email: bool,
    password: &str,
    must_change: bool,
) -> LearnerRecord {
    let class_id = lead
        .classes()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == class)
        .unwrap()
        .id;
    let learner = lead
        .learners(&LearnerQuery {
            class_id: Some(class_id),
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|l| l.email.is_some() == with_email)
        .expect("a demo learner");
    lead.learner_password_reset(
        learner.id,
        &LearnerPasswordReset {
            password: password.into(),
            source: PasswordSource::Typed,
            must_change,
        },
    )
    .await
    .unwrap();
    learner
}

async fn sign_in(browser: &Browser, username: &str, password: &str) {
    browser.visit("/s/demo/sign-in").await;
    browser.fill("username", username).await;
    browser.fill("password", password).await;
    browser.press("Sign in").await;
}

#[tokio::test]
async fn a_learner_signs_in_sees_their_account_and_signs_out() {
    let (server, lead) = school().await;
    let learner = learner(&lead, "3 Badgers", false, "otter-velvet-brisk-9", false).await;
    let browser = Browser::open(&server.url).await;

    browser.visit("/s/demo/").await;
    assert!(browser.text().await.contains("Demo Primary"));
    browser.follow("Sign in").await;
    assert_eq!(browser.unlabelled_fields().await, Vec::<String>::new());
    browser.screenshot("pages-sign-in").await;
    browser.fill("username", &learner.username).await;
    browser.fill("password", "otter-velvet-brisk-9").await;
    browser.press("Sign in").await;

    assert_eq!(browser.path().await, "/s/demo/account");
    let text = browser.text().await;
    assert!(text.contains(&format!("{} {}", learner.given_name, learner.family_name)));
    assert!(text.contains(&learner.username));
    assert!(text.contains("3 Badgers"));
    assert_eq!(browser.unlabelled_fields().await, Vec::<String>::new());
    browser.screenshot("pages-account").await;

    browser.press("Sign out").await;
    assert_eq!(browser.path().await, "/s/demo/sign-in?signed_out");
    assert!(browser.text().await.contains("You are signed out."));
    browser.visit("/s/demo/account").await;
    assert_eq!(
        browser.path().await,
        "/s/demo/sign-in",
        "signed out for good"
    );
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_learner_who_must_change_their_password_does_that_first() {
    let (server, lead) = school().await;
    let learner = learner(&lead, "4B", false, "given-by-teacher-4", true).await;
    let browser = Browser::open(&server.url).await;

    sign_in(&browser, &learner.username, "given-by-teacher-4").await;
    assert_eq!(browser.path().await, "/s/demo/account");
    let text = browser.text().await;
    assert!(text.contains("Your teacher asked you to choose a new password"));
    assert!(!text.contains("Classes"), "nothing else until it is done");
    browser.fill("current", "given-by-teacher-4").await;
    browser.fill("new", "my-own-choice-77").await;
    browser.fill("again", "my-own-choice-77").await;
    browser.press("Save the new password").await;

    assert_eq!(browser.path().await, "/s/demo/account?changed");
    let text = browser.text().await;
    assert!(text.contains("Your password is changed"));
    assert!(text.contains("Classes") && text.contains("4B"));
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn the_wrong_places_explain_themselves() {
    let (server, _lead) = school().await;
    let browser = Browser::open(&server.url).await;

    browser.visit("/s/demo/sign-up").await;
    assert!(
        browser
            .text()
            .await
            .contains("Accounts are made by your school")
    );
    browser.follow("Sign in").await;
    assert_eq!(browser.path().await, "/s/demo/sign-in");

    browser.visit("/s/st-nowhere/sign-in").await;
    let text = browser.text().await;
    assert!(text.contains("There is no school at the address"));
    browser.fill("q", "demo").await;
    browser.press("Find").await;
    browser.follow("Demo Primary").await;
    assert_eq!(browser.path().await, "/s/demo/");

    sign_in(&browser, "nobody.at.all", "wrong-password").await;
    assert!(browser.text().await.contains(
        "Wrong username or password. You are signing in to Demo Primary: is this your school?"
    ));
    browser.screenshot("pages-wrong-password").await;
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_learner_who_forgot_their_password_gets_back_in_through_the_mail() {
    let (server, lead) = school().await;
    let learner = learner(&lead, "5 Kestrels", true, "the-old-password-1", false).await;
    let browser = Browser::open(&server.url).await;

    browser.visit("/s/demo/sign-in").await;
    browser.follow("Forgot your username or password?").await;
    assert_eq!(browser.unlabelled_fields().await, Vec::<String>::new());
    browser.screenshot("pages-help").await;
    browser.fill("username", &learner.username).await;
    browser.press("Send me the links").await;
    assert!(browser.text().await.contains("check your spam folder"));

    let mails = server.mail_in_outbox(1).await;
    assert_eq!(mails[0].to, [learner.email.clone().unwrap()]);
    let public = &server.state().settings.public_url;
    let reset = mails[0].links(&format!("{public}/s/demo/reset/"));
    browser.visit(&reset[0]).await;
    assert!(
        browser
            .text()
            .await
            .contains(&format!("Choose a new password for {}", learner.username))
    );
    browser.fill("new", "a-fresh-start-42").await;
    browser.fill("again", "a-fresh-start-42").await;
    browser.press("Save the new password").await;
    assert_eq!(browser.path().await, "/s/demo/account?changed");
    assert!(browser.text().await.contains(&learner.username));
    browser.press("Sign out").await;

    sign_in(&browser, &learner.username, "the-old-password-1").await;
    assert!(
        browser.text().await.contains("Wrong username or password"),
        "the old password is refused"
    );
    sign_in(&browser, &learner.username, "a-fresh-start-42").await;
    assert_eq!(browser.path().await, "/s/demo/account");

    // The link worked once.
    browser.visit(&reset[0]).await;
    assert!(browser.text().await.contains("This link no longer works"));
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_learner_who_forgot_their_username_gets_it_by_mail() {
    let (server, lead) = school().await;
    let learner = learner(&lead, "6 Herons", true, "not-used-here-3", false).await;
    let browser = Browser::open(&server.url).await;

    browser.visit("/s/demo/help").await;
    browser
        .fill("email", learner.email.as_deref().unwrap())
        .await;
    browser.press("Send my username").await;
    assert!(browser.text().await.contains("Check your email"));
    let mails = server.mail_in_outbox(1).await;
    assert!(
        mails[0]
            .body
            .contains(&format!("Your username is: {}", learner.username)),
        "{}",
        mails[0].body
    );
    browser.close().await;
    server.stop().await;
}
