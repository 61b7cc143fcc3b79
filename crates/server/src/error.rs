//! The server's error type and its one JSON body.
//!
//! Handlers return [`ApiError`]. Expected failures carry a code and a message written for
//! people; unexpected ones (a database fault) carry their cause, which is logged here and
//! never sent: the client gets `internal` and a generic message.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use classkeys_domain::InvalidInput;
use classkeys_domain::policy::Denial;
use classkeys_protocol::sync::Record;
use classkeys_protocol::{ErrorBody, ErrorCode};

use crate::password::{Busy, HashError};

/// Result of a handler or of the code under it.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    body: ErrorBody,
    cause: Option<anyhow::Error>,
    /// Seconds the client should wait before trying again (`Retry-After`).
    retry_after: Option<u32>,
}

impl ApiError {
    /// An expected failure with a code and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            body: ErrorBody::new(code, message),
            cause: None,
            retry_after: None,
        }
    }

    /// An error received as a body (a stored operation outcome).
    pub fn from_body(body: ErrorBody) -> Self {
        Self {
            body,
            cause: None,
            retry_after: None,
        }
    }

    /// "Not found", worded the same whether the thing is missing or hidden.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no such {what}, or not one you can see"),
        )
    }

    /// The record changed since `base_version`; carries the record as it is now.
    pub fn version_conflict(current: Record) -> Self {
        let mut err = Self::new(
            ErrorCode::VersionConflict,
            "this record was changed by someone else since you loaded it: review the current version and apply your change again",
        );
        err.body.current = Some(Box::new(current));
        err
    }

    /// An unexpected failure: the cause is logged, the client learns only that it happened.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            body: ErrorBody::new(
                ErrorCode::Internal,
                "the server could not complete this request; it has been logged",
            ),
            cause: Some(cause.into()),
            retry_after: None,
        }
    }

    /// Tells the client to wait `seconds` before trying again.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: &str) -> Self {
        self.body.field = Some(field.to_owned());
        self
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    /// Whether this is an unexpected failure rather than an answer about the request.
    pub fn is_internal(&self) -> bool {
        self.body.code == ErrorCode::Internal
    }

    /// The body sent to the client. Also logs an internal cause.
    pub fn into_body(self) -> ErrorBody {
        if let Some(cause) = &self.cause {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        self.body
    }

    /// The record carried by a version conflict.
    pub fn take_current(&mut self) -> Option<Record> {
        self.body.current.take().map(|b| *b)
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        Self::new(ErrorCode::InvalidInput, e.to_string()).with_field(e.field)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

/// The page size a list request asked for (`default` when it did not), refused unless it is
/// between 1 and `max`.
pub fn page_limit(asked: Option<u32>, default: u32, max: u32) -> Result<u32> {
    let limit = asked.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("limit must be between 1 and {max}"),
        )
        .with_field("limit"));
    }
    Ok(limit)
}

/// A policy denial as the client sees it: hidden things are "not found".
pub fn denied(denial: Denial, what: &str) -> ApiError {
    match denial {
        Denial::Hidden => ApiError::not_found(what),
        Denial::Forbidden(reason) => ApiError::new(ErrorCode::Forbidden, reason),
    }
}

impl From<JsonRejection> for ApiError {
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
pub fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the request body is larger than the server accepts ({} KiB)",
            crate::MAX_BODY_BYTES / 1024
        ),
    )
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            ErrorCode::BadRequest,
            format!("the query string is not valid: {}", rejection.body_text()),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no such resource: {}", rejection.body_text()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let body = self.into_body();
        let status = StatusCode::from_u16(body.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// How long a client turned away by a full hashing queue should wait: about the time the
/// queue takes to drain.
const BUSY_RETRY_SECONDS: u32 = 2;

impl From<Busy> for ApiError {
    fn from(_: Busy) -> Self {
        Self::new(
            ErrorCode::Busy,
            "the server is busy checking passwords: try again in a few seconds",
        )
        .retry_after(BUSY_RETRY_SECONDS)
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy(busy) => busy.into(),
            HashError::Failed(cause) => Self::internal(cause),
        }
    }
}

/// JSON in and out, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Query parameters, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters, with rejections answered in the API's error body.
#[derive(Debug, Clone, Copy, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
