//! `/api/v1/learners`: search, create, edit, enrol, move, deactivate and reactivate.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Action;
use classkeys_domain::text::{like_contains, search_fold};
use classkeys_protocol::roster::{
    ActiveChange, EmailMove, EmailMoved, Enrolment, LearnerMove, LearnerPage, LearnerPatch,
    LearnerQuery, LearnerRecord, NewLearner,
};
use classkeys_protocol::sync::{OpKind, Record};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};

use crate::access;
use crate::auth::Authenticated;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiPath, ApiQuery, page_limit};
use crate::ops;
use crate::records::{self, LEARNER_COLUMNS, LEARNER_VISIBLE, LearnerRow, lead_flag};
use crate::state::AppState;
use crate::stored::{Spelled, Status};

/// Default page size of a learner search.
const DEFAULT_LIMIT: u32 = 100;
/// Largest page size of a learner search.
const MAX_LIMIT: u32 = 500;
/// Longest search text, and most words in it.
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 8;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::LEARNERS, get(learner_search).post(learner_create))
        .route(
            paths::LEARNER.template(),
            get(learner_get).patch(learner_update),
        )
        .route(paths::LEARNER_ENROLMENTS.template(), post(learner_enrol))
        .route(paths::LEARNER_ENROLMENT.template(), delete(learner_unenrol))
        .route(paths::LEARNER_MOVE.template(), post(learner_move))
        .route(
            paths::LEARNER_DEACTIVATE.template(),
            post(learner_deactivate),
        )
        .route(
            paths::LEARNER_REACTIVATE.template(),
            post(learner_reactivate),
        )
        .route(
            paths::LEARNER_EMAIL_MOVE.template(),
            post(learner_email_move),
        )
}

async fn run(
    state: &AppState,
    auth: &Authenticated,
    op: OpKind,
    base: Option<i64>,
) -> Result<Option<LearnerRecord>> {
    match ops::execute_for(state, auth, &op, base).await? {
        Some(Record::Learner(learner)) => Ok(Some(learner)),
        _ => Ok(None),
    }
}

/// Runs an operation after which the learner is still visible to the caller.
async fn run_visible(
    state: &AppState,
    auth: &Authenticated,
    op: OpKind,
    base: Option<i64>,
) -> Result<ApiJson<LearnerRecord>> {
    run(state, auth, op, base)
        .await?
        .map(ApiJson)
        .ok_or_else(|| Error::not_found("learner"))
}

/// Lists and searches the learners the caller may see.
#[utoipa::path(get, path = paths::LEARNERS, tag = "learners",
    security(("bearer" = [])),
    params(LearnerQuery),
    responses(
        (status = 200, body = LearnerPage, description = "One page of matching learners"),
        (status = 400, body = ErrorBody, description = "Invalid query"),
        (status = 404, body = ErrorBody, description = "The class filter names a class the caller cannot see"),
    ))]
