//! `login`, `logout` and `config`.

use super::printed_json;
use crate::cli::{ConfigCommand, Login};
use crate::client::{check_url, Client};
use crate::config::{self, Config, Source};
use crate::error::{Error, Result};
use crate::output::{Cell, Colour, Output, Table};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};

/// `login`: `POST api/auth/login`, then the token is stored.
pub(super) fn login(out: &Output, args: Login) -> Result<()> {
    let mut config = Config::load()?;
    let username = match args.username {
        Some(username) => username,
        None => prompt_username()?,
    };
    let password = match (args.password, args.password_stdin) {
        (Some(password), _) => password,
        (None, true) => read_stdin_line()?,
        (None, false) => rpassword::prompt_password("Password: ").map_err(|e| {
            Error::Input(format!("cannot read the password from the terminal ({e})"))
        })?,
    };
    let (url, source) = config::server_url(&config);
    // No token: a stale one must not decide how the server treats the login.
    let client = Client::with_url(url, &source, None)?;
    let answer = client
        .post(
            "/api/auth/login",
            Some(json!({ "username": username, "password": password })),
        )
        .map_err(|error| match error {
            Error::Api { status: 401, .. } => Error::Api {
                status: 401,
                message: format!("login refused: wrong username or password for {username:?}"),
                hint: Some(format!(
                    "check both and run `waygate login {username}` again"
                )),
            },
            Error::Api { status: 501, .. } => Error::Api {
                status: 501,
                message: format!("the server at {} has no auth configured", client.base()),
                hint: Some("every command works without logging in".to_owned()),
            },
            other => other,
        })?;
    let field = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::BadResponse {
                url: client.url("/api/auth/login"),
                detail: format!("the login answer has no {name:?}"),
            })
    };
    let login = config::Login {
        token: field("token")?,
        username: field("username")?,
        expires_at: field("expires_at")?,
    };
    config.set_login(&login);
    config.save()?;
    if out.json {
        // Never the token: it would end up in logs and terminals.
        out.json(&json!({ "username": login.username, "expires_at": login.expires_at }));
        return Ok(());
    }
    out.line(format!(
        "{} Logged in as {}",
        out.paint(Colour::Green, "✓"),
        out.paint(Colour::Bold, &login.username)
    ));
    out.line(format!("  Token expires: {}", login.expires_at));
    Ok(())
}

fn prompt_username() -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no username given: run `waygate login <username>`".to_owned(),
        ));
    }
    eprint!("Username: ");
    let _ = std::io::stderr().flush();
    let name = read_stdin_line()?;
    if name.is_empty() {
        return Err(Error::Usage("the username is empty".to_owned()));
    }
    Ok(name)
}

/// The first line of stdin, without its line ending.
fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Input(format!("cannot read stdin ({e})")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// `logout`: `POST api/auth/logout` with the stored token (if still valid), then it is
/// forgotten, even when the server cannot be reached.
pub(super) fn logout(out: &Output) -> Result<()> {
    let mut config = Config::load()?;
    let revoked = match config.valid_token() {
        Some(_) => Client::new(&config)?
            .post("/api/auth/logout", None)
            .map(drop),
        None => Ok(()),
    };
    config.clear_login();
    config.save()?;
    if let Err(error) = revoked {
        return Err(match error {
            Error::Unreachable { url, reason } => Error::Api {
                status: 0,
                message: format!(
                    "forgot the login here, but could not revoke the token at {url}: {reason}"
                ),
                hint: Some("it stays valid on the server until it expires".to_owned()),
            },
            other => other,
        });
    }
    if out.json {
        out.json(&json!({ "ok": true }));
    } else {
        out.line(format!("{} Logged out.", out.paint(Colour::Green, "✓")));
    }
    Ok(())
}

/// `config set-url` and `config show`.
pub(super) fn config(out: &Output, command: ConfigCommand) -> Result<()> {
    let mut config = Config::load()?;
    match command {
        ConfigCommand::SetUrl { url } => {
            let url = url.trim().trim_end_matches('/').to_owned();
            check_url(&url).map_err(|reason| Error::Usage(format!("{url:?} {reason}")))?;
            config.set_server_url(&url);
            config.save()?;
            let (used, source) = config::server_url(&config);
            if out.json {
                out.json(
                    &json!({ "server_url": url, "in_use": used, "source": source.to_string() }),
                );
                return Ok(());
            }
            out.line(format!(
                "{} Server URL set to {}",
                out.paint(Colour::Green, "✓"),
                out.paint(Colour::Cyan, &url)
            ));
            if !matches!(source, Source::ConfigFile(_)) {
                out.line(format!(
                    "  note: {used} (from {source}) takes precedence over it"
                ));
            }
            Ok(())
        }
        ConfigCommand::Show => {
            let (url, source) = config::server_url(&config);
            let login = config.login();
            let valid = login.as_ref().is_some_and(|login| !login.expired());
            let value = json!({
                "server_url": url,
                "source": source.to_string(),
                "username": login.as_ref().map(|l| l.username.clone()),
                "expires_at": login.as_ref().map(|l| l.expires_at.clone()),
                "logged_in": valid,
                "config_file": config.path().display().to_string(),
            });
            if printed_json(out, &value) {
                return Ok(());
            }
            let mut table = Table::new(&[]);
            table.row(vec![
                Cell::new("Server URL").colour(Colour::Dim),
                Cell::new(format!("{url}  ({source})")),
            ]);
            table.row(vec![
                Cell::new("Username").colour(Colour::Dim),
                Cell::new(
                    login
                        .as_ref()
                        .map_or("(not logged in)".to_owned(), |l| l.username.clone()),
                ),
            ]);
            let expiry = match &login {
                Some(login) if valid => Cell::new(login.expires_at.clone()).colour(Colour::Green),
                Some(login) => {
                    Cell::new(format!("{} (expired)", login.expires_at)).colour(Colour::Red)
                }
                None => Cell::new("(no token)"),
            };
            table.row(vec![Cell::new("Token expires").colour(Colour::Dim), expiry]);
            table.row(vec![
                Cell::new("Config file").colour(Colour::Dim),
                Cell::new(config.path().display().to_string()),
            ]);
            out.table(&table);
            Ok(())
        }
    }
}
