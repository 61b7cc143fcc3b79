//! The login helper and the links it sends: how learners (and staff, for their own staff
//! password) get back in without a teacher.
//!
//! - "I forgot my username" ([`Question::Username`]): a message to the address typed,
//!   giving the username of the account that uses it, or saying that none at this school
//!   does.
//! - "I forgot my password" ([`Question::Password`]): a message to the address on file,
//!   only if the username names an active account that has one — for a learner a sign-in
//!   link and a reset link, for staff a reset link.
//!
//! The asker gets the same answer, after the same work, whatever they typed: [`ask`] counts
//! the request against the asker's address and hands the question to a background task,
//! so neither the answer nor its timing depends on whether an account exists. Background
//! work is bounded ([`HELP_SLOTS`]); past it a question is dropped, and the answer still
//! does not change. Each account and each email address gets at most a few messages an
//! hour ([`Limits::help_per_recipient`](crate::throttle::Limits::help_per_recipient)),
//! so nobody's inbox can be flooded through the helper.
//!
//! Using a link is [`reset_with_link`] and [`sign_in_with_link`]; the links themselves are
//! [`crate::links`].

use std::net::IpAddr;
use std::sync::Arc;

use classkeys_domain::identity::{Email, Username};
use classkeys_domain::password_policy::check_typed;
use classkeys_domain::secret::Sensitive;
use classkeys_domain::text::identity_key;
use classkeys_protocol::ErrorCode;
use tokio::sync::Semaphore;

use crate::audit::Device;
use crate::auth::{Holder, password_replaced, start_session};
use crate::credentials::{learner_band, password_settings, sign_in_url};
use crate::error::{Error, Result};
use crate::learner_auth::store_chosen_password;
use crate::links::{self, Link, Refusal};
use crate::mail_queue::{Letter, Sender};
use crate::state::AppState;
use crate::stored::{MailKind, Proof, Sql, Status, SubjectKind};
use crate::{throttle, wording};

/// Questions answered at once in the background; more are dropped.
pub const HELP_SLOTS: usize = 32;

/// The background work of the login helper, bounded.
#[derive(Clone)]
pub struct HelpDesk {
    slots: Arc<Semaphore>,
}

impl Default for HelpDesk {
    fn default() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(HELP_SLOTS)),
        }
    }
}

impl HelpDesk {
    /// Waits until every question asked so far has been answered (its mail queued or
    /// not sent).
    pub async fn idle(&self) {
        let all = u32::try_from(HELP_SLOTS).unwrap_or(u32::MAX);
        // The semaphore is never closed, so acquiring only waits.
        if let Ok(permits) = self.slots.acquire_many(all).await {
            drop(permits);
        }
    }
}

