//! What every request handler gets: narrow handles built once at start-up.

use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use crate::keys::MasterKey;
use crate::password::PasswordHasher;

/// Settings that do not change while the server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address learners and parents use, for links in mail (never the request's Host).
    pub public_url: String,
    /// How long a staff session lasts.
    pub session_ttl: Duration,
    /// How long one request may take before it is answered with `timeout`.
    pub request_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            session_ttl: Duration::from_secs(12 * 60 * 60),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Password hashing, off the async runtime.
    pub hasher: PasswordHasher,
    /// The master key for sealing.
    pub keys: Arc<MasterKey>,
    /// Fixed settings.
    pub settings: Arc<Settings>,
}