pub(crate) async fn learner_search(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<LearnerQuery>,
) -> Result<ApiJson<LearnerPage>> {
    access::school(&auth.actor, Action::LearnerView, "learner")?;
    let limit = page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = query.offset.unwrap_or(0);
    let text = query.q.as_deref().unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("search text can have at most {MAX_QUERY_CHARS} characters"),
        )
        .with_field("q"));
    }
    let folded = search_fold(text);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > MAX_QUERY_WORDS {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("search with at most {MAX_QUERY_WORDS} words"),
        )
        .with_field("q"));
    }

    if words.is_empty() && !text.trim().is_empty() {
        // Only punctuation was typed: punctuation does not count in search, so nothing can
        // match it — rather than everything, which an empty query would list.
        return Ok(ApiJson(LearnerPage {
            items: Vec::new(),
            total: 0,
            offset,
            limit,
        }));
    }
    let mut conn = state.db.pool().acquire().await?;
    // $1 school, $2 staff, $3 lead flag, then the optional filters.
    let mut filter = String::new();
    let mut binds: Vec<String> = Vec::new();
    if let Some(class_id) = query.class_id {
        if records::class(&mut conn, &auth.actor, &class_id.to_string())
            .await?
            .is_none()
        {
            return Err(Error::not_found("class"));
        }
        binds.push(class_id.to_string());
        filter.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM enrollment fe WHERE fe.learner_id = l.id AND fe.class_id = ${})",
            3 + binds.len()
        ));
    }
    if query.include_inactive == Some(false) {
        binds.push(Status::Active.spelling().to_owned());
        filter.push_str(&format!(" AND l.status = ${}", 3 + binds.len()));
    }
    for word in &words {
        binds.push(like_contains(word));
        filter.push_str(&format!(
            " AND l.search_key LIKE ${} ESCAPE '\\'",
            3 + binds.len()
        ));
    }
    let from = format!("FROM learner l WHERE l.school_id = $1 AND {LEARNER_VISIBLE}{filter}");
    let count_sql = format!("SELECT COUNT(*) {from}");
    let page_sql = format!(
        "SELECT {LEARNER_COLUMNS} {from} ORDER BY l.sort_key{}, l.id LIMIT ${} OFFSET ${}",
        records::bytewise(&conn),
        4 + binds.len(),
        5 + binds.len()
    );
    let school = auth.actor.school_id.to_string();
    let staff = auth.actor.staff_id.to_string();
    let lead = lead_flag(&auth.actor);

    let mut count = sqlx::query_scalar::<_, i64>(&count_sql)
        .bind(&school)
        .bind(&staff)
        .bind(lead);
    for b in &binds {
        count = count.bind(b);
    }
    let total = count.fetch_one(&mut *conn).await?;

    let mut page = sqlx::query_as::<_, LearnerRow>(&page_sql)
        .bind(&school)
        .bind(&staff)
        .bind(lead);
    for b in &binds {
        page = page.bind(b);
    }
    let rows = page
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *conn)
        .await?;
    let items = records::learner_records(&mut conn, &auth.actor, rows).await?;
    Ok(ApiJson(LearnerPage {
        items,
        total,
        offset,
        limit,
    }))
}

/// One learner.
#[utoipa::path(get, path = paths::LEARNER.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = LearnerRecord, description = "The learner"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_get(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<LearnerRecord>> {
    let mut conn = state.db.pool().acquire().await?;
    records::learner(&mut conn, &auth.actor, &id.to_string())
        .await?
        .map(ApiJson)
        .ok_or_else(|| Error::not_found("learner"))
}

/// Creates a learner, enrolled in the given classes.
#[utoipa::path(post, path = paths::LEARNERS, tag = "learners",
    security(("bearer" = [])),
    request_body = NewLearner,
    responses(
        (status = 201, body = LearnerRecord, description = "Created"),
        (status = 400, body = ErrorBody, description = "Invalid name, username or email"),
        (status = 404, body = ErrorBody, description = "A class the caller cannot see"),
        (status = 409, body = ErrorBody, description = "Username or email belongs to another account"),
    ))]
pub(crate) async fn learner_create(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(new): ApiJson<NewLearner>,
) -> Result<(StatusCode, ApiJson<LearnerRecord>)> {
    let op = OpKind::LearnerCreate {
        learner_id: new.id.unwrap_or_else(LearnerId::generate),
        given_name: new.given_name,
        family_name: new.family_name,
        username: new.username,
        email: new.email,
        classes: new.classes,
    };
    let learner = run_visible(&state, &auth, op, None).await?;
    Ok((StatusCode::CREATED, learner))
}

/// Changes a learner's names, username or email.
#[utoipa::path(patch, path = paths::LEARNER.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = LearnerPatch,
    responses(
        (status = 200, body = LearnerRecord, description = "Changed"),
        (status = 400, body = ErrorBody, description = "Invalid value, or nothing to change"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "Username or email taken, or changed since base_version"),
    ))]
pub(crate) async fn learner_update(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(patch): ApiJson<LearnerPatch>,
) -> Result<ApiJson<LearnerRecord>> {
    let op = OpKind::LearnerUpdate {
        learner_id: id,
        given_name: patch.given_name,
        family_name: patch.family_name,
        username: patch.username,
        email: patch.email,
    };
    run_visible(&state, &auth, op, patch.base_version).await
}

/// Enrols a learner in a class.
#[utoipa::path(post, path = paths::LEARNER_ENROLMENTS.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = Enrolment,
    responses(
        (status = 200, body = LearnerRecord, description = "Enrolled (or already was)"),
        (status = 404, body = ErrorBody, description = "No such learner or class, or not the caller's"),
    ))]
