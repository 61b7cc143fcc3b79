//! Reset and sign-in links: the tokens the login helper and teachers' messages put in mail.
//!
//! A link's token is 256 random bits; the database keeps only its SHA-256, so neither a
//! leaked database nor a log holds a usable link. Every link is bound to its holder's
//! credential epoch, so a password change or reset kills all of them at once.
//!
//! - **Reset links** work for [`RESET_LIFETIME`], once, and only the newest works: issuing
//!   one ends every earlier one, and an earlier one presented later is told a newer link
//!   was sent.
//! - **Sign-in links** work once, for the school's chosen lifetime (24 hours unless it sets
//!   another, never more than [`SIGN_IN_LINK_LONGEST`]).
//!
//! Opening a link changes nothing ([`inspect`]): mail scanners that fetch every link burn
//! none. Only the page's button uses it ([`consume`]), in one statement that checks and
//! marks it, so of any number of parallel uses exactly one succeeds.

use std::time::Duration;

use classkeys_domain::secret::Sensitive;
use sqlx::AnyConnection;

use crate::auth::{Holder, new_token, token_hash};
use crate::clock::millis;
use crate::error::Result;
use crate::state::AppState;
use crate::stored::{Sql, Status, SubjectKind, TokenPurpose};

/// How long a reset link works.
pub const RESET_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);
/// How long a sign-in link works unless the school chooses otherwise.
pub const SIGN_IN_LINK_DEFAULT: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest a school may let a sign-in link work.
pub const SIGN_IN_LINK_LONGEST: Duration = Duration::from_secs(72 * 60 * 60);

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Lets its holder choose a new password.
    Reset,
    /// Signs its holder in once.
    SignIn,
}

impl Link {
    fn purpose(self) -> TokenPurpose {
        match self {
            Link::Reset => TokenPurpose::Reset,
            Link::SignIn => TokenPurpose::SignInLink,
        }
    }

    /// The path of the page that opens a link of this kind with `token`, at school `slug`.
    pub fn path(self, slug: &str, token: &str) -> String {
        match self {
            Link::Reset => format!("/s/{slug}/reset/{token}"),
            Link::SignIn => format!("/s/{slug}/link/{token}"),
        }
    }

    /// The full address of that page, built from the configured public URL (never from a
    /// request's Host header, which whoever sends the request chooses).
    pub fn url(self, state: &AppState, slug: &str, token: &str) -> String {
        format!(
            "{}{}",
            state.settings.public_url.trim_end_matches('/'),
            self.path(slug, token)
        )
    }
}

/// Why a link does not work, as its page explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such link (mistyped, cut short by a mail program).
    Unknown,
    /// A newer reset link was sent since: only the newest works.
    Superseded,
    /// Used already, or the password changed since it was sent, or the account was
    /// deactivated.
    Used,
    /// Its time ran out.
    Expired,
}

