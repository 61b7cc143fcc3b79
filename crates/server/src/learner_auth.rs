//! Learners' own sessions: sign-in, who is signed in, sign-out, and choosing their own
//! password.
//!
//! The sign-in answer never tells who has an account: an unknown school, an unknown
//! username, a deactivated learner, a learner without a password, a wrong password and a
//! locked username all get the same 401 with the same body, after the same argon2 work.
//! Passwords are checked against the argon2id hash only — never the sealed copy.
//!
//! A learner whose teacher asked for a new password at the next sign-in ("must change") has
//! a session that can do nothing but choose one, or sign out. A password the learner chose
//! is theirs: the sealed copy a teacher could show is dropped, and the credential epoch
//! moves on, which ends every session and link issued before.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use classkeys_domain::identity::Username;
use classkeys_domain::password_policy::check_typed;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{
    AuditAction, LearnerMe, LearnerPasswordChange, LearnerSession, LearnerSignInRequest,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};

use crate::audit::{self, AuditActor, Device};
use crate::auth::{
    Holder, SessionFor, SubjectKind, end_session, open_session, password_replaced,
    presented_session, unauthenticated,
};
use crate::credentials::{learner_band, password_settings};
use crate::db::{self, parse_id};
use crate::error::{Error, Result};
use crate::http::ApiJson;
use crate::login_help::School;
use crate::password::Work;
use crate::state::AppState;
use crate::stored::{Proof, SetBy, Sql, Status, TokenPurpose};
use crate::throttle::{self, ClientAddress, Guess};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::LEARNER_SIGN_IN, post(learner_sign_in))
        .route(paths::LEARNER_ME, get(learner_me))
        .route(paths::LEARNER_SIGN_OUT, post(learner_sign_out))
        .route(paths::LEARNER_PASSWORD, post(learner_password_change))
}

#[derive(sqlx::FromRow)]
struct LearnerLogin {
    id: String,
    username: String,
    given_name: String,
    password_hash: Option<String>,
    credential_epoch: i64,
    must_change_password: i64,
}

/// Signs a learner in.
#[utoipa::path(post, path = paths::LEARNER_SIGN_IN, tag = "learners",
    request_body = LearnerSignInRequest,
    responses(
        (status = 200, body = LearnerSession, description = "Signed in"),
        (status = 401, body = ErrorBody, description = "Not signed in: the same answer for every reason"),
    ))]
pub(crate) async fn learner_sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<LearnerSignInRequest>,
) -> Result<ApiJson<LearnerSession>> {
    sign_in(&state, address, request).await.map(ApiJson)
}

/// Signs a learner in from `address`: the rule behind the sign-in route, for any page or
/// API that signs learners in.
pub async fn sign_in(
    state: &AppState,
    address: std::net::IpAddr,
    request: LearnerSignInRequest,
) -> Result<LearnerSession> {
    let refused = || Error::new(ErrorCode::InvalidCredentials, "wrong username or password");
    // A place in the hashing queue before anything else: past its bound, nothing more is done.
    let ticket = state.hasher.ticket(Work::Learner)?;
    let password = Sensitive::new(request.password);
    let username = request.username.trim().to_lowercase();
    let school = School::by_slug(state, &request.school).await?;
    let Some(school_id) = school
        .map(|s| s.id)
        .filter(|_| username.len() <= Username::MAX_LEN)
    else {
        state.hasher.verify_with(ticket, None, password).await?;
        return Err(refused());
    };
    let learner: Option<LearnerLogin> = sqlx::query_as(
        "SELECT id, username, given_name, password_hash, credential_epoch, must_change_password
         FROM learner WHERE school_id = $1 AND username = $2 AND status = $3",
    )
    .bind(&school_id)
    .bind(&username)
    .bind(Sql(Status::Active))
    .fetch_optional(state.db.pool())
    .await?;
    let guess = Guess {
        kind: SubjectKind::Learner,
        school_id: &school_id,
        account: learner.as_ref().map(|l| l.id.as_str()),
        address,
        device: request.device_token.as_deref(),
    };
    let stored = learner.as_ref().and_then(|l| l.password_hash.clone());
    let checked = throttle::check_password(state, ticket, &guess, stored, password.clone()).await?;
    let (Some(device_token), Some(learner)) = (checked, learner.as_ref()) else {
        return Err(refused());
    };
    // Verified above, so there is a hash.
    let stored_hash = learner.password_hash.as_deref().unwrap_or_default();
    let (token, expires) = open_session(
        state,
        SessionFor {
            kind: SubjectKind::Learner,
            school_id: &school_id,
            subject_id: &learner.id,
            epoch: learner.credential_epoch,
            stored_hash,
        },
        password,
    )
    .await?;
    tracing::info!(learner = %learner.id, "learner signed in");
    Ok(LearnerSession {
        token: token.expose().clone(),
        expires_at: db::from_ms(expires),
        learner_id: parse_id(&learner.id)?,
        username: learner.username.clone(),
        given_name: learner.given_name.clone(),
        must_change_password: learner.must_change_password != 0,
        device_token: device_token.expose().clone(),
    })
}

