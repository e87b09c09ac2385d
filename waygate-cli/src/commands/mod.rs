//! One module per area of commands; [`run`] dispatches.

mod audit;
mod auth;
mod flag_usage;
mod flags;
mod maintenance;
mod operator;
mod rate_limits;
mod routes;
mod segments;
#[cfg(feature = "server")]
mod serve;
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
        Command::Rollout(args) => operator::rollout(&out, &connect()?, args),
        Command::Bypass(command) => operator::bypass(&out, &connect()?, command),
        Command::Token(command) => operator::token(&out, &connect()?, command),
        Command::RateLimits(command) => rate_limits::route(&out, &connect()?, command),
        Command::GlobalRateLimit(command) => rate_limits::global(&out, &connect()?, command),
        Command::ServiceRateLimit(command) => rate_limits::service(&out, &connect()?, command),
        Command::Flags(command) => flags::run(&out, &connect()?, command),
        Command::Segments(command) => segments::run(&out, &connect()?, command),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::run(args),
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

/// One page of a listing the server sends newest first and cuts at `?limit=` (the audit
/// log, blocked requests): asks for one entry more than the pages up to `page` hold, so that
/// the footer knows whether a next page exists. With `--json` the page is printed as JSON,
/// and an empty listing prints `empty`; both return `None`. Otherwise: the page, the footer
/// and the request's URL, for the table.
fn newest_first(
    out: &Output,
    client: &Client,
    path: &str,
    route: Option<String>,
    (page, per_page): (u32, u32),
    empty: &str,
) -> Result<Option<Listing>> {
    let (page, per_page) = (page as usize, per_page as usize);
    let mut query = vec![(
        "limit",
        page.saturating_mul(per_page).saturating_add(1).to_string(),
    )];
    if let Some(route) = route {
        query.push(("route", route));
    }
    let all = client.get_list(path, &query)?;
    let (shown, footer) = crate::output::page(&all, page, per_page);
    if printed_json(out, &serde_json::Value::Array(shown.to_vec())) {
        return Ok(None);
    }
    if all.is_empty() {
        out.line(empty);
        return Ok(None);
    }
    Ok(Some((shown.to_vec(), footer, client.url(path))))
}

/// One page of entries, the footer under it, and the URL they came from.
type Listing = (Vec<serde_json::Value>, Option<String>, String);

/// Asks `question` on the terminal and says whether the answer was yes. Without a
/// terminal there is nobody to ask: a usage error that says to pass `--yes`.
fn confirm(question: &str) -> Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(crate::error::Error::Usage(format!(
            "{question} Pass --yes to confirm (stdin is not a terminal)"
        )));
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| crate::error::Error::Input(format!("cannot read the answer ({e})")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
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
