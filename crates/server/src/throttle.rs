//! Throttling of password guesses, after NIST SP 800-63B §5.2.2 and OWASP's authentication
//! cheat sheet: progressive delays rather than lockouts, limits per account, per client
//! address and per school, and devices that signed in before kept out of it all.
//!
//! - **Per account** (learner or staff, only accounts that exist, so unknown usernames
//!   leave no row behind): [`Limits::free_failures`] wrong passwords cost nothing; after
//!   that each further try must wait, one minute after the sixth failure and twice as long
//!   after each one more, up to [`Limits::max_delay`]. A successful sign-in from a new
//!   device or a teacher's reset clears it; one from a known device does not, so the owner
//!   signing in every day gives an attacker no fresh guesses. While an account waits, a guess is answered exactly like a wrong
//!   password after the same hashing work, so the wait tells nobody the account exists.
//! - **Per client address** (the socket's, or `X-Forwarded-For`'s when the socket is a
//!   proxy named with `--trusted-proxy`): at most [`Limits::per_address`] failures per
//!   window, then `429` with `Retry-After` until the window ends.
//! - **Per school**: at most [`Limits::per_school`] failures per window from devices not
//!   known for the account, which caps how fast many addresses together can sweep a school.
//! - **Known devices**: a successful sign-in hands the client a device token (only its
//!   SHA-256 is stored). A later sign-in presenting it for the same account skips the three
//!   limits above and counts against that device alone, so an attacker's failures never
//!   lock a teacher out of the computer they always use.
//!
//! Attempts are counted before the password is checked, in one statement each, so parallel
//! guesses cannot slip in under a limit; a success gives its attempt back.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::ErrorCode;

use crate::auth::{SubjectKind, new_token, token_hash};
use crate::clock::millis;
use crate::error::{Error, Result};
use crate::password::Ticket;
use crate::state::AppState;
use crate::stored::{Spelled, Sql};

const MINUTE_MS: i64 = 60 * 1000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// The throttle's numbers. The defaults are the ones the README's figures are worked out
/// from.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wrong passwords an account may have before each further try must wait.
    pub free_failures: i64,
    /// The wait after the first failure past the free ones; doubled with each further one.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Failed sign-ins from one client address per [`Limits::address_window`].
    pub per_address: i64,
    /// The window of [`Limits::per_address`].
    pub address_window: Duration,
    /// Failed sign-ins per school per [`Limits::school_window`], known devices aside.
    pub per_school: i64,
    /// The window of [`Limits::per_school`].
    pub school_window: Duration,
    /// How long a device stays known after it last signed in.
    pub device_lifetime: Duration,
    /// Login-help requests (forgotten username or password) from one client address per
    /// [`Limits::help_window`]; past it the helper answers `429`.
    pub help_per_address: i64,
    /// Login-help messages per [`Limits::help_window`] to one account and to one email
    /// address; past it nothing more is sent, and the answer does not change.
    pub help_per_recipient: i64,
    /// The window of the login-help limits.
    pub help_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(30 * 24 * 60 * 60),
            per_address: 30,
            address_window: Duration::from_secs(10 * 60),
            per_school: 600,
            school_window: Duration::from_secs(60 * 60),
            device_lifetime: Duration::from_secs(365 * 24 * 60 * 60),
            help_per_address: 20,
            help_per_recipient: 3,
            help_window: Duration::from_secs(60 * 60),
        }
    }
}

impl Limits {
    /// How long an account with `failures` counted must wait before its next try.
    pub fn delay_after(&self, failures: i64) -> Duration {
        let past_free = failures - self.free_failures;
        if past_free <= 0 {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(past_free - 1).unwrap_or(u32::MAX).min(40);
        self.first_delay
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_delay)
    }
}

/// The address a request came from: the socket's, or the one a trusted proxy forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| Error::internal(anyhow::anyhow!("no client address on a request")))?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(Self(client_address(
            peer,
            forwarded,
            &state.settings.trusted_proxies,
        )))
    }
}

/// The client's address: the socket's peer, unless that is a trusted proxy; then the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the
/// address it heard from, so entries before it may be made up by the client).
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|header| header.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// One password guess, as the throttle sees it.
pub(crate) struct Guess<'a> {
    pub kind: SubjectKind,
    pub school_id: &'a str,
    /// The account's id, when the username names one.
    pub account: Option<&'a str>,
    pub address: IpAddr,
    /// The device token the client presented, if any.
    pub device: Option<&'a str>,
}

/// Whether a guess may be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Check the password.
    Admitted,
    /// The account must wait: answer exactly as for a wrong password.
    AccountWaits,
    /// Too many failures from this address or at this school: answer `429`.
    TooMany { retry_after: Duration },
}

