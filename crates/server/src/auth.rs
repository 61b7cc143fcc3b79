//! Staff sign-in, sessions and sign-out.
//!
//! A session token is 256 random bits, shown to the client once; the database keeps only its
//! SHA-256, so a leaked database holds no usable sessions. A session dies when it expires,
//! when its holder signs out, and when the holder's credential epoch moves on (password
//! change, deactivation).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Router, http::StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use classkeys_domain::identity::{Role, Username};
use classkeys_domain::policy::Actor;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::{Me, Session, SignInRequest};
use classkeys_protocol::{ErrorCode, paths};
use sha2::{Digest, Sha256};

use crate::db::{self, parse_id};
use crate::error::{Error, Result};
use crate::http::ApiJson;
use crate::password::Work;
use crate::randomness::Randomness;
use crate::state::AppState;
use crate::stored::{Proof, Sql, Status, TokenPurpose};
use crate::throttle::{self, ClientAddress, Guess};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::SIGN_IN, post(sign_in))
        .route(paths::SIGN_OUT, post(sign_out))
        .route(paths::ME, get(me))
}

/// A new random token (256 bits) and the hash to store for it.
pub fn new_token(rng: &Randomness) -> (Sensitive<String>, String) {
    let token = URL_SAFE_NO_PAD.encode(rng.bytes::<32>());
    let hash = token_hash(&token);
    (Sensitive::new(token), hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    classkeys_domain::text::hex(&Sha256::digest(token.as_bytes()))
}

/// The token of an `Authorization: Bearer …` header, if there is a non-empty one.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The answer to a request without a valid session.
pub(crate) fn unauthenticated() -> Error {
    Error::new(
        ErrorCode::Unauthenticated,
        "sign in first: this request has no valid session (it may have ended)",
    )
}

/// The stored hash of the session token a request presents.
pub(crate) fn presented_session(headers: &axum::http::HeaderMap) -> Result<String> {
    bearer_token(headers)
        .map(token_hash)
        .ok_or_else(unauthenticated)
}

/// Ends the session whose token hashes to `hash`.
pub(crate) async fn end_session(state: &AppState, hash: &str) -> Result<()> {
    sqlx::query("UPDATE token SET used_at = $1 WHERE hash = $2")
        .bind(state.clock.now_ms())
        .bind(hash)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

/// After an account's own new password: ends every session and link it has (the epoch
/// moving on ends them too; marking them used also ends them for the pages that read them),
/// and lifts any wait its wrong guesses had put on it.
pub(crate) async fn password_replaced(
    conn: &mut sqlx::AnyConnection,
    kind: SubjectKind,
    subject_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE token SET used_at = $1 WHERE subject_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(subject_id)
        .execute(&mut *conn)
        .await?;
    throttle::clear_account(conn, kind, subject_id).await?;
    Ok(())
}

pub(crate) use crate::stored::SubjectKind;

impl SubjectKind {
    /// Whose work hashing their password is.
    pub(crate) fn work(self) -> Work {
        match self {
            SubjectKind::Staff => Work::Staff,
            SubjectKind::Learner => Work::Learner,
        }
    }

    /// The table the subject's password hash lives in.
    fn table(self) -> &'static str {
        match self {
            SubjectKind::Staff => "staff",
            SubjectKind::Learner => "learner",
        }
    }
}

/// Who a verified sign-in opens a session for.
pub(crate) struct SessionFor<'a> {
    pub(crate) kind: SubjectKind,
    pub(crate) school_id: &'a str,
    pub(crate) subject_id: &'a str,
    /// The credential epoch the session is bound to.
    pub(crate) epoch: i64,
    /// The hash the password was just verified against.
    pub(crate) stored_hash: &'a str,
}

/// Finishes a sign-in whose password was verified: replaces a hash made with weaker
/// settings (the only moment the password is known), and opens a session. Returns the
/// token and when it expires (Unix ms).
pub(crate) async fn open_session(
    state: &AppState,
    who: SessionFor<'_>,
    password: Sensitive<String>,
) -> Result<(Sensitive<String>, i64)> {
    if crate::password::needs_rehash(who.stored_hash) {
        let hash = state.hasher.hash(who.kind.work(), password).await?;
        // Only if the hash is still the one just verified: a password set meanwhile wins.
        let sql = format!(
            "UPDATE {} SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            who.kind.table()
        );
        sqlx::query(&sql)
            .bind(hash)
            .bind(who.subject_id)
            .bind(who.stored_hash)
            .execute(state.db.pool())
            .await?;
    }
    let mut conn = state.db.pool().acquire().await?;
    start_session(
        &mut conn,
        state,
        &Holder {
            kind: who.kind,
            school_id: who.school_id.to_owned(),
            subject_id: who.subject_id.to_owned(),
            epoch: who.epoch,
        },
        Proof::Password,
    )
    .await
}

