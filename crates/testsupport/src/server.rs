//! A real server on a loopback port, on SQLite or PostgreSQL.
//!
//! PostgreSQL comes from `CLASSKEYS_TEST_POSTGRES_URL` (an administrator URL; each test
//! server gets its own fresh database). `./scripts/test` starts a throwaway PostgreSQL and
//! sets `CLASSKEYS_REQUIRE_POSTGRES=1`, so there a missing PostgreSQL fails the tests instead
//! of skipping them.
//!
//! [`TestServer::pause`] and [`TestServer::resume`] take a server down and bring it back on
//! the same address and database, so fault tests can show a real outage: connections
//! refused, then the same server again.

use classkeys_domain::secret::Sensitive;
use classkeys_server::clock::Clock;
use classkeys_server::db::Backend;
use classkeys_server::keys::KeySource;
use classkeys_server::mailer::MailRoute;
use classkeys_server::serve::{self, Running};
use classkeys_server::state::{AppState, Settings};
use sqlx::{Connection, Executor};

/// The PostgreSQL administrator URL for tests, if one is configured.
///
/// # Panics
/// When none is configured but `CLASSKEYS_REQUIRE_POSTGRES=1` says one must be.
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("CLASSKEYS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CLASSKEYS_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("CLASSKEYS_REQUIRE_POSTGRES=1 but CLASSKEYS_TEST_POSTGRES_URL is not set");
    }
    url
}

