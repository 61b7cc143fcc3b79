//! The commands: each takes its parsed arguments, talks to the server through
//! `classkeys-client`, and reports through [`Output`]. This file routes a parsed command
//! line to its command and opens the stored session for the commands that need one.

mod classes;
mod credentials;
mod duplicates;
mod import;
mod learners;
mod login;
mod messages;
mod why;

use anyhow::{Result, anyhow};
use classkeys_client::Client;

use crate::args::{Cli, Command};
use crate::error::{Explained, NOT_SIGNED_IN};
use crate::output::Output;
use crate::session_store::SessionStore;

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let out = Output { json: cli.json };
    let store = SessionStore::from_env()?;
    let net = Network {
        allow_insecure_http: cli.allow_insecure_http,
    };
    let connect = |store: &SessionStore| net.signed_in(store);
    match cli.command {
        Command::Login(args) => login::login(&store, net, args, out).await,
        Command::Logout => login::logout(&store, net, out).await,
        Command::Classes => classes::list(&connect(&store)?, out).await,
        Command::Class(command) => classes::run(&connect(&store)?, command, out).await,
        Command::Learners(args) => learners::list(&connect(&store)?, args, out).await,
        Command::Learner(command) => learners::run(&connect(&store)?, command, out).await,
        Command::Reset(args) => credentials::reset(&connect(&store)?, args, out).await,
        Command::Codes(args) => credentials::codes(&connect(&store)?, args, out).await,
        Command::Export(args) => credentials::export(&connect(&store)?, args, out).await,
        Command::Cards(args) => credentials::cards(&connect(&store)?, args, out).await,
        Command::Audit(args) => credentials::audit(&connect(&store)?, args, out).await,
        Command::Message(args) => messages::send(&connect(&store)?, args, out).await,
        Command::Why(args) => why::why(&connect(&store)?, args, out).await,
        Command::Duplicates => duplicates::list(&connect(&store)?, out).await,
        Command::Email(command) => duplicates::email(&connect(&store)?, command, out).await,
        Command::Import(args) => import::import(&connect(&store)?, args, out).await,
    }
}

/// How the command line may reach servers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Network {
    /// `--allow-insecure-http`: plain http:// to another computer.
    allow_insecure_http: bool,
}

impl Network {
    /// A client for the server at `url`.
    pub(crate) fn client(self, url: &str) -> Result<Client> {
        let client = if self.allow_insecure_http {
            Client::new_allowing_insecure_http(url)
        } else {
            Client::new(url)
        };
        client.explained()
    }

    /// A client for the stored session's server, presenting its token.
    fn signed_in(self, store: &SessionStore) -> Result<Client> {
        let session = store.load()?.ok_or_else(|| anyhow!(NOT_SIGNED_IN))?;
        Ok(self
            .client(&session.server)?
            .with_token(session.token.expose())
            .with_device(classkeys_client::device_name("classkeys command line")))
    }
}