impl Admission {
    /// The `429` for [`Admission::TooMany`].
    fn too_many(retry_after: Duration) -> Error {
        Self::wait("too many failed sign-ins from here", retry_after)
    }

    /// The `429` for too many login-help requests from one address.
    fn too_many_help(retry_after: Duration) -> Error {
        Self::wait("too many requests for help from here", retry_after)
    }

    fn wait(what: &str, retry_after: Duration) -> Error {
        let minutes = retry_after.as_secs().div_ceil(60).max(1);
        Error::new(
            ErrorCode::RateLimited,
            format!(
                "{what}: try again in {minutes} minute{}",
                if minutes == 1 { "" } else { "s" }
            ),
        )
        .retry_after(u32::try_from(retry_after.as_secs().max(1)).unwrap_or(u32::MAX))
    }
}

/// Checks a sign-in's password under the throttle, in the hashing queue's place `ticket`
/// (taken first thing, so a request past the queue's bound costs nothing more): counted
/// first, then checked against
/// `stored` (the account's hash, if it exists) with the same work and the same answer,
/// `None`, for an unknown account, a waiting one and a wrong password. The device token for
/// next time when the password is right; `429` when this address or school is over its
/// limit.
pub(crate) async fn check_password(
    state: &AppState,
    ticket: Ticket,
    guess: &Guess<'_>,
    stored: Option<String>,
    password: Sensitive<String>,
) -> Result<Option<Sensitive<String>>> {
    let now = state.clock.now_ms();
    let device = known_device(state, guess, now).await?;
    let stored = match admit(state, guess, device.as_deref(), now).await? {
        Admission::Admitted => stored,
        // Checked against nothing, after the same work: waiting tells nobody it exists.
        Admission::AccountWaits => None,
        Admission::TooMany { retry_after } => return Err(Admission::too_many(retry_after)),
    };
    if !state.hasher.verify_with(ticket, stored, password).await? {
        return Ok(None);
    }
    succeeded(state, guess, device, now).await.map(Some)
}

/// Counts a guess and says whether it may be checked. From a known device (`device`, its
/// stored hash) it counts against that device alone.
async fn admit(
    state: &AppState,
    guess: &Guess<'_>,
    device: Option<&str>,
    now: i64,
) -> Result<Admission> {
    let limits = &state.settings.throttle;
    if let Some(device) = device {
        return Ok(match progressive(state, &device_key(device), now).await? {
            true => Admission::Admitted,
            false => Admission::AccountWaits,
        });
    }
    let windows = [
        (
            address_key(guess),
            limits.per_address,
            limits.address_window,
        ),
        (school_key(guess), limits.per_school, limits.school_window),
    ];
    for (key, limit, window) in windows {
        if let Some(retry_after) = windowed(state, &key, limit, millis(window), now).await? {
            return Ok(Admission::TooMany { retry_after });
        }
    }
    if let Some(account) = guess.account
        && !progressive(state, &account_key(guess.kind, account), now).await?
    {
        return Ok(Admission::AccountWaits);
    }
    Ok(Admission::Admitted)
}

/// Records a successful sign-in and returns the device token for next time.
///
/// From a known device (`device`, its stored hash) only that device's failures are cleared
/// and its token kept for another lifetime: the account's count, which holds what other
/// devices tried, goes on growing, and nothing is given back to the address's or school's
/// windows, which this sign-in never counted in. From a new device the sign-in gives its
/// attempt back, clears the account's failures and gets a token of its own.
async fn succeeded(
    state: &AppState,
    guess: &Guess<'_>,
    device: Option<String>,
    now: i64,
) -> Result<Sensitive<String>> {
    let pool = state.db.pool();
    if let (Some(hash), Some(token)) = (device, guess.device) {
        clear(state, &device_key(&hash)).await?;
        sqlx::query("UPDATE known_device SET expires_at = $1 WHERE hash = $2")
            .bind(now.saturating_add(millis(state.settings.throttle.device_lifetime)))
            .bind(&hash)
            .execute(pool)
            .await?;
        return Ok(Sensitive::new(token.to_owned()));
    }
    if let Some(account) = guess.account {
        clear(state, &account_key(guess.kind, account)).await?;
    }
    for key in [address_key(guess), school_key(guess)] {
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1
             WHERE throttle_key = $1 AND failures > 0",
        )
        .bind(key)
        .execute(pool)
        .await?;
    }
    remember_device(
        state,
        guess.kind,
        guess.school_id,
        guess.account.unwrap_or_default(),
        now,
    )
    .await
}

