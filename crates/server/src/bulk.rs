//! Whole-school reads straight from the SQLite file.
//!
//! Through the pool, sqlx steps every SQLite statement on the connection's own thread,
//! sends each row across a channel and then copies it again into the `Any` driver's
//! values; for the 100,000 learners of a school export that was three quarters of the time
//! (`BENCHMARKS.md`). The reads that return a whole school instead open the file read-only
//! with rusqlite on a blocking thread and hand each row to the caller as it is stepped, so
//! the caller can work on the first rows while the last are still being read. One
//! statement reads one consistent snapshot, exactly as it would through the pool, and
//! write-ahead logging lets it run beside the writer.
//!
//! PostgreSQL streams rows to the pool's connection without such a hop, so it keeps the
//! ordinary path.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, Row};

/// How long a read waits if the file is being recovered or checkpointed (as the pool does).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `sql` with positional `params` (`$1`, `$2`, … in the SQL text shared with the
/// pool) on its own read-only connection to `file`, and hands `consume` the rows, each
/// turned into a `T` by `row`, as they are stepped. Blocking: call it from a blocking
/// thread.
pub fn query_each<T, R>(
    file: &Path,
    sql: &str,
    params: &[String],
    row: fn(&Row<'_>) -> rusqlite::Result<T>,
    consume: impl FnOnce(&mut dyn Iterator<Item = anyhow::Result<T>>) -> R,
) -> anyhow::Result<R> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} to read", file.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mut statement = conn.prepare(sql).context("preparing a bulk read")?;
    let mut rows = statement
        .query_map(rusqlite::params_from_iter(params), row)?
        .map(|r| r.context("reading rows in bulk"));
    Ok(consume(&mut rows))
}
