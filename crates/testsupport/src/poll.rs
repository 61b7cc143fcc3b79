//! Waiting for something a person would wait for, with a deadline instead of a sleep.

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How long anything in these tests may take to show: generous, because a loaded two-core
/// machine running WebKit under Xvfb is slow, and a deadline only costs time on failure.
pub const DEADLINE: Duration = Duration::from_secs(45);

/// The pause between two looks. It only spaces the attempts; no test depends on it.
const INTERVAL: Duration = Duration::from_millis(100);

/// Calls `check` until it answers `Ok`, and returns that. `Err` carries what was seen
/// instead, which the panic after `DEADLINE` (45 s) shows next to `what` was awaited.
///
/// # Panics
/// When `check` has not answered `Ok` by the deadline.
pub async fn eventually<T, E: Debug>(
    what: &str,
    mut check: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("timed out after {DEADLINE:?} waiting until {what}; last seen: {seen:?}")
            }
            Err(_) => tokio::time::sleep(INTERVAL).await,
        }
    }
}
