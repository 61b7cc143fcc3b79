//! `/api/v1/classes`: listing, creating and changing classes, and their teachers.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use classkeys_domain::ids::{ClassId, StaffId};
use classkeys_domain::policy::Action;
use classkeys_protocol::roster::{ClassPatch, ClassRecord, NewClass};
use classkeys_protocol::sync::{OpKind, Record};
use classkeys_protocol::{ErrorBody, paths};

use crate::access;
use crate::auth::Authenticated;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiPath};
use crate::ops;
use crate::records;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::CLASSES, get(class_list).post(class_create))
        .route(
            paths::CLASS.template(),
            get(class_get).patch(class_update).delete(class_delete),
        )
        .route(
            paths::CLASS_TEACHER.template(),
            put(class_assign_teacher).delete(class_unassign_teacher),
        )
}

/// Runs a class operation and answers with the class afterwards.
async fn run(
    state: &AppState,
    auth: &Authenticated,
    op: OpKind,
    base: Option<i64>,
) -> Result<ClassRecord> {
    match ops::execute_for(state, auth, &op, base).await? {
        Some(Record::Class(class)) => Ok(class),
        _ => Err(Error::not_found("class")),
    }
}

/// Classes the caller may see: a teacher's own, or every class for a lead teacher.
#[utoipa::path(get, path = paths::CLASSES, tag = "classes",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ClassRecord>, description = "Classes, by name"),
        (status = 401, body = ErrorBody, description = "No valid session"),
    ))]
pub(crate) async fn class_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<ApiJson<Vec<ClassRecord>>> {
    access::school(&auth.actor, Action::ClassView, "class")?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(ApiJson(
        records::visible_classes(&mut conn, &auth.actor).await?,
    ))
}

/// One class.
#[utoipa::path(get, path = paths::CLASS.template(), tag = "classes",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    responses(
        (status = 200, body = ClassRecord, description = "The class"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
    ))]
pub(crate) async fn class_get(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
) -> Result<ApiJson<ClassRecord>> {
    let mut conn = state.db.pool().acquire().await?;
    records::class(&mut conn, &auth.actor, &id.to_string())
        .await?
        .map(ApiJson)
        .ok_or_else(|| Error::not_found("class"))
}

/// Creates a class (lead teachers).
#[utoipa::path(post, path = paths::CLASSES, tag = "classes",
    security(("bearer" = [])),
    request_body = NewClass,
    responses(
        (status = 201, body = ClassRecord, description = "Created"),
        (status = 400, body = ErrorBody, description = "Invalid name or year group"),
        (status = 403, body = ErrorBody, description = "Teachers cannot create classes"),
        (status = 409, body = ErrorBody, description = "A class of that name exists"),
    ))]
pub(crate) async fn class_create(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(new): ApiJson<NewClass>,
) -> Result<(StatusCode, ApiJson<ClassRecord>)> {
    let op = OpKind::ClassCreate {
        class_id: new.id.unwrap_or_else(ClassId::generate),
        name: new.name,
        year_group: new.year_group,
    };
    let class = run(&state, &auth, op, None).await?;
    Ok((StatusCode::CREATED, ApiJson(class)))
}

/// Renames a class, changes its year group, archives or restores it.
#[utoipa::path(patch, path = paths::CLASS.template(), tag = "classes",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    request_body = ClassPatch,
    responses(
        (status = 200, body = ClassRecord, description = "Changed"),
        (status = 400, body = ErrorBody, description = "Invalid value, or nothing to change"),
        (status = 403, body = ErrorBody, description = "Only lead teachers archive classes"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "Name taken, or changed since base_version"),
    ))]
pub(crate) async fn class_update(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
    ApiJson(patch): ApiJson<ClassPatch>,
) -> Result<ApiJson<ClassRecord>> {
    let op = OpKind::ClassUpdate {
        class_id: id,
        name: patch.name,
        year_group: patch.year_group,
        archived: patch.archived,
    };
    run(&state, &auth, op, patch.base_version)
        .await
        .map(ApiJson)
}

/// Deletes an empty class (lead teachers).
#[utoipa::path(delete, path = paths::CLASS.template(), tag = "classes",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody, description = "Only lead teachers delete classes"),
        (status = 404, body = ErrorBody, description = "No such class"),
        (status = 409, body = ErrorBody, description = "The class still has learners"),
    ))]
pub(crate) async fn class_delete(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
) -> Result<StatusCode> {
    let op = OpKind::ClassDelete { class_id: id };
    ops::execute_for(&state, &auth, &op, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a member of staff one of the class's teachers (lead teachers).
#[utoipa::path(put, path = paths::CLASS_TEACHER.template(), tag = "classes",
    security(("bearer" = [])),
    params(
        ("id" = ClassId, Path, description = "Class id"),
        ("staff_id" = StaffId, Path, description = "Staff id"),
    ),
    responses(
        (status = 200, body = ClassRecord, description = "Assigned (or already was)"),
        (status = 403, body = ErrorBody, description = "Only lead teachers assign teachers"),
        (status = 404, body = ErrorBody, description = "No such class or member of staff"),
    ))]
pub(crate) async fn class_assign_teacher(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath((id, staff_id)): ApiPath<(ClassId, StaffId)>,
) -> Result<ApiJson<ClassRecord>> {
    let op = OpKind::ClassAssignTeacher {
        class_id: id,
        staff_id,
    };
    run(&state, &auth, op, None).await.map(ApiJson)
}

/// Takes a member of staff off the class (lead teachers).
#[utoipa::path(delete, path = paths::CLASS_TEACHER.template(), tag = "classes",
    security(("bearer" = [])),
    params(
        ("id" = ClassId, Path, description = "Class id"),
        ("staff_id" = StaffId, Path, description = "Staff id"),
    ),
    responses(
        (status = 200, body = ClassRecord, description = "Unassigned (or was not assigned)"),
        (status = 403, body = ErrorBody, description = "Only lead teachers assign teachers"),
        (status = 404, body = ErrorBody, description = "No such class or member of staff"),
    ))]
pub(crate) async fn class_unassign_teacher(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath((id, staff_id)): ApiPath<(ClassId, StaffId)>,
) -> Result<ApiJson<ClassRecord>> {
    let op = OpKind::ClassUnassignTeacher {
        class_id: id,
        staff_id,
    };
    run(&state, &auth, op, None).await.map(ApiJson)
}
