//! Starting and stopping the server: state from configuration, binding, graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;
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
    Ok(AppState {
        db,
        hasher: PasswordHasher::new(),
        keys: Arc::new(keys),
        settings: Arc::new(settings),
    })
}

/// A server accepting connections in the background.
pub struct Running {
    /// The address it listens on (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// Its state, for tests that look behind the API.
    pub state: AppState,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds `listen` and serves the app until [`Running::stop`].
pub async fn start(state: AppState, listen: SocketAddr) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let app = crate::app(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .await
    });
    Ok(Running {
        addr,
        state,
        shutdown,
        task,
    })
}

impl Running {
    /// Stops accepting connections, lets requests in flight finish, closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.send(()).ok();
        self.task.await??;
        self.state.db.close().await;
        Ok(())
    }
}
