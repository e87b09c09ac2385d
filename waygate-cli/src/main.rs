//! `waygate`: the command-line tool of waygate. It manages the routes of a running service
//! through its admin REST API — the same API the Python `waygate` CLI talks to, so this tool
//! works against waygate services in Rust and in Python, and shares the Python CLI's config
//! file (`~/.waygate/config.json`), environment variables and `.waygate` discovery.
//!
//! ```text
//! cargo install --path waygate-cli
//! waygate config set-url http://localhost:8000/waygate
//! waygate login admin
//! waygate status
//! waygate disable GET:/payments --reason "hotfix" --until 2h
//! ```
//!
//! Exit codes: `0` success, `1` a refused or failed action (not found, ambiguous,
//! protected, auth, server unreachable), `2` a usage error.

mod cli;
mod client;
mod commands;
mod config;
mod error;
mod flag_cli;
mod model;
mod output;
mod route;
mod time;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2, `--help` and `--version` with 0 (clap's convention).
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error.to_string(), error.hint().as_deref());
            ExitCode::from(error.exit_code())
        }
    }
}
