//! The server's one error type, apart from HTTP.
//!
//! The rules (roster changes, credentials, throttling, audit) return [`Error`]: either a
//! refusal, with a code and a message written for people (and the field at fault, the
//! record as it is now after a version conflict, or how long to wait), or an unexpected
//! failure, whose cause is logged and never shown. How an error is answered is decided at
//! the edges: [`crate::http`] turns it into the JSON error body and status; a page for
//! people can render the same message.

use classkeys_domain::InvalidInput;
use classkeys_domain::policy::Denial;
use classkeys_protocol::sync::Record;
use classkeys_protocol::{ErrorBody, ErrorCode};

use crate::password::{Busy, HashError};

/// Result of the rules and of the handlers over them.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why something was not done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be done as asked: the refusal says why.
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
    /// An unexpected failure (a database fault): logged, never shown.
    #[error("internal failure: {0:#}")]
    Internal(anyhow::Error),
}

/// A refusal, for people.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What kind of refusal, for programs.
    pub code: ErrorCode,
    /// What happened and what to do next.
    pub message: String,
    /// The request field at fault.
    pub field: Option<String>,
    /// After a version conflict: the record as it is now.
    pub current: Option<Record>,
    /// Seconds to wait before trying again.
    pub retry_after: Option<u32>,
}

/// What a client is told of an unexpected failure.
const INTERNAL_MESSAGE: &str = "the server could not complete this request; it has been logged";

/// How long a client turned away by a full hashing queue should wait: about the time the
/// queue takes to drain.
const BUSY_RETRY_SECONDS: u32 = 2;

impl Error {
    /// A refusal with a code and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Refused(Box::new(Refusal {
            code,
            message: message.into(),
            field: None,
            current: None,
            retry_after: None,
        }))
    }

    /// A refusal received as a body (a stored operation outcome).
    pub fn from_body(body: ErrorBody) -> Self {
        Error::Refused(Box::new(Refusal {
            code: body.code,
            message: body.message,
            field: body.field,
            current: body.current.map(|c| *c),
            retry_after: None,
        }))
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
        if let Error::Refused(refusal) = &mut err {
            refusal.current = Some(current);
        }
        err
    }

    /// An unexpected failure: the cause is logged, the client learns only that it happened.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Error::Internal(cause.into())
    }

    /// Tells the client to wait `seconds` before trying again.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        if let Error::Refused(refusal) = &mut self {
            refusal.retry_after = Some(seconds);
        }
        self
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: &str) -> Self {
        if let Error::Refused(refusal) = &mut self {
            refusal.field = Some(field.to_owned());
        }
        self
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Refused(refusal) => refusal.code,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether this is an unexpected failure rather than an answer about the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_))
    }

    /// Seconds to wait before trying again, when the refusal says.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        match self {
            Error::Refused(refusal) => refusal.retry_after,
            Error::Internal(_) => None,
        }
    }

    /// The body sent to the client. Logs an internal cause, which the body never holds.
    pub fn into_body(self) -> ErrorBody {
        match self {
            Error::Refused(refusal) => {
                let Refusal {
                    code,
                    message,
                    field,
                    current,
                    ..
                } = *refusal;
                let mut body = ErrorBody::new(code, message);
                body.field = field;
                body.current = current.map(Box::new);
                body
            }
            Error::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                ErrorBody::new(ErrorCode::Internal, INTERNAL_MESSAGE)
            }
        }
    }

    /// The record carried by a version conflict.
    pub fn take_current(&mut self) -> Option<Record> {
        match self {
            Error::Refused(refusal) => refusal.current.take(),
            Error::Internal(_) => None,
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Self::new(ErrorCode::InvalidInput, e.to_string()).with_field(e.field)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl From<Busy> for Error {
    fn from(_: Busy) -> Self {
        Self::new(
            ErrorCode::Busy,
            "the server is busy checking passwords: try again in a few seconds",
        )
        .retry_after(BUSY_RETRY_SECONDS)
    }
}

impl From<HashError> for Error {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy(busy) => busy.into(),
            HashError::Failed(cause) => Self::internal(cause),
        }
    }
}

/// A policy denial as the caller learns it: hidden things are "not found".
pub fn denied(denial: Denial, what: &str) -> Error {
    match denial {
        Denial::Hidden => Error::not_found(what),
        Denial::Forbidden(reason) => Error::new(ErrorCode::Forbidden, reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_cause_is_never_in_the_body() {
        let body = Error::internal(anyhow::anyhow!("password=hunter2 in a query")).into_body();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("hunter2"), "{}", body.message);
    }

    #[test]
    fn a_refusal_keeps_its_field_and_wait_through_the_body() {
        let err = Error::new(ErrorCode::RateLimited, "wait").with_field("password");
        let err = err.retry_after(30);
        assert_eq!(err.retry_after_seconds(), Some(30));
        let body = err.into_body();
        assert_eq!(body.field.as_deref(), Some("password"));
    }
}
