//! `classkeys`, the ClassKeys command line for school IT admins: sign in to a school
//! server, list classes and learners, and change them — from a terminal or a script.
//!
//! Every server call goes through `classkeys-client`; this crate adds what a command line
//! needs on top: the grammar ([`args`]), where the session is kept between runs
//! (`session_store`), turning typed names into ids (`resolve`), and printing for people or
//! for scripts (`output`, `table`). The binary itself (`main.rs`) only parses, runs and turns
//! a failure into `error: …` and exit code 1.
//!
//! Secrets: the password is read from `CLASSKEYS_PASSWORD` or a prompt without echo and sent
//! once; the session token lives only in the credential store or the 0600 token file. Neither
//! is ever printed.

pub mod args;
mod commands;
mod error;
mod output;
mod resolve;
mod session_store;
mod table;

pub use commands::run;
pub use table::terminal_safe;
