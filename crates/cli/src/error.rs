//! What went wrong, in words for the person at the terminal.
//!
//! Client errors are turned into one sentence each: the server's own message when it sent
//! one (it is written for people), the client's message when the server could not be reached
//! (it names the address), and fixed wordings for the two cases where the admin must act:
//! a refused permission and a missing or expired session.

use anyhow::anyhow;
use classkeys_client::Error;
use classkeys_domain::InvalidInput;
use classkeys_protocol::ErrorCode;

/// What to do when no session is stored or the server no longer accepts it.
pub const NOT_SIGNED_IN: &str = "not signed in, or the session has expired: run classkeys login";

/// A client error as the admin should read it.
pub fn explain(e: Error) -> anyhow::Error {
    match e.code() {
        Some(ErrorCode::Forbidden) => anyhow!("permission denied: {e}"),
        Some(ErrorCode::Unauthenticated) => anyhow!(NOT_SIGNED_IN),
        _ if matches!(e, Error::InsecureUrl { .. }) => anyhow!(
            "{e}; on a network you trust, add --allow-insecure-http (or set \
             CLASSKEYS_ALLOW_INSECURE_HTTP=1)"
        ),
        _ => anyhow!("{e}"),
    }
}

/// `.explained()` on client results, so command code reads as a straight line of calls.
pub trait Explained<T> {
    /// The result with its error put in the admin's words.
    fn explained(self) -> anyhow::Result<T>;
}

impl<T> Explained<T> for classkeys_client::Result<T> {
    fn explained(self) -> anyhow::Result<T> {
        self.map_err(explain)
    }
}

/// A typed value that breaks a domain rule, named by the flag or argument it came from, so
/// the admin knows which part of the command line to fix.
pub fn invalid(flag: &str, e: InvalidInput) -> anyhow::Error {
    anyhow!("{flag}: {}", e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use classkeys_protocol::ErrorBody;

    fn api(code: ErrorCode, message: &str) -> Error {
        Error::Api {
            status: code.http_status(),
            body: ErrorBody::new(code, message),
        }
    }

    #[test]
    fn forbidden_says_permission_denied_with_the_servers_reason() {
        let e = explain(api(
            ErrorCode::Forbidden,
            "only lead teachers can create classes",
        ));
        assert_eq!(
            e.to_string(),
            "permission denied: only lead teachers can create classes"
        );
    }

    #[test]
    fn an_expired_session_says_to_log_in() {
        let e = explain(api(ErrorCode::Unauthenticated, "session expired"));
        assert_eq!(e.to_string(), NOT_SIGNED_IN);
    }

    #[test]
    fn other_api_errors_pass_the_servers_message_through() {
        let msg = "that email already belongs to the deactivated account of zoe.adams";
        assert_eq!(explain(api(ErrorCode::EmailTaken, msg)).to_string(), msg);
    }

    #[test]
    fn transport_errors_name_the_server() {
        let e = explain(Error::Transport {
            url: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        });
        assert!(e.to_string().contains("http://127.0.0.1:9"), "{e}");
    }
}
