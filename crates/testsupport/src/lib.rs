//! What the ClassKeys tests and benchmarks share, kept out of the product: every crate
//! takes this one as a dev-dependency only (the end-to-end crate, itself only tests, takes
//! it as a dependency), so `cargo tree -e normal -p classkeys-server` shows none of it.
//!
//! - [`TestServer`]: a real server on a loopback port, on SQLite or PostgreSQL, that can be
//!   paused and resumed on the same address and database.
//! - [`SmtpServer`], [`read_outbox`] and [`Mail`]: a real SMTP server on loopback, and the
//!   messages it or a server's outbox folder received, decoded as a recipient reads them.
//! - [`Link`]: a loopback relay to a server that a test can cut, as a school network fails.
//! - [`seed_large_school`] and [`seed_sealed_credentials`]: schools of benchmark size.
//! - [`DEMO_PASSWORD`]: the password of every demo staff account these servers hold.
//! - [`new_passwords`]: a class's new passwords, as a teacher's individual reset sends them.
//! - [`eventually`]: waiting for what a person would wait for, with a deadline, never a
//!   sleep.

mod link;
mod mail;
mod poll;
mod seed;
mod server;

pub use link::Link;
pub use mail::{Mail, SmtpOptions, SmtpServer, read_outbox};
pub use poll::{DEADLINE, eventually};
pub use seed::{seed_large_school, seed_sealed_credentials};
pub use server::{TestServer, postgres_admin_url};

/// The password of every staff account that [`TestServer::start_demo`] and
/// [`seed_large_school`] create.
pub const DEMO_PASSWORD: &str = "correct-horse-battery-42";

/// Each of `learners` with a new generated password of `style`, as a teacher's individual
/// class reset sends them.
pub fn new_passwords(
    learners: &[classkeys_protocol::roster::LearnerRecord],
    style: classkeys_domain::generator::PasswordStyle,
) -> Vec<classkeys_protocol::credentials::LearnerPassword> {
    learners
        .iter()
        .map(|l| classkeys_protocol::credentials::LearnerPassword {
            learner_id: l.id,
            password: classkeys_domain::generator::generate(style, &mut rand::rng())
                .expose()
                .clone(),
        })
        .collect()
}
