//! One module per area of commands; [`run`] dispatches.

mod audit;
mod auth;
mod maintenance;
mod rate_limits;
mod routes;
mod services;

use crate::cli::{Cli, Command};
use crate::client::Client;
use crate::config::Config;
use crate::error::Result;
use crate::output::Output;
use clap::CommandFactory;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<()> {
    let out = Output::new(cli.json);
    match cli.command {
        Command::Login(args) => auth::login(&out, args),
        Command::Logout => auth::logout(&out),
        Command::Config(command) => auth::config(&out, command),
        Command::Status(args) => routes::status(&out, &connect()?, args),
        Command::Services => services::list(&out, &connect()?),
        Command::CurrentService => {
            services::current(&out);
            Ok(())
        }
        Command::Enable(args) => routes::enable(&out, &connect()?, args),
        Command::Disable(args) => routes::disable(&out, &connect()?, args),
        Command::Maintenance(args) => routes::maintenance(&out, &connect()?, args),
        Command::Schedule(args) => routes::schedule(&out, &connect()?, args),
        Command::Env(command) => routes::env(&out, &connect()?, command),
        Command::Log(args) => audit::log(&out, &connect()?, args),
        Command::Global(command) => maintenance::global(&out, &connect()?, command),
        Command::ServiceMaintenance(command) => maintenance::service(&out, &connect()?, command),
        Command::RateLimits(command) => rate_limits::route(&out, &connect()?, command),
        Command::GlobalRateLimit(command) => rate_limits::global(&out, &connect()?, command),
        Command::ServiceRateLimit(command) => rate_limits::service(&out, &connect()?, command),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "waygate",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

/// A client of the configured server, with the stored login.
fn connect() -> Result<Client> {
    Client::new(&Config::load()?)
}

/// Prints `value` when `--json` was given and says whether it did: the commands print
/// their table or message otherwise.
fn printed_json(out: &Output, value: &serde_json::Value) -> bool {
    if out.json {
        out.json(value);
    }
    out.json
}

/// Prints the confirmation of an `{"ok": true}` action, or what the server said instead.
fn confirm_ok(out: &Output, value: &serde_json::Value, message: &str) {
    if printed_json(out, value) {
        return;
    }
    if value.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
        out.line(format!(
            "{} {message}",
            out.paint(crate::output::Colour::Green, "✓")
        ));
    } else {
        out.line(format!(
            "{} the server answered {value}",
            out.paint(crate::output::Colour::Yellow, "?")
        ));
    }
}