/// Issues a link of kind `link` for `holder`, working for `lifetime`, on `conn` (the
/// transaction that queues the mail carrying it). A reset link ends every earlier one.
pub async fn issue(
    conn: &mut AnyConnection,
    state: &AppState,
    link: Link,
    holder: &Holder,
    lifetime: Duration,
) -> Result<Sensitive<String>> {
    let now = state.clock.now_ms();
    if link == Link::Reset {
        sqlx::query(
            "UPDATE token SET used_at = $1
             WHERE subject_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(&holder.subject_id)
        .bind(Sql(TokenPurpose::Reset))
        .execute(&mut *conn)
        .await?;
    }
    let (token, hash) = new_token(&state.rng);
    sqlx::query(
        "INSERT INTO token (hash, purpose, school_id, subject_id, subject_kind, epoch,
                            created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&hash)
    .bind(Sql(link.purpose()))
    .bind(&holder.school_id)
    .bind(&holder.subject_id)
    .bind(Sql(holder.kind))
    .bind(holder.epoch)
    .bind(now)
    .bind(now.saturating_add(millis(lifetime)))
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    subject_kind: Sql<SubjectKind>,
    school_id: String,
    subject_id: String,
    epoch: i64,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl LinkRow {
    fn holder(self) -> Holder {
        Holder {
            kind: self.subject_kind.0,
            school_id: self.school_id,
            subject_id: self.subject_id,
            epoch: self.epoch,
        }
    }
}

/// Whose link `token` is, if it would work now, at the school `school_id` — without using
/// it. A link that no longer works is marked as tried, and nothing else changes.
pub async fn inspect(
    state: &AppState,
    link: Link,
    school_id: &str,
    token: &str,
) -> Result<std::result::Result<Holder, Refusal>> {
    let mut conn = state.db.pool().acquire().await?;
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT subject_kind, school_id, subject_id, epoch, created_at, expires_at, used_at
         FROM token WHERE hash = $1 AND purpose = $2 AND school_id = $3",
    )
    .bind(token_hash(token))
    .bind(Sql(link.purpose()))
    .bind(school_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    let refusal = if link == Link::Reset && newer_reset(&mut conn, &row).await? {
        Some(Refusal::Superseded)
    } else if row.used_at.is_some() {
        Some(Refusal::Used)
    } else if row.expires_at <= state.clock.now_ms() {
        Some(Refusal::Expired)
    } else {
        None
    };
    let holder = row.holder();
    let refusal = match refusal {
        None if !current(&mut conn, &holder).await? => Some(Refusal::Used),
        refusal => refusal,
    };
    let Some(refusal) = refusal else {
        return Ok(Ok(holder));
    };
    // Someone is trying a link that no longer works: a teacher asking why they cannot
    // sign in is told so (see `diagnosis.rs`).
    sqlx::query("UPDATE token SET refused_at = $1 WHERE hash = $2")
        .bind(state.clock.now_ms())
        .bind(token_hash(token))
        .execute(&mut *conn)
        .await?;
    Ok(Err(refusal))
}

/// Whether a reset link newer than `row` was sent to the same account: only the newest
/// works.
async fn newer_reset(conn: &mut AnyConnection, row: &LinkRow) -> Result<bool> {
    let newer: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM token WHERE subject_id = $1 AND purpose = $2 AND created_at > $3 LIMIT 1",
    )
    .bind(&row.subject_id)
    .bind(Sql(TokenPurpose::Reset))
    .bind(row.created_at)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(newer.is_some())
}

/// Uses link `token` on `conn` (the transaction that does what the link is for): one
/// statement checks that it is unused and unexpired and marks it used, so parallel uses
/// give exactly one holder. Refused when it does not work, or when its holder's password
/// changed or account was deactivated since it was sent; a link refused here is used up.
pub async fn consume(
    conn: &mut AnyConnection,
    state: &AppState,
    link: Link,
    school_id: &str,
    token: &str,
) -> Result<std::result::Result<Holder, Refusal>> {
    let now = state.clock.now_ms();
    let row: Option<LinkRow> = sqlx::query_as(
        "UPDATE token SET used_at = $1
         WHERE hash = $2 AND purpose = $3 AND school_id = $4
           AND used_at IS NULL AND expires_at > $1
         RETURNING subject_kind, school_id, subject_id, epoch, created_at, expires_at, used_at",
    )
    .bind(now)
    .bind(token_hash(token))
    .bind(Sql(link.purpose()))
    .bind(school_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        // Gone, used or expired: the page explains which, from the stored row.
        return Ok(Err(Refusal::Used));
    };
    let holder = row.holder();
    if !current(conn, &holder).await? {
        return Ok(Err(Refusal::Used));
    }
    Ok(Ok(holder))
}

/// Whether `holder`'s account is active and still at the credential epoch the link was
/// issued for.
async fn current(conn: &mut AnyConnection, holder: &Holder) -> Result<bool> {
    let sql = match holder.kind {
        SubjectKind::Learner => {
            "SELECT credential_epoch FROM learner WHERE id = $1 AND status = $2"
        }
        SubjectKind::Staff => "SELECT credential_epoch FROM staff WHERE id = $1 AND status = $2",
    };
    let epoch: Option<i64> = sqlx::query_scalar(sql)
        .bind(&holder.subject_id)
        .bind(Sql(Status::Active))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(epoch == Some(holder.epoch))
}

/// How long a sign-in link of school `school_id` works: the school's setting, never more
/// than [`SIGN_IN_LINK_LONGEST`].
pub async fn sign_in_link_lifetime(conn: &mut AnyConnection, school_id: &str) -> Result<Duration> {
    let hours = crate::credentials::link_settings(conn, school_id)
        .await?
        .sign_in_link_hours;
    Ok(hours
        .map_or(SIGN_IN_LINK_DEFAULT, |h| {
            Duration::from_secs(u64::from(h) * 60 * 60)
        })
        .min(SIGN_IN_LINK_LONGEST))
}