/// A school as its public pages know it.
#[derive(Debug, Clone)]
pub struct School {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl School {
    /// The school at `slug` (any case), if there is one.
    pub async fn by_slug(state: &AppState, slug: &str) -> Result<Option<School>> {
        let slug = slug.trim().to_lowercase();
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT id, slug, name FROM school WHERE slug = $1")
                .bind(&slug)
                .fetch_optional(state.db.pool())
                .await?;
        Ok(row.map(|(id, slug, name)| School { id, slug, name }))
    }
}

/// What someone asks the helper.
#[derive(Debug, Clone)]
pub enum Question {
    /// "I forgot my username": the address typed.
    Username { email: String },
    /// "I forgot my password": the username typed.
    Password { username: String },
}

/// Asks the helper `question` at `school` from `address`. The answer is the same whatever
/// was asked; only too many questions from one address are refused (`429`).
pub async fn ask(
    state: &AppState,
    school: &School,
    address: IpAddr,
    question: Question,
) -> Result<()> {
    throttle::help_asked(state, address).await?;
    let Ok(slot) = state.help.slots.clone().try_acquire_owned() else {
        tracing::warn!("the login helper is busy: a question was dropped");
        return Ok(());
    };
    let state = state.clone();
    let school = school.clone();
    tokio::spawn(async move {
        if let Err(error) = answer(&state, &school, question).await {
            tracing::error!(?error, "the login helper could not answer a question");
        }
        drop(slot);
    });
    Ok(())
}

/// Answers a question: queues the message it calls for, if any.
async fn answer(state: &AppState, school: &School, question: Question) -> Result<()> {
    let queued = match question {
        Question::Username { email } => remind_username(state, school, &email).await?,
        Question::Password { username } => send_password_help(state, school, &username).await?,
    };
    if queued {
        state.mail.wake();
    }
    Ok(())
}

/// "I forgot my username": tells `email` which username uses it, or that none does.
async fn remind_username(state: &AppState, school: &School, email: &str) -> Result<bool> {
    // Not an address: there is nobody to write to.
    let Ok(email) = Email::parse(email) else {
        return Ok(false);
    };
    if !throttle::help_may_send(state, &format!("email:{}", email.key())).await? {
        return Ok(false);
    }
    let account = active_account(state, school, email.key()).await?;
    let url = sign_in_url(&state.settings.public_url, &school.slug);
    // To the address as the account holds it when one does (the same mailbox, spelled as
    // its owner gave it), else as typed.
    let (kind, text, about, to) = match &account {
        Some(account) => (
            MailKind::UsernameReminder,
            wording::username_reminder(&school.name, &account.username, &url),
            Some((account.kind, account.id.as_str())),
            account.email.as_deref().unwrap_or(email.as_str()),
        ),
        None => (
            MailKind::NoAccount,
            wording::no_account(&school.name, &url),
            None,
            email.as_str(),
        ),
    };
    // Read first, then write: SQLite has one writer at a time.
    let mut tx = state.db.begin_write().await?;
    let sender = Sender::load(&mut tx, state, &school.id).await?;
    sender
        .queue(
            &mut tx,
            state,
            Letter {
                kind,
                about,
                to,
                title: &text.title,
                body: &text.body,
                message: None,
            },
        )
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// "I forgot my password": sends the account named `username` its links, at the address on
/// file, if it is active and has one.
async fn send_password_help(state: &AppState, school: &School, username: &str) -> Result<bool> {
    // A username never holds '@', so its key never names an email address.
    let Ok(username) = Username::parse(username) else {
        return Ok(false);
    };
    let Some(account) = active_account(state, school, &identity_key(username.as_str())).await?
    else {
        return Ok(false);
    };
    let Some(email) = account.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(false);
    };
    // Both limits are counted, so neither the account nor its address can be flooded.
    let account_ok = throttle::help_may_send(state, &format!("account:{}", account.id)).await?;
    let email_ok = throttle::help_may_send(state, &format!("email:{}", email.key())).await?;
    if !(account_ok && email_ok) {
        return Ok(false);
    }
    // Counted above, before the write transaction: SQLite has one writer at a time. A
    // password changed in between leaves these links bound to the old epoch, so they do not
    // work, which is what a changed password asks for anyway.
    let mut tx = state.db.begin_write().await?;
    let holder = Holder {
        kind: account.kind,
        school_id: school.id.clone(),
        subject_id: account.id.clone(),
        epoch: account.epoch,
    };
    let reset = links::issue(&mut tx, state, Link::Reset, &holder, links::RESET_LIFETIME).await?;
    let reset_url = Link::Reset.url(state, &school.slug, reset.expose());
    let text = match account.kind {
        SubjectKind::Learner => {
            let lifetime = links::sign_in_link_lifetime(&mut tx, &school.id).await?;
            let sign_in = links::issue(&mut tx, state, Link::SignIn, &holder, lifetime).await?;
            wording::learner_password_help(
                &school.name,
                &account.name,
                &account.username,
                &Link::SignIn.url(state, &school.slug, sign_in.expose()),
                lifetime.as_secs() / 3600,
                &reset_url,
            )
        }
        SubjectKind::Staff => wording::staff_password_help(&school.name, &account.name, &reset_url),
    };
    let sender = Sender::load(&mut tx, state, &school.id).await?;
    sender
        .queue(
            &mut tx,
            state,
            Letter {
                kind: MailKind::PasswordHelp,
                about: Some((account.kind, &account.id)),
                to: email.as_str(),
                title: &text.title,
                body: &text.body,
                message: None,
            },
        )
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// An active account, learner or staff, as the helper needs it.
struct Account {
    kind: SubjectKind,
    id: String,
    username: String,
    /// The given name of a learner, the display name of staff.
    name: String,
    email: Option<String>,
    epoch: i64,
}

/// The active account, learner or staff, whose username or email address has the
/// comparison key `ident` at `school` (the two share one namespace).
async fn active_account(state: &AppState, school: &School, ident: &str) -> Result<Option<Account>> {
    type Row = (
        Sql<SubjectKind>,
        String,
        String,
        String,
        Option<String>,
        i64,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT CAST($4 AS TEXT), l.id, l.username, l.given_name, l.email, l.credential_epoch
             FROM identity_key k JOIN learner l ON l.id = k.owner_id
             WHERE k.school_id = $1 AND k.ident = $2 AND l.status = $3
             UNION ALL
             SELECT CAST($5 AS TEXT), s.id, s.username, s.display_name, s.email, s.credential_epoch
             FROM identity_key k JOIN staff s ON s.id = k.owner_id
             WHERE k.school_id = $1 AND k.ident = $2 AND s.status = $3",
    )
    .bind(&school.id)
    .bind(ident)
    .bind(Sql(Status::Active))
    .bind(Sql(SubjectKind::Learner))
    .bind(Sql(SubjectKind::Staff))
    .fetch_optional(state.db.pool())
    .await?;
    Ok(row.map(|(kind, id, username, name, email, epoch)| Account {
        kind: kind.0,
        id,
        username,
        name,
        email,
        epoch,
    }))
}

/// What a reset link did.
#[derive(Debug)]
pub enum ResetDone {
    /// A learner chose their password and is signed in with this session (token, expiry).
    Learner {
        session: Sensitive<String>,
        expires_at: i64,
    },
    /// A member of staff chose their password; they sign in with the app.
    Staff,
}

/// Uses reset link `token` at `school` to set the password `chosen`: checked against the
/// account's rules first (a refused password uses nothing up), then the link is used and the
/// password stored in one transaction. The password is the holder's own from then on, and
/// every other session and link of theirs ends.
pub async fn reset_with_link(
    state: &AppState,
    school: &School,
    token: &str,
    chosen: Sensitive<String>,
    device: &Device,
) -> Result<std::result::Result<ResetDone, Refusal>> {
    let holder = match links::inspect(state, Link::Reset, &school.id, token).await? {
        Ok(holder) => holder,
        Err(refusal) => return Ok(Err(refusal)),
    };
    check_chosen(state, &holder, &chosen).await?;
    let hash = state.hasher.hash(holder.kind.work(), chosen).await?;
    let now = state.clock.now_ms();
    let (mut tx, seq) = state.db.begin_change(&school.id).await?;
    let holder = match links::consume(&mut tx, state, Link::Reset, &school.id, token).await? {
        Ok(holder) => holder,
        Err(_) => {
            drop(tx);
            // Used meanwhile (or gone): say why, from what is stored now.
            let why = links::inspect(state, Link::Reset, &school.id, token).await?;
            return Ok(Err(why.err().unwrap_or(Refusal::Used)));
        }
    };
    let stored = match holder.kind {
        SubjectKind::Learner => {
            store_chosen_password(&mut tx, &holder, &hash, seq, now, device, "reset_link").await?
        }
        SubjectKind::Staff => store_staff_password(&mut tx, &holder, &hash, seq, now).await?,
    };
    if !stored {
        return Ok(Err(Refusal::Used));
    }
    tx.commit().await?;
    tracing::info!(account = %holder.subject_id, "password chosen through a reset link");
    match holder.kind {
        SubjectKind::Staff => Ok(Ok(ResetDone::Staff)),
        SubjectKind::Learner => {
            let signed_in = Holder {
                epoch: holder.epoch + 1,
                ..holder
            };
            let mut conn = state.db.pool().acquire().await?;
            let (session, expires_at) =
                start_session(&mut conn, state, &signed_in, Proof::Password).await?;
            Ok(Ok(ResetDone::Learner {
                session,
                expires_at,
            }))
        }
    }
}

/// Refuses a chosen password that breaks the account's rules, with the reason.
async fn check_chosen(state: &AppState, holder: &Holder, chosen: &Sensitive<String>) -> Result<()> {
    let refuse = |reason: &str| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("choose another password: {reason}"),
        )
        .with_field("new_password")
    };
    match holder.kind {
        SubjectKind::Staff => {
            crate::admin::check_staff_password(chosen).map_err(|weak| refuse(&weak.to_string()))
        }
        SubjectKind::Learner => {
            let mut conn = state.db.pool().acquire().await?;
            let settings = password_settings(&mut conn, &holder.school_id).await?;
            let band = learner_band(&mut conn, &holder.subject_id).await?;
            let names: (String, String, String) = sqlx::query_as(
                "SELECT username, given_name, family_name FROM learner WHERE id = $1",
            )
            .bind(&holder.subject_id)
            .fetch_one(&mut *conn)
            .await?;
            check_typed(
                chosen.expose(),
                settings.for_band(band),
                &[&names.0, &names.1, &names.2],
            )
            .map_err(|weak| refuse(&weak.to_owner))
        }
    }
}

