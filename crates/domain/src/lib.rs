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
//! - [`generator`]: generated passwords (words, pronounceable, PIN, random) and parent
//!   access codes, from a caller-supplied CSPRNG.
//! - [`password_policy`]: a school's password rules per age band, and the check of typed
//!   passwords.
//! - [`sealing`]: the sealed (encrypted, context-bound) form of retrievable secrets.
//! - [`access_codes`]: access-code rows and their spreadsheet-safe CSV form.

pub mod access_codes;
pub mod downloads;
pub mod error;
pub mod generator;
pub mod identity;
pub mod ids;
pub mod lookalike;
pub mod password_policy;
pub mod policy;
pub mod sealing;
pub mod secret;
pub mod text;

pub use error::{InvalidInput, Result};