/// A running server with its own empty (or demo) database. [`TestServer::stop`] stops it
/// and drops its PostgreSQL database; a SQLite file goes with its temporary folder.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The database engine.
    pub backend: Backend,
    running: Option<Running>,
    /// What [`TestServer::resume`] needs to start the same server again.
    restart: Restart,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestServer {
    /// A server with an empty database.
    ///
    /// # Panics
    /// When the server cannot start, or PostgreSQL is asked for but not configured.
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, Settings::default()).await
    }

    /// A server with an empty database and the given settings (a short session lifetime,
    /// say).
    ///
    /// # Panics
    /// As [`TestServer::start`].
    pub async fn start_with(backend: Backend, settings: Settings) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("classkeys.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = postgres_admin_url()
                    .expect("PostgreSQL tests need CLASSKEYS_TEST_POSTGRES_URL");
                let name = format!("classkeys_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .expect("connecting to the test PostgreSQL");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("creating a test database");
                conn.close().await.ok();
                let url = replace_database(&admin, &name);
                (url, Some((admin, name)))
            }
        };
        let mut settings = settings;
        if let MailRoute::Outbox(outbox) = &mut settings.mail.route {
            *outbox = dir.path().join("outbox");
        }
        let restart = Restart {
            database_url: url,
            master_key: master_key_b64(),
            settings,
            addr: "127.0.0.1:0".parse().expect("loopback address"),
            clock: Clock::system(),
        };
        let running = restart.start().await;
        TestServer {
            url: format!("http://{}", running.addr),
            backend,
            restart: Restart {
                addr: running.addr,
                ..restart
            },
            running: Some(running),
            _dir: dir,
            postgres,
        }
    }

    /// A server with the demo school, every demo staff account using
    /// [`DEMO_PASSWORD`](crate::DEMO_PASSWORD).
    ///
    /// # Panics
    /// As [`TestServer::start`], or when seeding fails.
    pub async fn start_demo(backend: Backend) -> TestServer {
        Self::start_demo_with(backend, Settings::default()).await
    }

    /// [`TestServer::start_demo`] with the given settings.
    ///
    /// # Panics
    /// As [`TestServer::start_demo`].
    pub async fn start_demo_with(backend: Backend, settings: Settings) -> TestServer {
        let server = Self::start_with(backend, settings).await;
        let password = Sensitive::new(crate::DEMO_PASSWORD.to_owned());
        classkeys_server::demo::seed(server.state(), Some(password))
            .await
            .expect("seeding the demo school");
        server
    }

    /// The database URL (`sqlite://FILE` or `postgres://…`), for looking at what is stored.
    pub fn database_url(&self) -> &str {
        &self.restart.database_url
    }

    /// The server's state, for looking behind the API.
    ///
    /// # Panics
    /// While the server is paused.
    pub fn state(&self) -> &AppState {
        &self.running.as_ref().expect("the server is running").state
    }

    /// How many connections the server is serving now.
    ///
    /// # Panics
    /// While the server is paused.
    pub fn open_connections(&self) -> usize {
        self.running
            .as_ref()
            .expect("the server is running")
            .open_connections()
    }

    /// Moves the server's clock forward, as if `by` had passed: sessions, throttle windows
    /// and links expire without the test waiting.
    ///
    /// # Panics
    /// While the server is paused.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.state().clock.advance(by);
        // Mail that was waiting for later may be due now.
        self.state().mail.wake();
    }

    /// The folder the server writes mail into (unless it was given a mail server).
    pub fn outbox(&self) -> std::path::PathBuf {
        self._dir.path().join("outbox")
    }

    /// An API client signed in as the demo staff member `username` (password
    /// [`DEMO_PASSWORD`](crate::DEMO_PASSWORD)).
    ///
    /// # Panics
    /// When the sign-in is refused.
    pub async fn staff_client(&self, username: &str) -> classkeys_client::Client {
        classkeys_client::Client::new(&self.url)
            .expect("the server's address")
            .sign_in(&classkeys_protocol::auth::SignInRequest {
                school: None,
                username: username.into(),
                password: crate::DEMO_PASSWORD.into(),
                device_token: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{username} signs in through the API: {e}"))
            .0
    }

    /// Whether the demo school's learner `username` signs in with `password` through the
    /// learners' sign-in API.
    pub async fn learner_signs_in(&self, username: &str, password: &str) -> bool {
        classkeys_client::Client::new(&self.url)
            .expect("the server's address")
            .learner_sign_in(&classkeys_protocol::credentials::LearnerSignInRequest {
                school: "demo".into(),
                username: username.into(),
                password: password.into(),
                device_token: None,
            })
            .await
            .is_ok()
    }

    /// Waits until the outbox holds at least `count` messages, and returns them all,
    /// oldest first.
    ///
    /// # Panics
    /// When they do not come within [`DEADLINE`](crate::DEADLINE).
    pub async fn mail_in_outbox(&self, count: usize) -> Vec<crate::Mail> {
        crate::eventually("the messages are in the outbox", async || {
            let mails = crate::read_outbox(&self.outbox());
            if mails.len() >= count {
                Ok(mails)
            } else {
                Err(mails.len())
            }
        })
        .await
    }

    /// The server's address and port.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.restart.addr
    }

    /// Takes the server down as if it had stopped: it stops listening (new connections are
    /// refused), lets requests in flight finish and closes its database, which is kept for
    /// [`TestServer::resume`]. Does nothing when it is already down.
    pub async fn pause(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("stopping the server");
        }
    }

    /// Starts the paused server again on the same address, database and master key, as a
    /// restarted server would be. Does nothing when it is running.
    ///
    /// # Panics
    /// When it cannot start, for instance because something else took its port meanwhile.
    pub async fn resume(&mut self) {
        if self.running.is_none() {
            self.running = Some(self.restart.start().await);
        }
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.ok();
        }
        if let Some((admin, name)) = self.postgres.take()
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await
        {
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .ok();
        }
    }
}

/// How to start a test server's process again: the same database, key and settings.
struct Restart {
    database_url: String,
    master_key: String,
    settings: Settings,
    addr: std::net::SocketAddr,
    /// The world's time, which goes on across a restart (and keeps what a test moved it by).
    clock: Clock,
}

impl Restart {
    /// Starts the server. Unless the test chose a public URL, it is the server's own
    /// address, so links in mail lead back to it.
    async fn start(&self) -> Running {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("binding a loopback port");
        let mut settings = self.settings.clone();
        if settings.public_url == Settings::default().public_url {
            let addr = listener.local_addr().expect("a bound address");
            settings.public_url = format!("http://{addr}");
        }
        let keys = KeySource::Inline(Sensitive::new(self.master_key.clone()));
        let mut state = serve::build_state(&self.database_url, &keys, settings)
            .await
            .expect("building the server state");
        state.clock = self.clock.clone();
        serve::start_on(state, listener)
            .await
            .expect("starting the server")
    }
}

fn master_key_b64() -> String {
    use base64::Engine;
    // A fresh key per server: tests never depend on a fixed key.
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The same PostgreSQL URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
