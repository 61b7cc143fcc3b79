//! Starting and stopping the server: state from configuration, binding, graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::keys::{KeySource, MasterKey};
use crate::password::PasswordHasher;
use crate::state::{AppState, Settings};

/// The platform's data folder for the embedded default (SQLite file and master key):
/// `~/.local/share/classkeys` on Linux, `~/Library/Application Support/org.ClassKeys.classkeys`
/// on macOS, `%APPDATA%\ClassKeys\classkeys\data` on Windows.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("org", "ClassKeys", "classkeys")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("this system has no home folder to keep the database in: pass --database-url")
}

/// The embedded default database: a SQLite file in the data folder.
pub fn default_database_url() -> anyhow::Result<String> {
    Ok(format!(
        "sqlite://{}",
        default_data_dir()?.join("classkeys.db").display()
    ))
}

/// The embedded default master key file, created on first start.
pub fn default_key_source() -> anyhow::Result<KeySource> {
    Ok(KeySource::DefaultFile(
        default_data_dir()?.join("master.key"),
    ))
}

/// Connects to the database, runs migrations and loads the master key.
pub async fn build_state(
    database_url: &str,
    keys: &KeySource,
    settings: Settings,
) -> anyhow::Result<AppState> {
    let keys = MasterKey::load(keys)?;
    let db = Db::connect(database_url).await?;
    let mail = crate::mailer::Mailer::new(&settings.mail)?;
    Ok(AppState {
        db,
        hasher: PasswordHasher::new(),
        keys: Arc::new(keys),
        settings: Arc::new(settings),
        clock: crate::clock::Clock::system(),
        rng: crate::randomness::Randomness::system(),
        mail,
        help: crate::login_help::HelpDesk::default(),
    })
}

/// A server accepting connections in the background.
pub struct Running {
    /// The address it listens on (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// Its state, for tests that look behind the API.
    pub state: AppState,
    /// Held once by each connection being served.
    served: Arc<()>,
    purge: JoinHandle<()>,
    mail: JoinHandle<()>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds `listen` and serves the app until [`Running::stop`].
pub async fn start(state: AppState, listen: SocketAddr) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    start_on(state, listener).await
}

/// Serves `state` on a listener already bound (when the address must be known before the
/// state is built, say for its public URL).
pub async fn start_on(
    state: AppState,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let app = crate::app(state.clone());
    let served = Arc::new(());
    let purge = tokio::spawn(purge_on_schedule(state.clone()));
    let mail = tokio::spawn(crate::mail_queue::run(state.clone()));
    let task = tokio::spawn(serve(
        listener,
        app,
        state.settings.clone(),
        served.clone(),
        stopped,
    ));
    Ok(Running {
        addr,
        state,
        served,
        purge,
        mail,
        shutdown,
        task,
    })
}

/// Accepts connections until `stopped`, then lets requests in flight finish.
///
/// HTTP/1 only, served by hyper with a timer, so the header-read timeout holds: it closes a
/// connection that trickles its headers and, started again after each response, one that
/// sits idle between requests. At most `max_connections` are served at once: past that the
/// loop stops accepting, and new connections wait in the kernel's backlog.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    settings: Arc<Settings>,
    served: Arc<()>,
    mut stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let open = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut stopped => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: pause rather than spin, then go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = &mut stopped => break,
        };
        // The socket's address, for per-address throttling.
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request.map(axum::body::Body::new)
            },
        );
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        let served = served.clone();
        tokio::spawn(async move {
            let _open = (permit, served);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// How often what has expired is purged (throttle rows, sessions, links, devices, stored
/// push results).
const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

async fn purge_on_schedule(state: AppState) {
    // The first purge waits a full period: nothing has expired at start, and writers that
    // begin with a read (the demo seeding) are not raced.
    let mut every =
        tokio::time::interval_at(tokio::time::Instant::now() + PURGE_EVERY, PURGE_EVERY);
    loop {
        every.tick().await;
        match crate::throttle::purge(&state).await {
            Ok(removed) => tracing::debug!(removed, "purged expired rows"),
            Err(e) => tracing::warn!(error = ?e.into_body().message, "purging expired rows failed"),
        }
    }
}

/// The pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

impl Running {
    /// How many connections it is serving now.
    pub fn open_connections(&self) -> usize {
        // Besides the connections, this handle and the accepting loop hold one each.
        Arc::strong_count(&self.served).saturating_sub(2)
    }

    /// Stops accepting connections, lets requests in flight finish, closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.purge.abort();
        // A message being sent now is left to the lease, and sent after the next start.
        self.mail.abort();
        self.shutdown.send(()).ok();
        self.task.await??;
        self.state.db.close().await;
        Ok(())
    }
}
