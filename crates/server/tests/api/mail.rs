//! Mail leaves through the queue: into the outbox folder by default, through a real SMTP
//! server (STARTTLS under a throwaway CA, with a login) when one is set, and nothing is lost
//! while the mail server is down or the server restarts.

use std::time::Duration;

use classkeys_server::mail_queue::{self, Letter, Sender};
use classkeys_server::mailer::MailRoute;
use classkeys_server::stored::MailKind;
use classkeys_server::{AppState, Backend, Settings};
use classkeys_testsupport::{Mail, SmtpOptions, SmtpServer, TestServer, eventually, read_outbox};

use crate::on_both_backends;

on_both_backends!(
    mail_is_written_to_the_outbox_from_the_school,
    mail_queued_while_smtp_is_down_arrives_after_it_returns_and_after_a_restart,
);

/// Queues a message from the demo school, as a feature that sends mail does.
async fn queue(state: &AppState, to: &str, title: &str, body: &str) -> String {
    let school_id: String = sqlx::query_scalar("SELECT id FROM school WHERE slug = 'demo'")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    let mut tx = state.db.pool().begin().await.unwrap();
    let sender = Sender::load(&mut tx, state, &school_id).await.unwrap();
    let id = sender
        .queue(
            &mut tx,
            state,
            Letter {
                kind: MailKind::Message,
                about: None,
                to,
                title,
                body,
                message: None,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    state.mail.wake();
    id
}

#[derive(Debug, sqlx::FromRow, PartialEq)]
struct Row {
    state: String,
    attempts: i64,
    body_sealed: Option<String>,
    last_error: Option<String>,
}

async fn row(state: &AppState, id: &str) -> Row {
    sqlx::query_as("SELECT state, attempts, body_sealed, last_error FROM mail WHERE id = $1")
        .bind(id)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

fn through(smtp: &SmtpServer) -> Settings {
    smtp.settings()
}

async fn mail_is_written_to_the_outbox_from_the_school(backend: Backend) {
    let server = TestServer::start_demo(backend).await;
    let body = "Hello Zoë,\n\nΚαλημέρα! Your class starts at nine.\n";
    let id = queue(
        server.state(),
        "zoe@demo.example",
        "Class starts at nine",
        body,
    )
    .await;
    let outbox = server.outbox();
    let mail = eventually("the message is in the outbox", async || {
        let mut messages = read_outbox(&outbox);
        messages.pop().ok_or("no message yet")
    })
    .await;
    assert_eq!(mail.subject, "Class starts at nine");
    assert_eq!(mail.to, ["zoe@demo.example"]);
    assert!(
        mail.from.starts_with("\"Demo Primary\" <classkeys@"),
        "the sender's name is the school's: {}",
        mail.from
    );
    assert_eq!(
        mail.body.trim_end(),
        body.trim_end(),
        "names in any script survive"
    );
    assert!(
        std::fs::exists(outbox.join(format!("{id}.eml"))).unwrap(),
        "the file is named after the message, so sending it again writes one file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(outbox.join(format!("{id}.eml")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "messages hold links: only the owner reads them"
        );
    }
    let sent = eventually("the message is marked sent", async || {
        let row = row(server.state(), &id).await;
        if row.state == "sent" {
            Ok(row)
        } else {
            Err(row)
        }
    })
    .await;
    assert_eq!(sent.body_sealed, None, "a sent message's body is not kept");
    server.stop().await;
}

async fn mail_queued_while_smtp_is_down_arrives_after_it_returns_and_after_a_restart(
    backend: Backend,
) {
    let mut smtp = SmtpServer::start(SmtpOptions::default()).await;
    smtp.pause().await;
    let mut server = TestServer::start_demo_with(backend, through(&smtp)).await;
    let body = "Your sign-in link: http://example.invalid/secret-link-123";
    let id = queue(server.state(), "ada@demo.example", "Sign in", body).await;

    let waiting = eventually("the first attempt fails", async || {
        let row = row(server.state(), &id).await;
        if row.attempts >= 1 && row.last_error.is_some() {
            Ok(row)
        } else {
            Err(row)
        }
    })
    .await;
    assert_eq!(
        waiting.state, "queued",
        "a mail server that is down is tried again"
    );
    let sealed = waiting
        .body_sealed
        .expect("the body waits with the message");
    assert!(sealed.starts_with("s1."), "the body is sealed: {sealed}");
    assert!(
        !sealed.contains("secret-link"),
        "no link in the clear in the database"
    );

    // The server stops while the message waits, and starts again once mail works.
    server.pause().await;
    smtp.resume().await;
    server.resume().await;
    server.advance_clock(mail_queue::FIRST_PAUSE + Duration::from_secs(1));
    let mails: Vec<Mail> = smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Sign in");
    assert_eq!(mails[0].body.trim_end(), body);
    assert_eq!(mails[0].from, "\"Demo Primary\" <classkeys@demo.example>");
    eventually("the message is marked sent", async || {
        let row = row(server.state(), &id).await;
        if row.state == "sent" {
            Ok(())
        } else {
            Err(row)
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_through_smtp_with_starttls_and_a_login() {
    let smtp = SmtpServer::start(SmtpOptions {
        starttls: true,
        login: Some(("classkeys".into(), "mail-password".into())),
    })
    .await;
    let server = TestServer::start_demo_with(Backend::Sqlite, through(&smtp)).await;
    queue(
        server.state(),
        "bea@demo.example",
        "Over TLS",
        "Sent over STARTTLS.",
    )
    .await;
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].subject, "Over TLS");
    assert_eq!(mails[0].to, ["bea@demo.example"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_smtp_password_keeps_the_message_waiting() {
    let smtp = SmtpServer::start(SmtpOptions {
        starttls: true,
        login: Some(("classkeys".into(), "mail-password".into())),
    })
    .await;
    let mut settings = through(&smtp);
    settings.mail.route = MailRoute::Smtp {
        url: smtp.url().replace("mail-password", "wrong").into(),
        ca_file: smtp.ca_file(),
    };
    let server = TestServer::start_demo_with(Backend::Sqlite, settings).await;
    let id = queue(server.state(), "bea@demo.example", "Hello", "Hello.").await;
    let row = eventually("the attempt fails", async || {
        let row = row(server.state(), &id).await;
        if row.last_error.is_some() {
            Ok(row)
        } else {
            Err(row)
        }
    })
    .await;
    assert_eq!(
        row.state, "queued",
        "a login refused is a setting to fix, not a reason to give the message up"
    );
    assert!(row.body_sealed.is_some());
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("535"),
        "{:?}",
        row.last_error
    );
    assert!(smtp.messages().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_the_mail_server_refuses_is_marked_refused_and_not_tried_again() {
    let smtp = SmtpServer::start(SmtpOptions::default()).await;
    let server = TestServer::start_demo_with(Backend::Sqlite, through(&smtp)).await;
    let id = queue(server.state(), "nobody@refused.example", "Hello", "Hello.").await;
    let refused = eventually("the message is refused", async || {
        let row = row(server.state(), &id).await;
        if row.state == "refused" {
            Ok(row)
        } else {
            Err(row)
        }
    })
    .await;
    assert_eq!(refused.attempts, 1);
    assert!(
        refused
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "the mail server's answer is kept for the teacher: {:?}",
        refused.last_error
    );
    assert_eq!(refused.body_sealed, None);
    // Moving the clock far on does not bring it back.
    server.advance_clock(mail_queue::LONGEST_PAUSE * 2);
    let done = mail_queue::deliver_due(server.state()).await.unwrap();
    assert_eq!(done, mail_queue::Delivered::default());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_leave_for_days_is_given_up() {
    let mut smtp = SmtpServer::start(SmtpOptions::default()).await;
    smtp.pause().await;
    let server = TestServer::start_demo_with(Backend::Sqlite, through(&smtp)).await;
    let id = queue(server.state(), "ada@demo.example", "Hello", "Hello.").await;
    eventually("the first attempt fails", async || {
        let row = row(server.state(), &id).await;
        if row.attempts >= 1 && row.last_error.is_some() {
            Ok(())
        } else {
            Err(row)
        }
    })
    .await;
    server.advance_clock(mail_queue::GIVE_UP_AFTER + Duration::from_secs(1));
    let failed = eventually("the message is given up", async || {
        let row = row(server.state(), &id).await;
        if row.state == "failed" {
            Ok(row)
        } else {
            Err(row)
        }
    })
    .await;
    assert_eq!(failed.body_sealed, None);
    server.stop().await;
}