/// A new device token for an account that just proved its password on this device.
pub(crate) async fn remember_device(
    state: &AppState,
    kind: SubjectKind,
    school_id: &str,
    account: &str,
    now: i64,
) -> Result<Sensitive<String>> {
    let (token, hash) = new_token(&state.rng);
    sqlx::query(
        "INSERT INTO known_device (hash, school_id, subject_kind, subject_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash)
    .bind(school_id)
    .bind(Sql(kind))
    .bind(account)
    .bind(now)
    .bind(now.saturating_add(millis(state.settings.throttle.device_lifetime)))
    .execute(state.db.pool())
    .await?;
    Ok(token)
}

/// Clears an account's failures (a teacher's reset, a successful sign-in).
pub(crate) async fn clear_account(
    conn: &mut sqlx::AnyConnection,
    kind: SubjectKind,
    account: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
        .bind(account_key(kind, account))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts a signed-in person's re-entry of their own password (before an export, or to
/// change it); `false` while they must wait. A counter apart from sign-in's, so failures
/// of others never block them.
/// An account's wrong passwords since it last signed in: how many, the last when, and
/// until when it must wait (0 when it need not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct AccountFailures {
    pub failures: i64,
    #[sqlx(rename = "window_start")]
    pub last_at: i64,
    pub locked_until: i64,
}

pub(crate) async fn account_failures(
    conn: &mut sqlx::AnyConnection,
    kind: SubjectKind,
    account: &str,
) -> sqlx::Result<Option<AccountFailures>> {
    sqlx::query_as(
        "SELECT failures, window_start, locked_until FROM login_throttle WHERE throttle_key = $1",
    )
    .bind(account_key(kind, account))
    .fetch_optional(&mut *conn)
    .await
}

pub(crate) async fn reconfirm(state: &AppState, kind: SubjectKind, id: &str) -> Result<bool> {
    progressive(state, &reconfirm_key(kind, id), state.clock.now_ms()).await
}

/// Clears [`reconfirm`]'s counter after the right password.
pub(crate) async fn reconfirmed(state: &AppState, kind: SubjectKind, id: &str) -> Result<()> {
    Ok(clear(state, &reconfirm_key(kind, id)).await?)
}

fn reconfirm_key(kind: SubjectKind, id: &str) -> String {
    format!("reconfirm:{}:{id}", kind.spelling())
}

async fn clear(state: &AppState, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

fn account_key(kind: SubjectKind, account: &str) -> String {
    format!("account:{}:{account}", kind.spelling())
}

/// The window of failed guesses from the guess's address.
fn address_key(guess: &Guess<'_>) -> String {
    format!("address:{}", guess.address)
}

/// The window of failed guesses at the guess's school.
fn school_key(guess: &Guess<'_>) -> String {
    format!("school:{}", guess.school_id)
}

fn device_key(hash: &str) -> String {
    format!("device:{hash}")
}

/// The stored hash of the presented device token, if it is known for this very account.
async fn known_device(state: &AppState, guess: &Guess<'_>, now: i64) -> Result<Option<String>> {
    let (Some(token), Some(account)) = (guess.device, guess.account) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM known_device
         WHERE hash = $1 AND subject_kind = $2 AND subject_id = $3 AND expires_at > $4",
    )
    .bind(&hash)
    .bind(Sql(guess.kind))
    .bind(account)
    .bind(now)
    .fetch_optional(state.db.pool())
    .await?;
    Ok(known.map(|_| hash))
}

/// Counts a guess on a progressive counter; `false` while the counter's wait lasts (the
/// guess is then not counted: waiting out the delay is what the counter asks for).
async fn progressive(state: &AppState, key: &str, now: i64) -> Result<bool> {
    let limits = &state.settings.throttle;
    // Failures are remembered a little longer than the longest wait, so the delays keep
    // growing for an attacker who waits each one out.
    let remember = now.saturating_add(millis(limits.max_delay).saturating_mul(2));
    // One statement counts the guess and, past the free ones, starts the wait at once (the
    // exact length is set just after): a parallel guess then finds the account waiting, so
    // no more than one guess past the free ones is ever checked.
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until, expires_at)
         VALUES ($1, 1, $2, 0, $3)
         ON CONFLICT (throttle_key) DO UPDATE SET
           failures = login_throttle.failures + 1, window_start = $2, expires_at = $3,
           locked_until = CASE WHEN login_throttle.failures + 1 > $4 THEN $5
                               ELSE login_throttle.locked_until END
         WHERE login_throttle.locked_until <= $2
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(remember)
    .bind(limits.free_failures)
    .bind(now.saturating_add(millis(limits.first_delay)))
    .fetch_optional(state.db.pool())
    .await?;
    let Some(failures) = counted else {
        return Ok(false);
    };
    let delay = limits.delay_after(failures);
    if !delay.is_zero() {
        sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE throttle_key = $2")
            .bind(now.saturating_add(millis(delay)))
            .bind(key)
            .execute(state.db.pool())
            .await?;
    }
    Ok(true)
}

