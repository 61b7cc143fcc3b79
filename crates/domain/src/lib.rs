//! The rules of ClassKeys, shared by the server, the desktop app and the command line.
//!
//! Nothing here does IO: no clock, no randomness, no database. Callers pass in what a rule
//! needs, so every rule is tested with plain, deterministic unit tests.
//!
//! - [`ids`]: typed UUIDv7 identifiers, so a class id can never be passed as a learner id.
//! - [`text`]: Unicode normalisation for identity comparison and accent-insensitive search.
//! - [`identity`]: validated usernames, email addresses, person and class names.
//! - [`policy`]: the one permission policy (actor × action × resource) every handler asks.
//! - [`secret`]: a wrapper that keeps passwords and tokens out of logs.

pub mod error;
pub mod identity;
pub mod ids;
pub mod policy;
pub mod secret;
pub mod text;

pub use error::{InvalidInput, Result};
