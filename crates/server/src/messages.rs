//! Messages from a teacher to learners: one learner, several, or a class they may see.
//!
//! Each recipient's copy is theirs alone: every `[loginLink]` in the body becomes a sign-in
//! link issued for that recipient (single use, for the school's sign-in link lifetime), so a
//! forwarded message signs in nobody else. The sender's own copy keeps the literal tag.
//! Learners without an email address (or deactivated) are reported as not reached.
//!
//! Everything happens in one transaction — the permission checks, the links, the queued
//! mail and the audit entry naming who sent links to whom — so either all of it or none.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use classkeys_domain::identity::Email;
use classkeys_domain::ids::LearnerId;
use classkeys_domain::policy::{Action, Actor};
use classkeys_protocol::credentials::AuditAction;
use classkeys_protocol::messages::{
    Delivery, LOGIN_LINK_TAG, MAX_BODY_CHARS, MAX_RECIPIENTS, MAX_SUBJECT_CHARS, MessageReport,
    MessageStatus, NewMessage, Recipient,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use sqlx::AnyConnection;

use crate::access::{self, LearnerColumns};
use crate::audit::{self, AuditActor, Device};
use crate::auth::{Authenticated, Holder};
use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiPath};
use crate::links::{self, Link};
use crate::mail_queue::{Letter, Message, Sender};
use crate::records::lead_flag;
use crate::state::AppState;
use crate::stored::{MailKind, MailState, Sql, Status, SubjectKind};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MESSAGES, post(message_send))
        .route(paths::MESSAGE.template(), get(message_status))
}

/// Sends a message to learners by mail.
#[utoipa::path(post, path = paths::MESSAGES, tag = "messages",
    security(("bearer" = [])),
    request_body = NewMessage,
    responses(
        (status = 200, body = MessageReport, description = "Queued; who was reached and who not"),
        (status = 400, body = ErrorBody, description = "No recipient, or an empty or too long subject or body"),
        (status = 404, body = ErrorBody, description = "A class or learner the caller may not see"),
    ))]
pub(crate) async fn message_send(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(message): ApiJson<NewMessage>,
) -> Result<ApiJson<MessageReport>> {
    send(&state, &auth.actor, &auth.device, message)
        .await
        .map(ApiJson)
}

/// Where each copy of a message is: for its sender, and for the school's lead teachers.
#[utoipa::path(get, path = paths::MESSAGE.template(), tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The message id a send answered")),
    responses(
        (status = 200, body = MessageStatus, description = "Every copy and what became of it"),
        (status = 404, body = ErrorBody, description = "No such message, or not the caller's"),
    ))]
