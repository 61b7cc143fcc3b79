//! The app's one error, as the UI receives it: `{ "code": …, "message": … }`.
//!
//! The UI switches on [`AppErrorCode`] (a closed set) and shows `message`, which says what
//! happened and what to do next. Errors from the API client and the local replica are
//! translated here, once, so no screen ever matches on an error string.

use classkeys_protocol::{ErrorBody, ErrorCode};
use serde::Serialize;

/// Result of an app use case.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What kind of failure, for the UI to switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppErrorCode {
    /// The server could not be reached; local work goes on and is sent later.
    Offline,
    /// Nobody is signed in, or the session ended: show the sign-in screen.
    Unauthenticated,
    /// Wrong username or password at sign-in.
    InvalidCredentials,
    /// Signed in, but this role may not do this.
    Forbidden,
    /// No such class, learner or pending change (or one the user may not know about).
    NotFound,
    /// A typed value is not acceptable (a name, an address, a taken username…).
    InvalidInput,
    /// The record changed elsewhere since it was shown.
    Conflict,
    /// Too many attempts; wait before trying again.
    RateLimited,
    /// The operating system's credential store is missing or locked.
    CredentialStoreUnavailable,
    /// The local copy on this computer could not be read or written.
    LocalData,
    /// The server failed or answered something unreadable.
    Server,
    /// A fault in the app itself.
    Internal,
}

/// An error for the UI: a code to switch on and a message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What kind of failure.
    pub code: AppErrorCode,
    /// What happened and what to do next, for the teacher.
    pub message: String,
}

impl AppError {
    /// An error with a code and a message.
    pub fn new(code: AppErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The error for a use case that needs a session when there is none.
    pub(crate) fn not_signed_in() -> Self {
        Self::new(
            AppErrorCode::Unauthenticated,
            "you are not signed in: sign in to continue",
        )
    }
}

impl From<classkeys_client::Error> for AppError {
    fn from(e: classkeys_client::Error) -> Self {
        use classkeys_client::Error as E;
        match e {
            E::Transport { url, reason } => AppError::new(
                AppErrorCode::Offline,
                format!(
                    "could not reach the server at {url} ({reason}): check the network \
                     connection; changes you make are kept on this computer and sent when \
                     the server answers again"
                ),
            ),
            E::InvalidUrl { url, reason } => AppError::new(
                AppErrorCode::InvalidInput,
                format!("{url:?} is not a usable server address ({reason}): check the address"),
            ),
            insecure @ E::InsecureUrl { .. } => {
                AppError::new(AppErrorCode::InvalidInput, insecure.to_string())
            }
            E::Decode(reason) => AppError::new(
                AppErrorCode::Server,
                format!(
                    "the server's answer could not be read ({reason}): check that the address \
                     is a ClassKeys server and that the app and server versions match"
                ),
            ),
            E::Api { body, .. } => body.into(),
        }
    }
}

/// The server's refusal, as the API or a sync push answered it.
impl From<ErrorBody> for AppError {
    fn from(body: ErrorBody) -> Self {
        let code = match body.code {
            ErrorCode::Unauthenticated => {
                return AppError::new(
                    AppErrorCode::Unauthenticated,
                    "your session has ended: sign in again",
                );
            }
            ErrorCode::InvalidCredentials => AppErrorCode::InvalidCredentials,
            ErrorCode::Forbidden => AppErrorCode::Forbidden,
            ErrorCode::NotFound => AppErrorCode::NotFound,
            ErrorCode::BadRequest
            | ErrorCode::InvalidInput
            | ErrorCode::UsernameTaken
            | ErrorCode::EmailTaken
            | ErrorCode::ClassNameTaken
            | ErrorCode::PayloadTooLarge => AppErrorCode::InvalidInput,
            ErrorCode::ClassNotEmpty
            | ErrorCode::VersionConflict
            | ErrorCode::ClassChanged
            | ErrorCode::ImportHeld
            | ErrorCode::ImportStale => AppErrorCode::Conflict,
            ErrorCode::RateLimited => AppErrorCode::RateLimited,
            ErrorCode::Timeout | ErrorCode::Busy | ErrorCode::Internal => AppErrorCode::Server,
            // Both mean the app sent something it should not have, and a staff session is
            // never asked to change its password: our fault.
            ErrorCode::OperationIdReused
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::PasswordChangeRequired => AppErrorCode::Internal,
        };
        // The server's messages already say what to do next.
        AppError::new(code, body.message)
    }
}

impl From<classkeys_store::Error> for AppError {
    fn from(e: classkeys_store::Error) -> Self {
        match e {
            classkeys_store::Error::NoSuchConflict(_) => AppError::new(
                AppErrorCode::NotFound,
                format!("{e}: it may have been resolved already; refresh the list"),
            ),
            // The store's own messages name the way out (sign out and in to rebuild).
            _ => AppError::new(AppErrorCode::LocalData, e.to_string()),
        }
    }
}

impl From<classkeys_domain::InvalidInput> for AppError {
    fn from(e: classkeys_domain::InvalidInput) -> Self {
        AppError::new(AppErrorCode::InvalidInput, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_receives_a_code_and_a_message() {
        let e = AppError::new(AppErrorCode::CredentialStoreUnavailable, "no store");
        let json = serde_json::to_value(&e).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({ "code": "credential_store_unavailable", "message": "no store" })
        );
    }

    #[test]
    fn an_unreachable_server_is_offline_and_says_changes_are_kept() {
        let e = AppError::from(classkeys_client::Error::Transport {
            url: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        });
        assert_eq!(e.code, AppErrorCode::Offline);
        assert!(e.message.contains("kept on this computer"), "{e}");
    }

    #[test]
    fn server_error_codes_map_to_what_the_ui_can_act_on() {
        let api = |code| classkeys_client::Error::Api {
            status: 400,
            body: ErrorBody::new(code, "the server's words"),
        };
        for (server, app) in [
            (ErrorCode::EmailTaken, AppErrorCode::InvalidInput),
            (ErrorCode::VersionConflict, AppErrorCode::Conflict),
            (ErrorCode::ClassChanged, AppErrorCode::Conflict),
            (ErrorCode::Forbidden, AppErrorCode::Forbidden),
            (
                ErrorCode::InvalidCredentials,
                AppErrorCode::InvalidCredentials,
            ),
            (ErrorCode::Internal, AppErrorCode::Server),
        ] {
            let e = AppError::from(api(server));
            assert_eq!(e.code, app, "{server:?}");
            assert_eq!(e.message, "the server's words");
        }
        assert_eq!(
            AppError::from(api(ErrorCode::Unauthenticated)).code,
            AppErrorCode::Unauthenticated
        );
    }
}