pub(crate) async fn learner_enrol(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(enrolment): ApiJson<Enrolment>,
) -> Result<ApiJson<LearnerRecord>> {
    let op = OpKind::LearnerEnrol {
        learner_id: id,
        class_id: enrolment.class_id,
    };
    run_visible(&state, &auth, op, None).await
}

/// Takes a learner out of a class. Answers 204 when the caller can no longer see the learner.
#[utoipa::path(delete, path = paths::LEARNER_ENROLMENT.template(), tag = "learners",
    security(("bearer" = [])),
    params(
        ("id" = LearnerId, Path, description = "Learner id"),
        ("class_id" = ClassId, Path, description = "Class id"),
    ),
    responses(
        (status = 200, body = LearnerRecord, description = "Unenrolled"),
        (status = 204, description = "Unenrolled, and no longer one of the caller's learners"),
        (status = 404, body = ErrorBody, description = "No such learner or class, or not the caller's"),
    ))]
pub(crate) async fn learner_unenrol(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath((id, class_id)): ApiPath<(LearnerId, ClassId)>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let op = OpKind::LearnerUnenrol {
        learner_id: id,
        class_id,
    };
    Ok(match run(&state, &auth, op, None).await? {
        Some(learner) => ApiJson(learner).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Moves a learner from one class to another.
#[utoipa::path(post, path = paths::LEARNER_MOVE.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = LearnerMove,
    responses(
        (status = 200, body = LearnerRecord, description = "Moved"),
        (status = 400, body = ErrorBody, description = "The learner is not in the class moved from"),
        (status = 404, body = ErrorBody, description = "No such learner or class, or not the caller's"),
        (status = 409, body = ErrorBody, description = "Changed since base_version"),
    ))]
pub(crate) async fn learner_move(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<LearnerMove>,
) -> Result<ApiJson<LearnerRecord>> {
    let op = OpKind::LearnerMove {
        learner_id: id,
        from: request.from,
        to: request.to,
    };
    run_visible(&state, &auth, op, request.base_version).await
}

/// Deactivates a learner: they can no longer sign in, and keep their username and email.
#[utoipa::path(post, path = paths::LEARNER_DEACTIVATE.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = ActiveChange,
    responses(
        (status = 200, body = LearnerRecord, description = "Deactivated"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "Changed since base_version"),
    ))]
pub(crate) async fn learner_deactivate(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(change): ApiJson<ActiveChange>,
) -> Result<ApiJson<LearnerRecord>> {
    let op = OpKind::LearnerSetActive {
        learner_id: id,
        active: false,
    };
    run_visible(&state, &auth, op, change.base_version).await
}

/// Reactivates a learner.
#[utoipa::path(post, path = paths::LEARNER_REACTIVATE.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = ActiveChange,
    responses(
        (status = 200, body = LearnerRecord, description = "Reactivated"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "Changed since base_version"),
    ))]
pub(crate) async fn learner_reactivate(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(change): ApiJson<ActiveChange>,
) -> Result<ApiJson<LearnerRecord>> {
    let op = OpKind::LearnerSetActive {
        learner_id: id,
        active: true,
    };
    run_visible(&state, &auth, op, change.base_version).await
}

/// Moves another learner's email address to this learner, in one step, audited.
#[utoipa::path(post, path = paths::LEARNER_EMAIL_MOVE.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "The learner who gets the address")),
    request_body = EmailMove,
    responses(
        (status = 200, body = EmailMoved, description = "Moved: both learners as they are now"),
        (status = 400, body = ErrorBody, description = "The same learner twice, or the other learner has no address"),
        (status = 404, body = ErrorBody, description = "Either learner is not one of the caller's"),
        (status = 409, body = ErrorBody, description = "Changed since base_version"),
    ))]
pub(crate) async fn learner_email_move(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<EmailMove>,
) -> Result<ApiJson<EmailMoved>> {
    let op = OpKind::LearnerEmailMove {
        learner_id: id,
        from: request.from,
    };
    let learner = run_visible(&state, &auth, op, request.base_version)
        .await?
        .0;
    let mut conn = state.db.pool().acquire().await?;
    let from = records::learner(&mut conn, &auth.actor, &request.from.to_string())
        .await?
        .ok_or_else(|| Error::not_found("learner"))?;
    Ok(ApiJson(EmailMoved { learner, from }))
}