/// Stores a member of staff's new password (`hash`) from the epoch `holder` was read at,
/// ending their sessions and links and lifting any wait on the account.
async fn store_staff_password(
    conn: &mut sqlx::AnyConnection,
    holder: &Holder,
    hash: &str,
    seq: i64,
    now: i64,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE staff SET password_hash = $1, credential_epoch = credential_epoch + 1,
            seq = $2, updated_at = $3
         WHERE id = $4 AND credential_epoch = $5 AND status = $6",
    )
    .bind(hash)
    .bind(seq)
    .bind(now)
    .bind(&holder.subject_id)
    .bind(holder.epoch)
    .bind(Sql(Status::Active))
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    password_replaced(conn, SubjectKind::Staff, &holder.subject_id, now).await?;
    Ok(true)
}

/// Uses sign-in link `token` at `school`: the learner it was sent to is signed in, with a
/// session that may choose a new password without the old one. Returns the session token
/// and when it expires.
pub async fn sign_in_with_link(
    state: &AppState,
    school: &School,
    token: &str,
) -> Result<std::result::Result<(Sensitive<String>, i64), Refusal>> {
    let mut tx = state.db.begin_write().await?;
    let holder = match links::consume(&mut tx, state, Link::SignIn, &school.id, token).await? {
        Ok(holder) if holder.kind == SubjectKind::Learner => holder,
        Ok(_) => return Ok(Err(Refusal::Unknown)),
        Err(_) => {
            drop(tx);
            let why = links::inspect(state, Link::SignIn, &school.id, token).await?;
            return Ok(Err(why.err().unwrap_or(Refusal::Used)));
        }
    };
    let session = start_session(&mut tx, state, &holder, Proof::Link).await?;
    tx.commit().await?;
    tracing::info!(learner = %holder.subject_id, "learner signed in with a link");
    Ok(Ok(session))
}
