//! The `classkeys` binary: parse the command line, run it, and report any failure as one
//! `error: …` line on standard error with exit code 1.

use std::process::ExitCode;

use clap::Parser;
use classkeys_cli::args::Cli;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match classkeys_cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` keeps the cause chain on one line ("could not write …: permission denied").
            eprintln!("error: {}", classkeys_cli::terminal_safe(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