/// Counts a guess in a fixed window; `Some(time left)` once the window holds `limit`.
async fn windowed(
    state: &AppState,
    key: &str,
    limit: i64,
    window_ms: i64,
    now: i64,
) -> Result<Option<Duration>> {
    let (failures, window_start): (i64, i64) = sqlx::query_as(
        "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until, expires_at)
         VALUES ($1, 1, $2, 0, $2 + $3)
         ON CONFLICT (throttle_key) DO UPDATE SET
           failures = CASE WHEN $2 - login_throttle.window_start < $3
                           THEN login_throttle.failures + 1 ELSE 1 END,
           window_start = CASE WHEN $2 - login_throttle.window_start < $3
                               THEN login_throttle.window_start ELSE $2 END,
           expires_at = CASE WHEN $2 - login_throttle.window_start < $3
                             THEN login_throttle.expires_at ELSE $2 + $3 END
         RETURNING failures, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(window_ms)
    .fetch_one(state.db.pool())
    .await?;
    if failures > limit {
        let left = (window_start + window_ms - now).max(1000);
        return Ok(Some(Duration::from_millis(left.unsigned_abs())));
    }
    Ok(None)
}

/// Counts a login-help request from `address`; `Err(429)` once the address is past
/// [`Limits::help_per_address`] in its window. The answer depends on the address alone,
/// never on what was asked, so it tells nobody whether an account exists.
pub(crate) async fn help_asked(state: &AppState, address: IpAddr) -> Result<()> {
    let limits = &state.settings.throttle;
    let key = format!("help-address:{address}");
    let now = state.clock.now_ms();
    match windowed(
        state,
        &key,
        limits.help_per_address,
        millis(limits.help_window),
        now,
    )
    .await?
    {
        None => Ok(()),
        Some(retry_after) => Err(Admission::too_many_help(retry_after)),
    }
}

/// Counts a login-help message to `recipient` (an account's id, or an email address's
/// comparison key); `false` once it has had [`Limits::help_per_recipient`] in its window, so
/// the helper cannot flood anyone's inbox.
pub(crate) async fn help_may_send(state: &AppState, recipient: &str) -> Result<bool> {
    let limits = &state.settings.throttle;
    let key = format!("help-to:{recipient}");
    let now = state.clock.now_ms();
    let over = windowed(
        state,
        &key,
        limits.help_per_recipient,
        millis(limits.help_window),
        now,
    )
    .await?;
    Ok(over.is_none())
}

/// Forgets what no longer matters: throttle rows past their time, ended sessions and
/// links, devices not seen for a year, and stored push results older than any replica
/// would replay. Run on a schedule by the server.
pub async fn purge(state: &AppState) -> Result<u64> {
    let now = state.clock.now_ms();
    let pool = state.db.pool();
    let mut removed = 0;
    for (sql, before) in [
        ("DELETE FROM login_throttle WHERE expires_at < $1", now),
        ("DELETE FROM known_device WHERE expires_at < $1", now),
        ("DELETE FROM token WHERE expires_at < $1", now - DAY_MS),
        (
            "DELETE FROM applied_operation WHERE created_at < $1",
            now - STORED_OUTCOME_DAYS * DAY_MS,
        ),
    ] {
        removed += sqlx::query(sql)
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(removed)
}

/// How long the outcome of a pushed change is kept for replays: longer than any desktop
/// stays offline with changes waiting.
const STORED_OUTCOME_DAYS: i64 = 90;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_up_to_the_longest() {
        let limits = Limits::default();
        let minutes = |f| limits.delay_after(f).as_secs() / 60;
        assert_eq!(minutes(5), 0);
        assert_eq!(minutes(6), 1);
        assert_eq!(minutes(7), 2);
        assert_eq!(minutes(10), 16);
        assert_eq!(limits.delay_after(60), limits.max_delay);
        assert_eq!(limits.delay_after(i64::MAX), limits.max_delay);
    }

    /// The README's figures: how many guesses one account can take in a year.
    #[test]
    fn an_account_takes_at_most_32_guesses_a_year() {
        let limits = Limits::default();
        let year = Duration::from_secs(365 * 24 * 60 * 60);
        let (mut at, mut guesses) = (Duration::ZERO, 0i64);
        while at <= year {
            guesses += 1;
            at += limits.delay_after(guesses);
        }
        assert_eq!(guesses, 32);
    }

    #[test]
    fn a_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let header = ["198.51.100.1, 203.0.113.7"];
        // Not behind the proxy: the header is the client's own word, ignored.
        assert_eq!(client_address(client, header.into_iter(), &[proxy]), client);
        // Behind it: the last hop the proxy heard from, not what the client wrote first.
        assert_eq!(client_address(proxy, header.into_iter(), &[proxy]), client);
        assert_eq!(client_address(proxy, [].into_iter(), &[proxy]), proxy);
    }
}