/// A request made with a valid learner session: the learner as the session reads them.
#[derive(sqlx::FromRow, Clone)]
pub(crate) struct LearnerAuthenticated {
    pub(crate) id: String,
    pub(crate) school_id: String,
    pub(crate) username: String,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    password_hash: Option<String>,
    credential_epoch: i64,
    pub(crate) must_change_password: i64,
    /// What the session was opened with.
    pub(crate) proof: Sql<Proof>,
    /// The session's stored hash, to end it.
    #[sqlx(skip)]
    pub(crate) token_hash: String,
}

impl FromRequestParts<AppState> for LearnerAuthenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let hash = presented_session(&parts.headers)?;
        Self::by_session(state, hash)
            .await?
            .ok_or_else(unauthenticated)
    }
}

impl LearnerAuthenticated {
    /// The learner whose live session hashes to `hash`, if any. A session ends when it
    /// expires, when the learner signs out or is deactivated, and when their credential
    /// epoch moves on (any reset or password change).
    pub(crate) async fn by_session(state: &AppState, hash: String) -> Result<Option<Self>> {
        let learner: Option<LearnerAuthenticated> = sqlx::query_as(
            "SELECT l.id, l.school_id, l.username, l.given_name, l.family_name, l.password_hash,
                    l.credential_epoch, l.must_change_password, t.proof
             FROM token t JOIN learner l ON l.id = t.subject_id
             WHERE t.hash = $1 AND t.purpose = $3 AND t.subject_kind = $4
               AND t.used_at IS NULL AND t.expires_at > $2
               AND l.status = $5 AND l.credential_epoch = t.epoch",
        )
        .bind(&hash)
        .bind(state.clock.now_ms())
        .bind(Sql(TokenPurpose::Session))
        .bind(Sql(SubjectKind::Learner))
        .bind(Sql(Status::Active))
        .fetch_optional(state.db.pool())
        .await?;
        Ok(learner.map(|learner| Self {
            token_hash: hash,
            ..learner
        }))
    }
}

impl LearnerAuthenticated {
    /// Refuses everything but choosing a password (and signing out) while the learner's
    /// teacher asks for a new one.
    fn password_chosen(self) -> Result<Self> {
        if self.must_change_password != 0 {
            return Err(Error::new(
                ErrorCode::PasswordChangeRequired,
                "choose a new password first: your teacher asked you to change the one you were given",
            ));
        }
        Ok(self)
    }
}

/// The signed-in learner.
#[utoipa::path(get, path = paths::LEARNER_ME, tag = "learners",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LearnerMe, description = "The learner this session belongs to"),
        (status = 401, body = ErrorBody, description = "No valid learner session"),
        (status = 403, body = ErrorBody, description = "The learner must choose a new password first"),
    ))]
pub(crate) async fn learner_me(auth: LearnerAuthenticated) -> Result<ApiJson<LearnerMe>> {
    let auth = auth.password_chosen()?;
    Ok(ApiJson(LearnerMe {
        learner_id: parse_id(&auth.id)?,
        username: auth.username,
        given_name: auth.given_name,
        must_change_password: auth.must_change_password != 0,
    }))
}

/// Ends the learner's session the request was made with.
#[utoipa::path(post, path = paths::LEARNER_SIGN_OUT, tag = "learners",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = ErrorBody, description = "No valid learner session"),
    ))]
pub(crate) async fn learner_sign_out(
    State(state): State<AppState>,
    auth: LearnerAuthenticated,
) -> Result<StatusCode> {
    end_session(&state, &auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in learner chooses their own password: checked against their age band's
/// rules, it replaces the old one, ends every session of theirs (this one included) and
/// answers with a new session.
#[utoipa::path(post, path = paths::LEARNER_PASSWORD, tag = "learners",
    security(("bearer" = [])),
    request_body = LearnerPasswordChange,
    responses(
        (status = 200, body = LearnerSession, description = "Changed; a new session"),
        (status = 400, body = ErrorBody, description = "The new password is refused, with the reason"),
        (status = 401, body = ErrorBody, description = "No valid learner session, or the current password is wrong"),
        (status = 429, body = ErrorBody, description = "Too many wrong current passwords"),
    ))]
pub(crate) async fn learner_password_change(
    State(state): State<AppState>,
    auth: LearnerAuthenticated,
    device: Device,
    ApiJson(request): ApiJson<LearnerPasswordChange>,
) -> Result<ApiJson<LearnerSession>> {
    change_own_password(&state, auth, &device, request)
        .await
        .map(ApiJson)
}

