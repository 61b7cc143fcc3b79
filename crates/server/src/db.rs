//! The database: one code path for SQLite (the embedded default) and PostgreSQL (at scale),
//! through sqlx's `Any` driver, with the migrations in `migrations/` run at start.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// A connection pool and the engine behind it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file, for [`Db::sqlite_file`].
    sqlite_file: Option<PathBuf>,
}

/// Creates the SQLite file readable by its owner only, or narrows an existing one to that:
/// it holds password hashes and sealed secrets. SQLite gives the `-wal` and `-shm` files it
/// makes beside it the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// A transaction on the pool.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`) and brings the schema up to date.
    /// A missing SQLite file is created, with its folder.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let mut sqlite_file = None;
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            sqlite_file = Some(PathBuf::from(path));
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the database folder {}", dir.display()))?;
            }
            create_private(Path::new(path))
                .with_context(|| format!("creating the database file {path}"))?;
            let url = if url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            anyhow::bail!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                redact_url(url)
            );
        };
        let options = AnyConnectOptions::from_str(&url)
            .with_context(|| format!("reading the database URL {}", redact_url(&url)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL sync is durable
                        // in WAL mode except for the last transactions before a power cut.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("connecting to {}", redact_url(&url)))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("bringing the database schema up to date")?;
        Ok(Self {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file behind the pool (`None` on PostgreSQL), for the few bulk reads that
    /// go to the file directly ([`crate::bulk`]).
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// Starts a write transaction for a school and takes the school's next change number.
    ///
    /// Taking the number first is deliberate: it is a write, so SQLite takes its write lock
    /// at once (a deferred transaction that reads first can fail to upgrade), and PostgreSQL
    /// locks the school row until commit, so sequence numbers commit in order.
    pub async fn begin_change(&self, school: &str) -> sqlx::Result<(Tx, i64)> {
        let mut tx = self.pool.begin().await?;
        let seq = take_change_number(&mut tx, school).await?;
        Ok((tx, seq))
    }

    /// Starts a write transaction that is not a roster change (links issued, mail queued).
    /// On SQLite it takes the write lock at once: a deferred transaction that reads first
    /// fails to upgrade when another connection has written since.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Starts a read transaction that sees one consistent snapshot throughout.
    pub async fn begin_snapshot(&self) -> sqlx::Result<Tx> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .await?;
        }
        Ok(tx)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Takes a school's next change number inside the caller's transaction (see
/// [`Db::begin_change`] for why it comes first).
pub async fn take_change_number(conn: &mut sqlx::AnyConnection, school: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE school SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq",
    )
    .bind(school)
    .fetch_one(&mut *conn)
    .await
}

/// The current time in Unix milliseconds, as stored.
pub fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

/// A time as stored.
pub fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time.
pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Parses a stored id; a malformed one is database corruption, reported as such.
pub fn parse_id<T: FromStr>(s: &str) -> sqlx::Result<T> {
    s.parse()
        .map_err(|_| sqlx::Error::Decode(format!("malformed id {s:?} in the database").into()))
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let url = redact_userinfo(url).unwrap_or_else(|| url.to_owned());
    match url.split_once('?') {
        // Options may carry a password too (`?password=…`): show only their names.
        Some((base, query)) => {
            let names: Vec<&str> = query
                .split('&')
                .map(|pair| pair.split('=').next().unwrap_or(pair))
                .collect();
            format!("{base}?{}=…", names.join("=…&"))
        }
        None => url,
    }
}

fn redact_userinfo(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, host) = authority.rsplit_once('@')?;
    let user = userinfo.split(':').next().unwrap_or("");
    Some(format!("{scheme}://{user}:***@{host}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/keys"),
            "postgres://app:***@db.example:5432/keys"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/k.db"),
            "sqlite:///var/lib/k.db"
        );
    }
}