/// Whose a session or link is: an account and the credential epoch it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub kind: SubjectKind,
    pub school_id: String,
    pub subject_id: String,
    pub epoch: i64,
}

/// Opens a session for `who`, proven by `proof`, on `conn` (a caller's transaction when the
/// session must stand or fall with something else). Returns the token and when it expires
/// (Unix ms).
pub(crate) async fn start_session(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    who: &Holder,
    proof: Proof,
) -> Result<(Sensitive<String>, i64)> {
    let now = state.clock.now_ms();
    let (token, hash) = new_token(&state.rng);
    let expires = now.saturating_add(crate::clock::millis(state.settings.session_ttl));
    sqlx::query(
        "INSERT INTO token (hash, purpose, school_id, subject_id, subject_kind, epoch,
                            created_at, expires_at, proof)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&hash)
    .bind(Sql(TokenPurpose::Session))
    .bind(&who.school_id)
    .bind(&who.subject_id)
    .bind(Sql(who.kind))
    .bind(who.epoch)
    .bind(now)
    .bind(expires)
    .bind(Sql(proof))
    .execute(&mut *conn)
    .await?;
    if who.kind == SubjectKind::Learner {
        sqlx::query("UPDATE learner SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&who.subject_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok((token, expires))
}

/// A request made with a valid staff session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who is asking, for the permission policy.
    pub actor: Actor,
    /// Who is asking, as shown.
    pub me: Me,
    /// The device they ask from, for the audit log.
    pub device: crate::audit::Device,
    token_hash: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    staff_id: String,
    school_id: String,
    role: Sql<Role>,
    username: String,
    display_name: String,
    school_name: String,
    school_slug: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let hash = presented_session(&parts.headers)?;
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.id AS staff_id, s.school_id, s.role, s.username, s.display_name,
                    sc.name AS school_name, sc.slug AS school_slug
             FROM token t
             JOIN staff s ON s.id = t.subject_id
             JOIN school sc ON sc.id = s.school_id
             WHERE t.hash = $1 AND t.purpose = $3 AND t.subject_kind = $4
               AND t.used_at IS NULL
               AND t.expires_at > $2 AND s.status = $5 AND s.credential_epoch = t.epoch",
        )
        .bind(&hash)
        .bind(state.clock.now_ms())
        .bind(Sql(TokenPurpose::Session))
        .bind(Sql(SubjectKind::Staff))
        .bind(Sql(Status::Active))
        .fetch_optional(state.db.pool())
        .await?;
        let row = row.ok_or_else(unauthenticated)?;
        let Ok(device) = crate::audit::Device::from_request_parts(parts, state).await;
        let role = *row.role;
        let staff_id = parse_id(&row.staff_id)?;
        let school_id = parse_id(&row.school_id)?;
        Ok(Self {
            actor: Actor {
                staff_id,
                school_id,
                role,
            },
            me: Me {
                id: staff_id,
                username: row.username,
                display_name: row.display_name,
                role,
                school_id,
                school_name: row.school_name,
                school_slug: row.school_slug,
            },
            device,
            token_hash: hash,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StaffLogin {
    id: String,
    password_hash: String,
    credential_epoch: i64,
}

/// Signs a member of staff in.
#[utoipa::path(post, path = paths::SIGN_IN, tag = "auth",
    request_body = SignInRequest,
    responses(
        (status = 200, body = Session, description = "Signed in"),
        (status = 401, body = classkeys_protocol::ErrorBody, description = "Wrong username or password"),
        (status = 429, body = classkeys_protocol::ErrorBody, description = "Too many failed attempts"),
    ))]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<ApiJson<Session>> {
    staff_sign_in(&state, address, request).await.map(ApiJson)
}

