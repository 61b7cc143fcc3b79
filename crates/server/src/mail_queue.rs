//! The mail queue: every message is written to the database first and sent from there, so
//! nothing is lost when the mail server is down or this server restarts.
//!
//! A message is queued in the same transaction as the change it reports (a link issued, a
//! teacher's message), so either both happen or neither. Its body is sealed under the
//! school's data key, because it can hold a sign-in or reset link, and dropped once the
//! message has left; the row stays, so a teacher can tell whether mail reached a learner.
//!
//! Delivery runs in the background (`run`): woken when a message is queued, and every few
//! seconds anyway (another server instance may have queued it). Each attempt first claims
//! its message by moving `next_attempt_at` past a lease, with the value it read as the
//! condition, so two instances never send the same message at once; an instance that stops
//! mid-send leaves the message to be tried again when the lease runs out. A failure the
//! mail server calls permanent marks the message refused; any other is tried again after
//! a growing pause, for up to [`GIVE_UP_AFTER`]. Delivery is at least once: a message sent
//! just before a crash may be sent again (the outbox names its files after the message, so
//! there it is written once).

use std::collections::HashMap;
use std::time::Duration;

use classkeys_domain::sealing::{self, Field, Scope, SealContext, SealedSecret, SealingKey};
use sqlx::AnyConnection;

use crate::clock::millis;
use crate::error::{Error, Result};
use crate::mailer::{Outgoing, SendError};
use crate::state::AppState;
use crate::stored::{MailKind, MailState, Sql, SubjectKind};

/// How often delivery looks for due messages when nothing woke it.
pub const POLL_EVERY: Duration = Duration::from_secs(5);
/// The pause after a first failed attempt; each further failure doubles it, up to
/// [`LONGEST_PAUSE`].
pub const FIRST_PAUSE: Duration = Duration::from_secs(30);
/// The longest pause between attempts.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(60 * 60);
/// How long a message is tried before it is given up (and marked failed).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 60 * 60);
/// How long an attempt holds its message: longer than an SMTP conversation may take.
const LEASE: Duration = Duration::from_secs(5 * 60);
/// Messages claimed per round.
const BATCH: i64 = 20;

/// A message to queue.
pub struct Letter<'a> {
    pub kind: MailKind,
    /// The account it is sent about, if any.
    pub about: Option<(SubjectKind, &'a str)>,
    pub to: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// The teacher's message it is a copy of, if any.
    pub message: Option<Message<'a>>,
}

/// A teacher's message, which a letter is one copy of.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The message's id.
    pub id: &'a str,
    /// The member of staff who sent it.
    pub sent_by: &'a str,
}

/// A school as the sender of mail: its name (the sender's) and its key (to seal bodies).
pub struct Sender {
    school_id: String,
    name: String,
    key: SealingKey,
}

impl Sender {
    /// The school `school_id` as a sender.
    pub async fn load(conn: &mut AnyConnection, state: &AppState, school_id: &str) -> Result<Self> {
        let (name, wrapped): (String, String) =
            sqlx::query_as("SELECT name, wrapped_data_key FROM school WHERE id = $1")
                .bind(school_id)
                .fetch_one(&mut *conn)
                .await?;
        let key = state
            .keys
            .school_key(school_id, &wrapped)
            .map_err(Error::internal)?;
        Ok(Self {
            school_id: school_id.to_owned(),
            name,
            key,
        })
    }

    /// The school's name, as mail is signed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues `letter` on `conn` (the caller's transaction) and returns its id. Ring
    /// [`Mailer::wake`](crate::mailer::Mailer::wake) once the transaction has committed.
    pub async fn queue(
        &self,
        conn: &mut AnyConnection,
        state: &AppState,
        letter: Letter<'_>,
    ) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        let sealed = state.rng.with(|rng| {
            sealing::seal(
                &self.key,
                &body_context(&self.school_id, &id),
                letter.body,
                rng,
            )
        });
        let now = state.clock.now_ms();
        let (about_kind, about_id) = letter.about.unzip();
        sqlx::query(
            "INSERT INTO mail (id, school_id, kind, subject_kind, subject_id, from_name,
                               to_address, title, body_sealed, state, next_attempt_at, created_at,
                               message_id, sent_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
        )
        .bind(&id)
        .bind(&self.school_id)
        .bind(Sql(letter.kind))
        .bind(about_kind.map(Sql))
        .bind(about_id)
        .bind(&self.name)
        .bind(letter.to)
        .bind(letter.title)
        .bind(sealed.as_str())
        .bind(Sql(MailState::Queued))
        .bind(now)
        .bind(letter.message.map(|m| m.id))
        .bind(letter.message.map(|m| m.sent_by))
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }
}

/// What a body is bound to: its school and its message.
fn body_context<'a>(school_id: &'a str, mail_id: &'a str) -> SealContext<'a> {
    SealContext {
        scope: Scope::School,
        owner: school_id,
        learner: mail_id,
        epoch: 0,
        field: Field::MailBody,
    }
}

/// Delivers due messages until the server stops.
pub(crate) async fn run(state: AppState) {
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = ?e.into_body().message, "delivering queued mail failed");
        }
        tokio::select! {
            () = state.mail.woken() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Failed for now; tried again later.
    pub deferred: usize,
    /// Refused for good, or given up.
    pub undeliverable: usize,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    school_id: String,
    from_name: String,
    to_address: String,
    title: String,
    body_sealed: Option<String>,
    attempts: i64,
    next_attempt_at: i64,
    created_at: i64,
}

