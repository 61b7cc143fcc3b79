//! The HTTP edge of errors: how an [`Error`] is answered (the one JSON error body, its
//! status, `Retry-After`), how axum's own rejections of a request become that body, and the
//! extractors that use it.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use classkeys_protocol::ErrorCode;

use crate::error::{Error, Result};

/// The status an error is answered with.
pub fn status(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = status(&self);
        let retry_after = self.retry_after_seconds();
        let mut response = (status, Json(self.into_body())).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The page size a list request asked for (`default` when it did not), refused unless it is
/// between 1 and `max`.
pub fn page_limit(asked: Option<u32>, default: u32, max: u32) -> Result<u32> {
    let limit = asked.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("limit must be between 1 and {max}"),
        )
        .with_field("limit"));
    }
    Ok(limit)
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::new(
                ErrorCode::BadRequest,
                format!("the request body has the wrong shape: {}", e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(e) => Self::new(
                ErrorCode::BadRequest,
                format!("the request body is not valid JSON: {}", e.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                ErrorCode::UnsupportedMediaType,
                "send the request body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large()
            }
            other => Self::new(ErrorCode::BadRequest, other.body_text()),
        }
    }
}

/// The answer to a body over the size limit.
pub fn too_large() -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the request body is larger than the server accepts ({} KiB)",
            crate::MAX_BODY_BYTES / 1024
        ),
    )
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            ErrorCode::BadRequest,
            format!("the query string is not valid: {}", rejection.body_text()),
        )
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no such resource: {}", rejection.body_text()),
        )
    }
}

/// JSON in and out, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Query parameters, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

/// Path parameters, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);