/// Signs a member of staff in from `address`: the rule behind the sign-in route, for any
/// page or API that signs staff in.
pub async fn staff_sign_in(
    state: &AppState,
    address: std::net::IpAddr,
    request: SignInRequest,
) -> Result<Session> {
    let wrong = || Error::new(ErrorCode::InvalidCredentials, "wrong username or password");
    // A place in the hashing queue before anything else: past its bound, nothing more is done.
    let ticket = state.hasher.ticket(Work::Staff)?;
    let password = Sensitive::new(request.password);
    let username = request.username.trim().to_lowercase();
    let school_id = resolve_school(state, request.school.as_deref()).await?;
    let Some(school_id) = school_id.filter(|_| username.len() <= Username::MAX_LEN) else {
        // Same work and answer as a wrong password, so school slugs cannot be probed.
        state.hasher.verify_with(ticket, None, password).await?;
        return Err(wrong());
    };
    let staff: Option<StaffLogin> = sqlx::query_as(
        "SELECT id, password_hash, credential_epoch FROM staff
         WHERE school_id = $1 AND username = $2 AND status = $3",
    )
    .bind(&school_id)
    .bind(&username)
    .bind(Sql(Status::Active))
    .fetch_optional(state.db.pool())
    .await?;
    let guess = Guess {
        kind: SubjectKind::Staff,
        school_id: &school_id,
        account: staff.as_ref().map(|s| s.id.as_str()),
        address,
        device: request.device_token.as_deref(),
    };
    let stored = staff.as_ref().map(|s| s.password_hash.clone());
    let checked = throttle::check_password(state, ticket, &guess, stored, password.clone()).await?;
    let (Some(device_token), Some(staff)) = (checked, staff.as_ref()) else {
        return Err(wrong());
    };
    let (token, expires) = open_session(
        state,
        SessionFor {
            kind: SubjectKind::Staff,
            school_id: &school_id,
            subject_id: &staff.id,
            epoch: staff.credential_epoch,
            stored_hash: &staff.password_hash,
        },
        password,
    )
    .await?;
    let me = load_me(state, &staff.id).await?;
    tracing::info!(staff = %staff.id, "staff signed in");
    Ok(Session {
        token: token.expose().clone(),
        expires_at: db::from_ms(expires),
        staff: me,
        device_token: device_token.expose().clone(),
    })
}

/// Asks a signed-in member of staff for their password again before something grave (the
/// whole school's export). Wrong answers are counted on a counter of their own, which only
/// a session can reach: no side door for guessing, and an attacker's failed sign-ins never
/// stand between a lead teacher and the export.
pub async fn confirm_password(
    state: &AppState,
    auth: &Authenticated,
    password: Sensitive<String>,
) -> Result<()> {
    let staff_id = auth.me.id.to_string();
    if !throttle::reconfirm(state, SubjectKind::Staff, &staff_id).await? {
        return Err(Error::new(
            ErrorCode::RateLimited,
            "too many wrong passwords: wait a few minutes and try again",
        ));
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM staff WHERE id = $1")
            .bind(auth.me.id.to_string())
            .fetch_optional(state.db.pool())
            .await?;
    if !state.hasher.verify(Work::Staff, stored, password).await? {
        return Err(Error::new(
            ErrorCode::InvalidCredentials,
            "that is not your password: enter the password you sign in with",
        )
        .with_field("password"));
    }
    throttle::reconfirmed(state, SubjectKind::Staff, &staff_id).await?;
    Ok(())
}

/// The school a sign-in is for: the named one, or the only one on the server.
async fn resolve_school(state: &AppState, slug: Option<&str>) -> Result<Option<String>> {
    if let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(crate::login_help::School::by_slug(state, slug)
            .await?
            .map(|s| s.id));
    }
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM school ORDER BY slug LIMIT 2")
        .fetch_all(state.db.pool())
        .await?;
    match ids.as_slice() {
        [only] => Ok(Some(only.clone())),
        [] => Ok(None),
        _ => Err(Error::new(
            ErrorCode::InvalidInput,
            "this server hosts several schools: say which one (the school's short name, its slug)",
        )
        .with_field("school")),
    }
}

async fn load_me(state: &AppState, staff_id: &str) -> Result<Me> {
    let row: SessionRow = sqlx::query_as(
        "SELECT s.id AS staff_id, s.school_id, s.role, s.username, s.display_name,
                sc.name AS school_name, sc.slug AS school_slug
         FROM staff s JOIN school sc ON sc.id = s.school_id WHERE s.id = $1",
    )
    .bind(staff_id)
    .fetch_one(state.db.pool())
    .await?;
    Ok(Me {
        id: parse_id(&row.staff_id)?,
        username: row.username,
        display_name: row.display_name,
        role: *row.role,
        school_id: parse_id(&row.school_id)?,
        school_name: row.school_name,
        school_slug: row.school_slug,
    })
}

/// Ends the session the request was made with.
#[utoipa::path(post, path = paths::SIGN_OUT, tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = classkeys_protocol::ErrorBody, description = "No valid session"),
    ))]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode> {
    end_session(&state, &auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is signed in.
#[utoipa::path(get, path = paths::ME, tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me, description = "The signed-in member of staff"),
        (status = 401, body = classkeys_protocol::ErrorBody, description = "No valid session"),
    ))]
pub(crate) async fn me(auth: Authenticated) -> ApiJson<Me> {
    ApiJson(auth.me)
}
