//! The one JSON error body of the API, with its closed set of codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::sync::Record;

/// What went wrong, as a machine-readable code. Clients switch on this, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read: malformed JSON, a wrong type, a bad query string.
    BadRequest,
    /// A value was read but is not acceptable; `field` names it.
    InvalidInput,
    /// No valid session: sign in (again).
    Unauthenticated,
    /// Wrong username or password (deliberately not saying which).
    InvalidCredentials,
    /// Signed in, and the thing is visible, but this action is not allowed for this role.
    Forbidden,
    /// No such thing — or one the caller may not know about.
    NotFound,
    /// The learner must choose a new password before anything else.
    PasswordChangeRequired,
    /// The username belongs to another account.
    UsernameTaken,
    /// The email address belongs to another account (active or deactivated).
    EmailTaken,
    /// Another class of the school already has this name.
    ClassNameTaken,
    /// Only empty classes can be deleted.
    ClassNotEmpty,
    /// A class's learners changed since the caller's preview of a class reset: preview again.
    ClassChanged,
    /// The record changed since the caller last saw it; `current` holds it now.
    VersionConflict,
    /// An operation id was already used for a different operation.
    OperationIdReused,
    /// A roster import waits for a lead teacher's confirmation (the message says why).
    ImportHeld,
    /// A previewed roster import was already applied, or its preview is too old: preview
    /// the file again.
    ImportStale,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// The request body is not JSON.
    UnsupportedMediaType,
    /// Too many attempts; wait and try again.
    RateLimited,
    /// The server has too much work waiting; try again shortly (`Retry-After` says when).
    Busy,
    /// The server took too long.
    Timeout,
    /// Something failed on the server; the details are in its log, not here.
    Internal,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidInput => 400,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => 401,
            ErrorCode::Forbidden | ErrorCode::PasswordChangeRequired => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::UsernameTaken
            | ErrorCode::EmailTaken
            | ErrorCode::ClassNameTaken
            | ErrorCode::ClassNotEmpty
            | ErrorCode::ClassChanged
            | ErrorCode::VersionConflict
            | ErrorCode::OperationIdReused
            | ErrorCode::ImportHeld
            | ErrorCode::ImportStale => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            // Not 408, which would tell clients that they were slow and may resend at once.
            ErrorCode::Timeout | ErrorCode::Busy => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong and what to do next, for people.
    pub message: String,
    /// The request field at fault, for `invalid_input` and the `*_taken` codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `version_conflict`: the record as it is now on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<Record>>,
}

impl ErrorBody {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            current: None,
        }
    }

    /// The same error, naming the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