/// Sends every message that is due now, once each.
pub async fn deliver_due(state: &AppState) -> Result<Delivered> {
    let mut done = Delivered::default();
    let mut keys: HashMap<String, SealingKey> = HashMap::new();
    loop {
        let now = state.clock.now_ms();
        let due: Vec<Due> = sqlx::query_as(
            "SELECT id, school_id, from_name, to_address, title, body_sealed, attempts,
                    next_attempt_at, created_at
             FROM mail WHERE state = $1 AND next_attempt_at <= $2
             ORDER BY next_attempt_at LIMIT $3",
        )
        .bind(Sql(MailState::Queued))
        .bind(now)
        .bind(BATCH)
        .fetch_all(state.db.pool())
        .await?;
        if due.is_empty() {
            return Ok(done);
        }
        for message in due {
            if !claim(state, &message, now).await? {
                continue;
            }
            let key = match keys.get(&message.school_id) {
                Some(key) => key,
                None => {
                    let mut conn = state.db.pool().acquire().await?;
                    let sender = Sender::load(&mut conn, state, &message.school_id).await?;
                    keys.entry(message.school_id.clone()).or_insert(sender.key)
                }
            };
            let outcome = match open_body(key, &message) {
                Ok(body) => {
                    state
                        .mail
                        .send(Outgoing {
                            id: &message.id,
                            from_name: &message.from_name,
                            to: &message.to_address,
                            title: &message.title,
                            body: body.expose(),
                        })
                        .await
                }
                Err(reason) => Err(SendError::Permanent(reason)),
            };
            record(state, &message, outcome, &mut done).await?;
        }
    }
}

/// Takes `message` for this attempt; false if another attempt took it first.
async fn claim(state: &AppState, message: &Due, now: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE mail SET next_attempt_at = $1, attempts = attempts + 1
         WHERE id = $2 AND state = $3 AND next_attempt_at = $4",
    )
    .bind(now + millis(LEASE))
    .bind(&message.id)
    .bind(Sql(MailState::Queued))
    .bind(message.next_attempt_at)
    .execute(state.db.pool())
    .await?;
    Ok(claimed.rows_affected() == 1)
}

fn open_body(
    key: &SealingKey,
    message: &Due,
) -> std::result::Result<classkeys_domain::secret::Sensitive<String>, String> {
    let sealed = message
        .body_sealed
        .clone()
        .ok_or_else(|| "the message has no body".to_owned())?;
    let sealed = SealedSecret::parse(sealed).map_err(|e| format!("the body is damaged: {e}"))?;
    sealing::open(key, &body_context(&message.school_id, &message.id), &sealed)
        .map_err(|e| format!("the body cannot be opened: {e}"))
}

/// Writes down how the attempt at `message` went.
async fn record(
    state: &AppState,
    message: &Due,
    outcome: std::result::Result<(), SendError>,
    done: &mut Delivered,
) -> Result<()> {
    let now = state.clock.now_ms();
    let given_up = now - message.created_at >= millis(GIVE_UP_AFTER);
    let (new_state, next, error) = match outcome {
        Ok(()) => {
            done.sent += 1;
            tracing::info!(mail = %message.id, "mail sent");
            (MailState::Sent, now, None)
        }
        Err(SendError::Permanent(reason)) => {
            done.undeliverable += 1;
            tracing::warn!(mail = %message.id, %reason, "mail refused");
            (MailState::Refused, now, Some(reason))
        }
        Err(SendError::Transient(reason)) if given_up => {
            done.undeliverable += 1;
            tracing::warn!(mail = %message.id, %reason, "mail given up");
            (MailState::Failed, now, Some(reason))
        }
        Err(SendError::Transient(reason)) => {
            done.deferred += 1;
            tracing::info!(mail = %message.id, %reason, "mail deferred");
            let next = now + millis(pause_after(message.attempts + 1));
            (MailState::Queued, next, Some(reason))
        }
    };
    // A message that will not be tried again has no more use for its body (or its links).
    let finished = new_state != MailState::Queued;
    sqlx::query(
        "UPDATE mail SET state = $1, next_attempt_at = $2, last_error = $3, sent_at = $4,
            body_sealed = CASE WHEN $5 = 1 THEN NULL ELSE body_sealed END
         WHERE id = $6",
    )
    .bind(Sql(new_state))
    .bind(next)
    .bind(error)
    .bind((new_state == MailState::Sent).then_some(now))
    .bind(i64::from(finished))
    .bind(&message.id)
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// The pause after `attempts` failed attempts: 30 s, 1 min, 2 min, … up to an hour.
pub fn pause_after(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    FIRST_PAUSE
        .saturating_mul(1 << doublings)
        .min(LONGEST_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_an_hour() {
        assert_eq!(pause_after(1), Duration::from_secs(30));
        assert_eq!(pause_after(2), Duration::from_secs(60));
        assert_eq!(pause_after(3), Duration::from_secs(120));
        assert_eq!(pause_after(8), Duration::from_secs(3600));
        assert_eq!(pause_after(1000), Duration::from_secs(3600));
    }
}
