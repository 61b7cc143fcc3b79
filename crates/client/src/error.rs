//! Client errors: the server's own error body when it answered, or why it could not be
//! reached.

use classkeys_protocol::{ErrorBody, ErrorCode};

/// Result of a client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error.
    #[error("{}", .body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's error body.
        body: ErrorBody,
    },
    /// The server could not be reached, or the connection broke.
    #[error("could not reach the server at {url}: {reason}")]
    Transport {
        /// The server address.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server address is not usable.
    #[error("{url:?} is not a usable server address: {reason}")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The address is plain `http://` to another computer: passwords and access codes
    /// would cross the network unencrypted.
    #[error(
        "{url} is not encrypted (http://), so passwords and access codes would cross the \
         network readable by anyone on it: use the server's https:// address (plain http:// \
         is accepted only for this computer itself: localhost, 127.0.0.1 or ::1)"
    )]
    InsecureUrl {
        /// What was given.
        url: String,
    },
    /// The server's answer could not be read (a different version, or not a ClassKeys server).
    #[error("the server's answer could not be read: {0}")]
    Decode(String),
}

impl Error {
    /// The API error code, when the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// Whether the failure was the network rather than the server's answer: worth retrying.
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. })
    }

    pub(crate) fn transport(url: &str) -> impl FnOnce(reqwest::Error) -> Self + '_ {
        move |e| {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason = format!("{reason}: {s}");
                source = s.source();
            }
            Error::Transport {
                url: url.to_owned(),
                reason,
            }
        }
    }

    /// Turns an error status into [`Error::Api`], reading the server's error body.
    pub(crate) async fn check(resp: reqwest::Response) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let origin = resp.url().origin().ascii_serialization();
        let bytes = resp.bytes().await.unwrap_or_default();
        // A foreign body is never quoted: a server that echoes requests back would put the
        // sign-in password into the message.
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| {
            ErrorBody::new(
                ErrorCode::Internal,
                format!(
                    "{origin} answered {status} without a ClassKeys error body: is this the address of a ClassKeys server?"
                ),
            )
        });
        Err(Error::Api {
            status: status.as_u16(),
            body,
        })
    }
}
