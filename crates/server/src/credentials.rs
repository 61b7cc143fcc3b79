//! Learners' passwords and parent access codes: resets, reveals and exports.
//!
//! Passwords arrive chosen by the client (generated or typed) and are checked here against
//! the school's policy; hashing (argon2id, in parallel across learners, bounded by the
//! hasher) happens before the write transaction opens, so the school's write lock is held
//! only for the row updates. A class reset is one transaction: every learner changes or none.
//!
//! A teacher-set password is kept sealed (XChaCha20-Poly1305 under the school's data key,
//! bound to learner, credential epoch and field) so it can be shown again; sign-in never
//! looks at the sealed copy, only the hash. Each reset bumps the learner's credential epoch,
//! which ends their sessions and makes any older sealed copy unopenable.
//!
//! Every reveal, reset, export and card print is audited before anything secret is sent.
//!
//! This module holds the routes, each a thin adapter over the rules in its parts:
//! `passwords` (teacher resets), `codes` (showing access codes, parent codes),
//! `export` (CSV files of a class or the whole school), `school` (a school's key, rules
//! and sign-in address) and `rows` (the credential columns as read).

mod codes;
mod export;
mod passwords;
mod rows;
mod school;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use classkeys_domain::downloads;
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Action;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{
    AccessCodes, ClassPasswordReset, CodesRequest, LearnerPasswordReset, SchoolExportRequest,
};
use classkeys_protocol::{ErrorBody, paths};

use crate::access;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::http::{ApiJson, ApiPath};
use crate::state::AppState;

pub use passwords::seed_generated_passwords;
pub(crate) use rows::learner_band;
pub use school::{SchoolContext, parse_colour, sign_in_url};
pub(crate) use school::{appearance, link_settings, password_settings};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::LEARNER_PASSWORD_RESET.template(),
            post(learner_password_reset),
        )
        .route(
            paths::LEARNER_ACCESS_CODES.template(),
            post(learner_access_codes),
        )
        .route(
            paths::LEARNER_PARENT_CODE.template(),
            post(learner_parent_code_rotate),
        )
        .route(
            paths::CLASS_PASSWORDS.template(),
            post(class_passwords_reset),
        )
        .route(
            paths::CLASS_ACCESS_CODES.template(),
            post(class_access_codes),
        )
        .route(
            paths::CLASS_ACCESS_CODES_EXPORT.template(),
            post(class_access_codes_export),
        )
        .route(paths::SCHOOL_EXPORT, post(school_export))
}

/// Sets one learner's password.
#[utoipa::path(post, path = paths::LEARNER_PASSWORD_RESET.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = LearnerPasswordReset,
    responses(
        (status = 200, body = AccessCodes, description = "Set; the learner's access codes with the new password"),
        (status = 400, body = ErrorBody, description = "The password is refused, with the reason"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_password_reset(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<LearnerPasswordReset>,
) -> Result<ApiJson<AccessCodes>> {
    passwords::reset_learner(&state, &auth.actor, &auth.device, id, request)
        .await
        .map(ApiJson)
}

/// Resets every active learner of a class: one password for all, or one each.
#[utoipa::path(post, path = paths::CLASS_PASSWORDS.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    request_body = ClassPasswordReset,
    responses(
        (status = 200, body = AccessCodes, description = "All set; the class's access codes with the new passwords"),
        (status = 400, body = ErrorBody, description = "A password is refused, with the reason"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "The class's learners changed since the preview"),
    ))]
pub(crate) async fn class_passwords_reset(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
    ApiJson(request): ApiJson<ClassPasswordReset>,
) -> Result<ApiJson<AccessCodes>> {
    passwords::reset_class(&state, &auth.actor, &auth.device, id, request)
        .await
        .map(ApiJson)
}

/// A class's access codes: usernames and parent codes, and passwords when revealed.
#[utoipa::path(post, path = paths::CLASS_ACCESS_CODES.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    request_body = CodesRequest,
    responses(
        (status = 200, body = AccessCodes, description = "The class's learners' access codes"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
    ))]
pub(crate) async fn class_access_codes(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
    ApiJson(request): ApiJson<CodesRequest>,
) -> Result<ApiJson<AccessCodes>> {
    codes::show_class(&state, &auth.actor, &auth.device, id, request)
        .await
        .map(ApiJson)
}

/// One learner's access codes (revealing one password).
#[utoipa::path(post, path = paths::LEARNER_ACCESS_CODES.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = CodesRequest,
    responses(
        (status = 200, body = AccessCodes, description = "The learner's access codes"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_access_codes(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<CodesRequest>,
) -> Result<ApiJson<AccessCodes>> {
    codes::show_learner(&state, &auth.actor, &auth.device, id, request)
        .await
        .map(ApiJson)
}

/// Replaces a learner's parent access code: parents already linked stay linked, the old
/// code links no one new.
#[utoipa::path(post, path = paths::LEARNER_PARENT_CODE.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = AccessCodes, description = "The learner's access codes with the new parent code"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_parent_code_rotate(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<AccessCodes>> {
    codes::rotate_parent_code(&state, &auth.actor, &auth.device, id)
        .await
        .map(ApiJson)
}

/// Downloads a class's access codes as CSV (active learners).
#[utoipa::path(post, path = paths::CLASS_ACCESS_CODES_EXPORT.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with BOM: class, given name, family name, username, password, parent access code, sign-in URL"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
    ))]
pub(crate) async fn class_access_codes_export(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<ClassId>,
) -> Result<Response> {
    let file = export::class_file(&state, &auth.actor, &auth.device, id).await?;
    Ok(csv_download(&file.file_name, file.body))
}

/// Downloads the whole school's access codes or student database (lead teachers, after
/// entering their password again).
#[utoipa::path(post, path = paths::SCHOOL_EXPORT, tag = "credentials",
    security(("bearer" = [])),
    request_body = SchoolExportRequest,
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with BOM (access codes, students)"),
        (status = 200, content_type = "application/zip", body = Vec<u8>, description = "OneRoster 1.2 CSV zip (roster)"),
        (status = 401, body = ErrorBody, description = "The password is wrong"),
        (status = 403, body = ErrorBody, description = "Only lead teachers can export the whole school"),
    ))]
pub(crate) async fn school_export(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(request): ApiJson<SchoolExportRequest>,
) -> Result<Response> {
    access::school(&auth.actor, Action::SchoolExport, "school")?;
    crate::auth::confirm_password(&state, &auth, Sensitive::new(request.password)).await?;
    let file = export::school_file(&state, &auth, request.kind).await?;
    Ok(download(file.content_type, &file.file_name, file.body))
}

/// A CSV file as a download that no cache keeps.
fn csv_download(file_name: &str, body: Vec<u8>) -> Response {
    download("text/csv; charset=utf-8", file_name, body)
}

/// A file as a download that no cache keeps.
fn download(content_type: &str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                downloads::content_disposition(file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_address_ignores_a_trailing_slash() {
        assert_eq!(
            sign_in_url("https://keys.example.org/", "demo"),
            "https://keys.example.org/s/demo/sign-in"
        );
    }
}
