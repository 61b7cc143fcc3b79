//! What every request handler gets: narrow handles built once at start-up.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::db::Db;
use crate::keys::MasterKey;
use crate::mailer::{MailSettings, Mailer};
use crate::password::PasswordHasher;
use crate::randomness::Randomness;
use crate::throttle::Limits;

/// Settings that do not change while the server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address learners and parents use, for links in mail (never the request's Host).
    pub public_url: String,
    /// How long a staff session lasts.
    pub session_ttl: Duration,
    /// How long one request may take before it is answered with `timeout`.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request's headers, and how long it may
    /// stay idle between requests, before it is closed: a client that trickles headers or
    /// holds connections open does not keep them for ever.
    pub header_read_timeout: Duration,
    /// Connections served at once; further ones wait in the system's backlog until one
    /// closes, so a flood of connections costs a bounded amount of memory.
    pub max_connections: usize,
    /// The limits on password guesses.
    pub throttle: Limits,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Where mail goes and who sends it.
    pub mail: MailSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            session_ttl: Duration::from_secs(12 * 60 * 60),
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            throttle: Limits::default(),
            trusted_proxies: Vec::new(),
            // The server's command line and the test servers each choose their own folder.
            mail: MailSettings::outbox(
                std::env::temp_dir().join("classkeys-outbox"),
                "http://127.0.0.1:8080",
            ),
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
    /// The time, for everything that stamps or expires.
    pub clock: Clock,
    /// Randomness, for tokens, nonces, codes and generated passwords.
    pub rng: Randomness,
    /// Sends mail, and wakes the mail queue.
    pub mail: Mailer,
    /// The login helper's bounded background work.
    pub help: crate::login_help::HelpDesk,
}