/// The signed-in learner `auth` chooses their own password: the rule behind the route, for
/// any page or API that offers it.
pub(crate) async fn change_own_password(
    state: &AppState,
    auth: LearnerAuthenticated,
    device: &Device,
    request: LearnerPasswordChange,
) -> Result<LearnerSession> {
    let current = Sensitive::new(request.current_password);
    let chosen = Sensitive::new(request.new_password);
    let refuse = |reason: &str| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("choose another password: {reason}"),
        )
        .with_field("new_password")
    };
    // A learner who came in through a sign-in link has forgotten their password: the link,
    // sent to their address, proved who they are.
    if auth.proof.0 == Proof::Password {
        confirm_current(state, &auth, &current).await?;
        if chosen.expose() == current.expose() {
            return Err(refuse("it is the password you have now"));
        }
    }
    let mut conn = state.db.pool().acquire().await?;
    let settings = password_settings(&mut conn, &auth.school_id).await?;
    let band = learner_band(&mut conn, &auth.id).await?;
    drop(conn);
    let names = [
        auth.username.as_str(),
        auth.given_name.as_str(),
        auth.family_name.as_str(),
    ];
    check_typed(chosen.expose(), settings.for_band(band), &names)
        .map_err(|weak| refuse(&weak.to_owner))?;

    let hash = state.hasher.hash(Work::Learner, chosen.clone()).await?;
    let now = state.clock.now_ms();
    let holder = Holder {
        kind: SubjectKind::Learner,
        school_id: auth.school_id.clone(),
        subject_id: auth.id.clone(),
        epoch: auth.credential_epoch,
    };
    let (mut tx, seq) = state.db.begin_change(&auth.school_id).await?;
    if !store_chosen_password(&mut tx, &holder, &hash, seq, now, device, "my_account").await? {
        return Err(Error::new(
            ErrorCode::Unauthenticated,
            "your password was changed meanwhile: sign in again",
        ));
    }
    tx.commit().await?;
    tracing::info!(learner = %auth.id, "learner chose a password");

    let epoch = auth.credential_epoch + 1;
    let device_token =
        throttle::remember_device(state, SubjectKind::Learner, &auth.school_id, &auth.id, now)
            .await?;
    let (token, expires) = open_session(
        state,
        SessionFor {
            kind: SubjectKind::Learner,
            school_id: &auth.school_id,
            subject_id: &auth.id,
            epoch,
            stored_hash: &hash,
        },
        chosen,
    )
    .await?;
    Ok(LearnerSession {
        token: token.expose().clone(),
        expires_at: db::from_ms(expires),
        learner_id: parse_id(&auth.id)?,
        username: auth.username,
        given_name: auth.given_name,
        must_change_password: false,
        device_token: device_token.expose().clone(),
    })
}

/// Stores the password a learner chose (`hash`) on `conn`, the change transaction numbered
/// `seq`: theirs alone from now on (no sealed copy a teacher could show), "must change"
/// done, the credential epoch moved on, which ends every session and link of theirs. Only
/// from the epoch `holder` was read at: `false` if a reset or another change came first.
/// `through` says where they chose it, for the audit log.
pub(crate) async fn store_chosen_password(
    conn: &mut sqlx::AnyConnection,
    holder: &Holder,
    hash: &str,
    seq: i64,
    now: i64,
    device: &Device,
    through: &str,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE learner SET password_hash = $1, password_sealed = NULL,
            password_set_by = $6, password_set_at = $2, must_change_password = 0,
            credential_epoch = credential_epoch + 1, seq = $3, updated_at = $2
         WHERE id = $4 AND credential_epoch = $5 AND status = $7",
    )
    .bind(hash)
    .bind(now)
    .bind(seq)
    .bind(&holder.subject_id)
    .bind(holder.epoch)
    .bind(Sql(SetBy::Learner))
    .bind(Sql(Status::Active))
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    password_replaced(conn, SubjectKind::Learner, &holder.subject_id, now).await?;
    audit::record(
        conn,
        AuditActor::Learner {
            school_id: &holder.school_id,
            learner_id: &holder.subject_id,
        },
        device,
        audit::Entry {
            at: now,
            action: AuditAction::LearnerPasswordChanged,
            class_id: None,
            learners: std::slice::from_ref(&holder.subject_id),
            detail: serde_json::json!({ "through": through }),
        },
    )
    .await?;
    Ok(true)
}

/// Checks the current password a signed-in learner typed. It is asked for so that a session
/// left open on a shared computer cannot take the account over; guesses at it count like
/// sign-in failures.
async fn confirm_current(
    state: &AppState,
    auth: &LearnerAuthenticated,
    current: &Sensitive<String>,
) -> Result<()> {
    if !throttle::reconfirm(state, SubjectKind::Learner, &auth.id).await? {
        return Err(Error::new(
            ErrorCode::RateLimited,
            "too many wrong passwords: wait a few minutes and try again",
        ));
    }
    if !state
        .hasher
        .verify(Work::Learner, auth.password_hash.clone(), current.clone())
        .await?
    {
        return Err(Error::new(
            ErrorCode::InvalidCredentials,
            "that is not your current password: type the password you signed in with",
        )
        .with_field("current_password"));
    }
    throttle::reconfirmed(state, SubjectKind::Learner, &auth.id).await?;
    Ok(())
}