pub(crate) async fn message_status(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiJson<MessageStatus>> {
    let actor = &auth.actor;
    let rows: Vec<CopyRow> = sqlx::query_as(
        "SELECT m.subject_kind, m.subject_id, m.to_address, m.state, m.sent_at, m.last_error,
                l.given_name, l.family_name
         FROM mail m LEFT JOIN learner l ON l.id = m.subject_id AND m.subject_kind = $4
         WHERE m.message_id = $1 AND m.school_id = $2 AND (m.sent_by = $3 OR $5 = 1)
         ORDER BY m.subject_kind, l.sort_key, m.id",
    )
    .bind(&id)
    .bind(actor.school_id.to_string())
    .bind(actor.staff_id.to_string())
    .bind(Sql(SubjectKind::Learner))
    .bind(lead_flag(actor))
    .fetch_all(state.db.pool())
    .await?;
    if rows.is_empty() {
        return Err(Error::not_found("message"));
    }
    let mut copies = Vec::with_capacity(rows.len());
    for row in rows {
        let learner = row
            .subject_kind
            .is_some_and(|k| k.0 == SubjectKind::Learner);
        copies.push(Delivery {
            learner_id: match (learner, &row.subject_id) {
                (true, Some(id)) => Some(parse_id(id)?),
                _ => None,
            },
            name: match (row.given_name, row.family_name) {
                (Some(given), Some(family)) if learner => format!("{given} {family}"),
                _ => "Your copy".to_owned(),
            },
            to: row.to_address,
            state: row.state.0,
            sent_at: row.sent_at,
            error: row.last_error,
        });
    }
    // The sender's copy last.
    copies.sort_by_key(|c| c.learner_id.is_none());
    Ok(ApiJson(MessageStatus {
        message_id: id,
        copies,
    }))
}

#[derive(sqlx::FromRow)]
struct CopyRow {
    subject_kind: Option<Sql<SubjectKind>>,
    subject_id: Option<String>,
    to_address: String,
    state: Sql<MailState>,
    sent_at: Option<i64>,
    last_error: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

/// A learner as a message needs them.
#[derive(sqlx::FromRow, Clone)]
struct Addressee {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    credential_epoch: i64,
}

impl LearnerColumns for Addressee {
    const COLUMNS: &'static str =
        "l.id, l.username, l.given_name, l.family_name, l.email, l.status, l.credential_epoch";
}

impl Addressee {
    fn recipient(&self) -> Result<Recipient> {
        Ok(Recipient {
            learner_id: parse_id(&self.id)?,
            username: self.username.clone(),
            name: format!("{} {}", self.given_name, self.family_name),
        })
    }

    /// The address to write to, if the learner can be reached.
    fn address(&self) -> Option<Email> {
        (self.status.0 == Status::Active)
            .then(|| self.email.as_deref().and_then(|e| Email::parse(e).ok()))
            .flatten()
    }
}

/// Sends `message` as `actor`: the rule behind the route.
pub async fn send(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    message: NewMessage,
) -> Result<MessageReport> {
    let subject = checked_subject(&message.subject)?;
    let body = checked_body(&message.body)?;
    if message.class_id.is_none() && message.learner_ids.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "name a class or at least one learner to send the message to",
        ));
    }
    if message.learner_ids.len() > MAX_RECIPIENTS {
        return Err(too_many());
    }
    let school_id = actor.school_id.to_string();
    let mut tx = state.db.begin_write().await?;
    let addressees = addressees(&mut tx, actor, &message).await?;
    let lifetime = links::sign_in_link_lifetime(&mut tx, &school_id).await?;
    let sender = Sender::load(&mut tx, state, &school_id).await?;
    let slug: String = sqlx::query_scalar("SELECT slug FROM school WHERE id = $1")
        .bind(&school_id)
        .fetch_one(&mut *tx)
        .await?;
    let with_links = body.contains(LOGIN_LINK_TAG);
    let message_id = uuid::Uuid::now_v7().to_string();
    let sender_id = actor.staff_id.to_string();
    let tag = Message {
        id: &message_id,
        sent_by: &sender_id,
    };

    let mut report = MessageReport {
        message_id: message_id.clone(),
        sent: Vec::new(),
        not_reached: Vec::new(),
        copy_sent: false,
        with_links,
    };
    let mut reached = Vec::new();
    for learner in &addressees {
        let Some(address) = learner.address() else {
            report.not_reached.push(learner.recipient()?);
            continue;
        };
        let personal = if with_links {
            let holder = Holder {
                kind: SubjectKind::Learner,
                school_id: school_id.clone(),
                subject_id: learner.id.clone(),
                epoch: learner.credential_epoch,
            };
            let token = links::issue(&mut tx, state, Link::SignIn, &holder, lifetime).await?;
            body.replace(
                LOGIN_LINK_TAG,
                &Link::SignIn.url(state, &slug, token.expose()),
            )
        } else {
            body.to_owned()
        };
        sender
            .queue(
                &mut tx,
                state,
                Letter {
                    kind: MailKind::Message,
                    about: Some((SubjectKind::Learner, &learner.id)),
                    to: address.as_str(),
                    title: subject,
                    body: &personal,
                    message: Some(tag),
                },
            )
            .await?;
        report.sent.push(learner.recipient()?);
        reached.push(learner.id.clone());
    }

    if message.cc_me {
        let own: Option<String> = sqlx::query_scalar("SELECT email FROM staff WHERE id = $1")
            .bind(actor.staff_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if let Some(own) = own.as_deref().and_then(|e| Email::parse(e).ok()) {
            let staff_id = actor.staff_id.to_string();
            sender
                .queue(
                    &mut tx,
                    state,
                    Letter {
                        kind: MailKind::MessageCopy,
                        about: Some((SubjectKind::Staff, &staff_id)),
                        to: own.as_str(),
                        title: subject,
                        body,
                        message: Some(tag),
                    },
                )
                .await?;
            report.copy_sent = true;
        }
    }

    audit::record(
        &mut tx,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: AuditAction::MessageSent,
            class_id: message.class_id.map(|c| c.to_string()).as_deref(),
            learners: &reached,
            detail: serde_json::json!({
                "sign_in_links": with_links,
                "not_reached": report.not_reached.len(),
                "copy_to_sender": report.copy_sent,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    state.mail.wake();
    tracing::info!(
        sent = report.sent.len(),
        not_reached = report.not_reached.len(),
        with_links,
        "message queued"
    );
    Ok(report)
}

/// The learners a message goes to, each checked against the policy: the named ones, then
/// the class's active learners, each once.
async fn addressees(
    conn: &mut AnyConnection,
    actor: &Actor,
    message: &NewMessage,
) -> Result<Vec<Addressee>> {
    let mut found: Vec<Addressee> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &id in &message.learner_ids {
        if seen.insert(id) {
            found.push(access::learner(conn, actor, id, Action::MessageSend).await?);
        }
    }
    if let Some(class_id) = message.class_id {
        let class = access::class(conn, actor, class_id, Action::MessageSend).await?;
        let sql = format!(
            "SELECT {} FROM enrollment e JOIN learner l ON l.id = e.learner_id
             WHERE e.class_id = $1 AND l.status = $2 ORDER BY l.sort_key, l.id",
            Addressee::COLUMNS
        );
        let members: Vec<Addressee> = sqlx::query_as(&sql)
            .bind(&class.id)
            .bind(Sql(Status::Active))
            .fetch_all(&mut *conn)
            .await?;
        for member in members {
            let id: LearnerId = parse_id(&member.id)?;
            if seen.insert(id) {
                found.push(member);
            }
        }
    }
    if found.len() > MAX_RECIPIENTS {
        return Err(too_many());
    }
    Ok(found)
}

fn too_many() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        format!("a message can go to at most {MAX_RECIPIENTS} learners at once"),
    )
}

fn checked_subject(raw: &str) -> Result<&str> {
    let subject = raw.trim();
    let refuse = |why: String| Err(Error::new(ErrorCode::InvalidInput, why).with_field("subject"));
    if subject.is_empty() {
        return refuse("the message needs a subject".into());
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return refuse(format!(
            "a subject can have at most {MAX_SUBJECT_CHARS} characters"
        ));
    }
    if subject.chars().any(char::is_control) {
        return refuse("a subject is one line, without control characters".into());
    }
    Ok(subject)
}

fn checked_body(raw: &str) -> Result<&str> {
    let refuse = |why: String| Err(Error::new(ErrorCode::InvalidInput, why).with_field("body"));
    if raw.trim().is_empty() {
        return refuse("the message is empty".into());
    }
    if raw.chars().count() > MAX_BODY_CHARS {
        return refuse(format!(
            "a message can have at most {MAX_BODY_CHARS} characters"
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return refuse("the message holds control characters".into());
    }
    Ok(raw)
}
