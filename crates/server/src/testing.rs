//! A real server on a loopback port for tests, on SQLite or PostgreSQL.
//!
//! PostgreSQL comes from `CLASSKEYS_TEST_POSTGRES_URL` (an administrator URL; each test
//! server gets its own fresh database). `./scripts/test` starts a throwaway PostgreSQL and
//! sets `CLASSKEYS_REQUIRE_POSTGRES=1`, so there a missing PostgreSQL fails the tests instead
//! of skipping them.
//!
//! [`TestServer::pause`] and [`TestServer::resume`] take a server down and bring it back on
//! the same address and database, so fault tests can show a real outage: connections
//! refused, then the same server again.

mod link;

pub use link::Link;

use classkeys_domain::secret::Sensitive;
use sqlx::{Connection, Executor};

use crate::db::Backend;
use crate::keys::KeySource;
use crate::serve::{self, Running};
use crate::state::{AppState, Settings};

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
        let restart = Restart {
            database_url: url,
            master_key: master_key_b64(),
            settings,
            addr: "127.0.0.1:0".parse().expect("loopback address"),
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

    /// A server with the demo school, every demo staff account using `password`.
    ///
    /// # Panics
    /// As [`TestServer::start`], or when seeding fails.
    pub async fn start_demo(backend: Backend, password: &str) -> TestServer {
        let server = Self::start(backend).await;
        crate::demo::seed(server.state(), Some(Sensitive::new(password.to_owned())))
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
}

impl Restart {
    async fn start(&self) -> Running {
        let keys = KeySource::Inline(Sensitive::new(self.master_key.clone()));
        let state = serve::build_state(&self.database_url, &keys, self.settings.clone())
            .await
            .expect("building the server state");
        serve::start(state, self.addr)
            .await
            .expect("starting the server")
    }
}

/// A large school for benchmarks: `slug` with a lead teacher `lead` (password `password`),
/// `classes` classes ("Class 000"…) and `learners` learners spread over them, with names in
/// four scripts and an email for every third learner. Written in one transaction through
/// the same operations the API uses, so the data is exactly what a real school would hold.
///
/// # Panics
/// When any write fails (a benchmark has nothing sensible to do then).
pub async fn seed_large_school(
    server: &TestServer,
    slug: &str,
    password: &str,
    classes: usize,
    learners: usize,
) {
    use classkeys_domain::identity::Role;
    use classkeys_domain::ids::{ClassId, LearnerId};
    use classkeys_domain::policy::Actor;
    use classkeys_protocol::sync::OpKind;

    use crate::admin::{self, NewStaff};
    use crate::ops::{self, ChangeCtx};

    let state = server.state();
    let mut conn = state.db.pool().acquire().await.expect("a connection");
    let school = admin::create_school(&mut conn, &state.keys, "Benchmark School", slug)
        .await
        .expect("creating the school");
    drop(conn);
    let (mut tx, seq) = state
        .db
        .begin_change(&school.to_string())
        .await
        .expect("a change");
    let lead = admin::create_staff(
        &mut tx,
        &state.hasher,
        school,
        seq,
        NewStaff {
            username: "lead",
            display_name: None,
            role: Role::LeadTeacher,
            password: Sensitive::new(password.into()),
        },
    )
    .await
    .expect("creating the lead teacher");
    let actor = Actor {
        staff_id: lead,
        school_id: school,
        role: Role::LeadTeacher,
    };
    let cx = ChangeCtx::new(actor, seq, crate::db::now_ms());
    let mut class_ids = Vec::with_capacity(classes);
    for i in 0..classes {
        let class_id = ClassId::generate();
        let op = OpKind::ClassCreate {
            class_id,
            name: format!("Class {i:03}"),
            year_group: Some(format!("Year {}", i % 13)),
        };
        ops::apply(&mut tx, &cx, &op, None)
            .await
            .expect("creating a class");
        class_ids.push(class_id);
    }
    for i in 0..learners {
        let op = OpKind::LearnerCreate {
            learner_id: LearnerId::generate(),
            given_name: format!("Learner{i}"),
            family_name: ["Nowak", "Nguyễn", "Ó Briain", "Петров"][i % 4].into(),
            username: Some(format!("learner{i:05}")),
            email: (i % 3 == 0).then(|| format!("learner{i}@bench.example")),
            classes: vec![class_ids[i % classes]],
        };
        ops::apply(&mut tx, &cx, &op, None)
            .await
            .expect("creating a learner");
    }
    tx.commit().await.expect("committing the school");
}

/// Gives every learner of `slug` a teacher-set password and a parent access code, sealed as
/// a reset would leave them, for export benchmarks. All share one argon2 hash (made once):
/// hashing 100,000 passwords would take the benchmark an hour and measures nothing here.
///
/// # Panics
/// When any write fails.
pub async fn seed_sealed_credentials(server: &TestServer, slug: &str) {
    use classkeys_domain::generator::{self, PasswordStyle};
    use classkeys_domain::sealing::{self, Field, Scope, SealContext};
    let state = server.state();
    let (school, wrapped): (String, String) =
        sqlx::query_as("SELECT id, wrapped_data_key FROM school WHERE slug = $1")
            .bind(slug)
            .fetch_one(state.db.pool())
            .await
            .expect("the school");
    let key = state
        .keys
        .school_key(&school, &wrapped)
        .expect("the school's key");
    let hash = state
        .hasher
        .hash(Sensitive::new("shared-benchmark-hash".into()))
        .await
        .expect("a hash");
    let learners: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, credential_epoch FROM learner WHERE school_id = $1")
            .bind(&school)
            .fetch_all(state.db.pool())
            .await
            .expect("the learners");
    let mut tx = state.db.pool().begin().await.expect("a transaction");
    for (id, epoch) in &learners {
        let context = |epoch, field| SealContext {
            scope: Scope::School,
            owner: &school,
            learner: id,
            epoch,
            field,
        };
        let mut rng = rand::rng();
        let password = generator::generate(PasswordStyle::Words, &mut rng);
        let code = generator::parent_access_code(&mut rng);
        let sealed_password = sealing::seal(
            &key,
            &context(*epoch, Field::Password),
            password.expose(),
            &mut rng,
        );
        let sealed_code = sealing::seal(
            &key,
            &context(0, Field::ParentCode),
            code.expose(),
            &mut rng,
        );
        let fingerprint = sealing::fingerprint(&key, Field::ParentCode, code.expose());
        sqlx::query(
            "UPDATE learner SET password_hash = $1, password_sealed = $2, password_set_by = 'teacher',
                parent_code_sealed = $3, parent_code_fingerprint = $4 WHERE id = $5",
        )
        .bind(&hash)
        .bind(sealed_password.as_str())
        .bind(sealed_code.as_str())
        .bind(&fingerprint)
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("sealing a learner's codes");
    }
    tx.commit().await.expect("committing the codes");
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
