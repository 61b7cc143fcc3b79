//! Learner sign-in: `POST /api/v1/learner/sign-in`.
//!
//! The answer never tells who has an account: an unknown school, an unknown username, a
//! deactivated learner, a learner without a password, a wrong password and a locked username
//! all get the same 401 with the same body, after the same argon2 work. Passwords are checked
//! against the argon2id hash only — never the sealed copy.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use classkeys_domain::identity::Username;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{LearnerMe, LearnerSession, LearnerSignInRequest};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};

use crate::auth::{SessionFor, SubjectKind, bearer_token, count_attempt, open_session, token_hash};
use crate::db::{self, parse_id};
use crate::error::{ApiError, ApiJson, Result};
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::LEARNER_SIGN_IN, post(learner_sign_in))
        .route(paths::LEARNER_ME, get(learner_me))
}

/// The throttle counter of a learner's username. A teacher's reset clears it.
pub fn throttle_key(school_id: &str, username: &str) -> String {
    format!("learner:{school_id}:{username}")
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
#[utoipa::path(post, path = "/api/v1/learner/sign-in", tag = "learners",
    request_body = LearnerSignInRequest,
    responses(
        (status = 200, body = LearnerSession, description = "Signed in"),
        (status = 401, body = ErrorBody, description = "Not signed in: the same answer for every reason"),
    ))]
pub(crate) async fn learner_sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LearnerSignInRequest>,
) -> Result<ApiJson<LearnerSession>> {
    let refused = || ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password");
    let password = Sensitive::new(request.password);
    let username = request.username.trim().to_lowercase();
    let slug = request.school.trim().to_lowercase();
    let school_id: Option<String> = sqlx::query_scalar("SELECT id FROM school WHERE slug = $1")
        .bind(&slug)
        .fetch_optional(state.db.pool())
        .await?;
    let Some(school_id) = school_id.filter(|_| username.len() <= Username::MAX_LEN) else {
        state.hasher.verify(None, password).await;
        return Err(refused());
    };
    let key = throttle_key(&school_id, &username);
    let now = db::now_ms();
    // Locked answers like a wrong password (and costs the same), so a lock reveals nothing.
    if count_attempt(&state, &key, now).await? {
        state.hasher.verify(None, password).await;
        return Err(refused());
    }
    let learner: Option<LearnerLogin> = sqlx::query_as(
        "SELECT id, username, given_name, password_hash, credential_epoch, must_change_password
         FROM learner WHERE school_id = $1 AND username = $2 AND status = 'active'",
    )
    .bind(&school_id)
    .bind(&username)
    .fetch_optional(state.db.pool())
    .await?;
    let stored = learner.as_ref().and_then(|l| l.password_hash.clone());
    if !state.hasher.verify(stored, password.clone()).await {
        return Err(refused());
    }
    let Some(learner) = learner else {
        return Err(refused());
    };
    // Verified above, so there is a hash.
    let stored_hash = learner.password_hash.as_deref().unwrap_or_default();
    let (token, expires) = open_session(
        &state,
        SessionFor {
            kind: SubjectKind::Learner,
            school_id: &school_id,
            subject_id: &learner.id,
            epoch: learner.credential_epoch,
            stored_hash,
            throttle_key: &key,
        },
        password,
    )
    .await?;
    tracing::info!(learner = %learner.id, "learner signed in");
    Ok(ApiJson(LearnerSession {
        token: token.expose().clone(),
        expires_at: db::from_ms(expires),
        learner_id: parse_id(&learner.id)?,
        username: learner.username,
        given_name: learner.given_name,
        must_change_password: learner.must_change_password != 0,
    }))
}

/// The signed-in learner. A session ends when it expires, when the learner is deactivated
/// and when their credential epoch moves on (any reset).
#[utoipa::path(get, path = "/api/v1/learner/me", tag = "learners",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LearnerMe, description = "The learner this session belongs to"),
        (status = 401, body = ErrorBody, description = "No valid learner session"),
    ))]
pub(crate) async fn learner_me(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<ApiJson<LearnerMe>> {
    let unauthenticated = || {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "sign in first: this request has no valid session (it may have ended)",
        )
    };
    let token = bearer_token(&headers).ok_or_else(unauthenticated)?;
    let row: Option<(String, String, String, i64)> = sqlx::query_as(
        "SELECT l.id, l.username, l.given_name, l.must_change_password
         FROM token t JOIN learner l ON l.id = t.subject_id
         WHERE t.hash = $1 AND t.purpose = 'session' AND t.subject_kind = 'learner'
           AND t.used_at IS NULL AND t.expires_at > $2
           AND l.status = 'active' AND l.credential_epoch = t.epoch",
    )
    .bind(token_hash(token))
    .bind(db::now_ms())
    .fetch_optional(state.db.pool())
    .await?;
    let (id, username, given_name, must_change) = row.ok_or_else(unauthenticated)?;
    Ok(ApiJson(LearnerMe {
        learner_id: parse_id(&id)?,
        username,
        given_name,
        must_change_password: must_change != 0,
    }))
}
