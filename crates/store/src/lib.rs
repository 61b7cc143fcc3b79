//! The desktop app's offline replica of a school, in one SQLite file.
//!
//! It holds what the signed-in member of staff may see (classes, learners, staff), so
//! lists and search work offline and instantly, and an **outbox** of the changes made on
//! this device until the server settles them (DESIGN §6).
//!
//! - [`replica`]: applying pulled changes, and reading classes, learners and staff.
//! - [`search`]: accent- and case-blind learner search over a trigram full-text index.
//! - [`outbox`]: queued operations, their outcomes, conflicts and their resolution.
//! - [`codes`]: parent access codes (sealed under the device key) for the offline
//!   access-code list.
//!
//! Invariants the rest of the app relies on:
//! - Every write is one transaction that starts with `BEGIN IMMEDIATE` (it takes the write
//!   lock up front, so a read-then-write never fails half-way on a busy database), and the
//!   file runs with `synchronous = FULL`: once a call returns, its change survives the app
//!   being killed or the machine losing power.
//! - A pull page is applied whole or not at all, together with its cursor, so a crash can
//!   only make the next pull repeat a page, which is harmless (applying is idempotent).
//! - An outbox entry and the optimistic local record it explains are written together.
//!
//! Nothing here talks to the network: the caller pulls and pushes with `classkeys-client`
//! and hands the answers over.

pub mod codes;
mod error;
pub mod outbox;
pub mod replica;
pub mod search;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use classkeys_protocol::auth::Me;
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;

pub use crate::error::{Error, Result};
pub use crate::outbox::{Conflict, Due, Rejection, Resolution, SyncCounts, retry_delay};

/// Where "now" comes from; tests pass a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How long a call waits for another connection's write lock before giving up. Writes here
/// are short; a long wait means something else holds the file (a backup tool, say).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Readers run beside the one writer (WAL); a desktop needs only a few.
const MAX_CONNECTIONS: u32 = 4;

/// Whom a replica belongs to: the server and the member of staff signed in to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The server's address, as the teacher typed it.
    pub server: String,
    /// The signed-in member of staff.
    pub staff: Me,
}

/// The local replica. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the replica at `path`, creating it if needed, and brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        create_private(path).map_err(|source| Error::Create {
            path: path.to_owned(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL, not the usual WAL pairing NORMAL: NORMAL may lose the last commits on a
            // power cut, and a change the teacher saw confirmed must not vanish.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|source| Error::Open {
                path: path.to_owned(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            clock: Arc::new(OffsetDateTime::now_utc),
        })
    }

    /// The same store, reading the time from `clock` (for tests, and for schedules that
    /// must agree with another component's clock).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// Closes every connection, finishing the write-ahead log into the main file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock now rather than at the
    /// first write, so a transaction that reads first cannot fail with "database is
    /// locked" half-way once another connection has written in between.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Whom this replica belongs to, if anyone has signed in.
    pub async fn account(&self) -> Result<Option<Account>> {
        let value = meta_get(&self.pool, META_ACCOUNT).await?;
        value
            .map(|v| serde_json::from_str(&v).map_err(|e| Error::corrupt("account")(e.to_string())))
            .transpose()
    }

    /// Records who signed in. If the replica belonged to someone else (another member of
    /// staff, or another server), it is wiped first, in the same transaction: one teacher
    /// never sees another's replica, nor pushes their unsent changes. Returns whether it was.
    pub async fn set_account(&self, account: &Account) -> Result<bool> {
        let json =
            serde_json::to_string(account).map_err(|e| Error::corrupt("account")(e.to_string()))?;
        let mut tx = self.write().await?;
        let previous: Option<Account> = meta_get(&mut *tx, META_ACCOUNT)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok());
        let same_owner = previous.as_ref().is_some_and(|p| {
            p.server == account.server
                && p.staff.id == account.staff.id
                && p.staff.school_id == account.staff.school_id
        });
        let has_data: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM meta) OR EXISTS (SELECT 1 FROM outbox)
                 OR EXISTS (SELECT 1 FROM class) OR EXISTS (SELECT 1 FROM learner)",
        )
        .fetch_one(&mut *tx)
        .await?;
        let wipe = !same_owner && has_data;
        if wipe {
            wipe_all(&mut tx).await?;
        }
        meta_set(&mut *tx, META_ACCOUNT, &json).await?;
        tx.commit().await?;
        Ok(wipe)
    }

    /// Where the next pull starts; `None` before the first pull.
    pub async fn cursor(&self) -> Result<Option<String>> {
        meta_get(&self.pool, META_CURSOR).await
    }

    /// Wipes everything: records, outbox, cursor and account (sign-out). The freed pages
    /// are then vacuumed and the write-ahead log truncated, so learners' names do not linger
    /// in the file on a shared computer.
    pub async fn clear(&self) -> Result<()> {
        let mut tx = self.write().await?;
        wipe_all(&mut tx).await?;
        tx.commit().await?;
        sqlx::query("VACUUM").execute(&self.pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

const META_CURSOR: &str = "cursor";
const META_ACCOUNT: &str = "account";

async fn meta_get<'c, E>(conn: E, key: &str) -> Result<Option<String>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(conn)
        .await?)
}

async fn meta_set<'c, E>(conn: E, key: &str, value: &str) -> Result<()>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

async fn wipe_all(tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
    // Learners are deleted row by row (not by dropping the index's content) so that the
    // triggers empty the search index in step with its content table.
    for table in [
        "outbox",
        "parent_code",
        "enrolment",
        "learner",
        "class",
        "staff",
        "meta",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A fresh store in a temporary folder, for the unit tests beside the code.

    use super::Store;

    pub(crate) async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = Store::open(dir.path().join("replica.db"))
            .await
            .expect("opening a fresh store");
        (store, dir)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_replica_and_its_journal_are_private_to_their_owner() {
        let (store, dir) = test_support::store().await;
        meta_set(&store.pool, "probe", "written").await.unwrap();
        for name in ["replica.db", "replica.db-wal", "replica.db-shm"] {
            assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
        }
        store.close().await;

        // A replica left readable by others (an older version, a copy) is narrowed on open.
        let path = dir.path().join("replica.db");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = Store::open(&path).await.unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            meta_get(&store.pool, "probe").await.unwrap().as_deref(),
            Some("written")
        );
    }
}

/// Creates the replica readable by its owner only, or narrows an existing one to that: it
/// holds the names and usernames of the teacher's learners. SQLite gives the `-wal` and
/// `-shm` files it makes beside it the same mode.
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
