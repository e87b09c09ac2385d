//! `status`, `enable`, `disable`, `maintenance`, `schedule` and `env`: one route's state.

use super::printed_json;
use crate::cli::{Change, Disable, EnvCommand, Maintenance, Schedule, Status};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{self, RouteState};
use crate::output::{self, Cell, Colour, Output, Table};
use crate::route::{b64u, Route, METHODS};
use crate::time::{show_minutes, to_wire};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};
use waygate_core::stored::RouteKey;

/// `status [ROUTE]`: `GET api/routes` (`?service=`), sorted by key, one page of it.
///
/// One route is picked from the list rather than read with `GET api/routes/{key}`, so that
/// a bare path shows the routes of every method it is served under, and an unknown route is
/// an error on both servers (the Python one answers an invented "active" state).
pub(super) fn status(out: &Output, client: &Client, args: Status) -> Result<()> {
    let service = args.service.get();
    let query: Vec<(&str, String)> = service
        .map(|s| ("service", s.to_owned()))
        .into_iter()
        .collect();
    let url = client.url("/api/routes");
    let mut routes: Vec<(RouteState, Value)> = client
        .get_list("/api/routes", &query)?
        .into_iter()
        .map(|item| {
            Ok((
                model::parse::<RouteState>(&item, "a route state", &url)?,
                item,
            ))
        })
        .collect::<Result<_>>()?;
    routes.sort_by(|a, b| a.0.path.cmp(&b.0.path));

    let (shown, footer): (Vec<&(RouteState, Value)>, Option<String>) = match &args.route {
        Some(route) => {
            let matching: Vec<_> = routes
                .iter()
                .filter(|(state, _)| matches(route, state, service.is_some()))
                .collect();
            if matching.is_empty() {
                return Err(Error::Api {
                    status: 404,
                    message: format!(
                        "no route {route}{}",
                        service
                            .map(|s| format!(" in service {s}"))
                            .unwrap_or_default()
                    ),
                    hint: Some("`waygate status` lists the routes the server knows".to_owned()),
                });
            }
            (matching, None)
        }
        None => {
            let (page, footer) = output::page(
                &routes,
                args.paging.page as usize,
                args.paging.per_page as usize,
            );
            (page.iter().collect(), footer)
        }
    };
    if printed_json(
        out,
        &Value::Array(shown.iter().map(|(_, raw)| raw.clone()).collect()),
    ) {
        return Ok(());
    }
    if shown.is_empty() {
        out.line(match service {
            Some(service) => format!("No routes registered for service {service}."),
            None => "No routes registered.".to_owned(),
        });
        if let Some(footer) = footer {
            out.line(footer);
        }
        return Ok(());
    }
    let with_service = service.is_none() && shown.iter().any(|(s, _)| s.service.is_some());
    let mut header = vec!["ROUTE"];
    if with_service {
        header.push("SERVICE");
    }
    header.extend(["STATUS", "REASON", "ENVS", "WINDOW END"]);
    let mut table = Table::new(&header);
    for (state, _) in &shown {
        let mut row = vec![Cell::new(state.local_path()).colour(Colour::Cyan)];
        if with_service {
            row.push(Cell::new(state.service.clone().unwrap_or_default()).colour(Colour::Dim));
        }
        row.extend([
            Cell::status(&state.status),
            Cell::new(state.reason.clone()),
            Cell::new(state.allowed_envs.join(", ")),
            Cell::new(
                state
                    .window
                    .as_ref()
                    .and_then(|w| w.end.as_deref())
                    .map(show_minutes)
                    .unwrap_or_default(),
            ),
        ]);
        table.row(row);
    }
    if let Some(service) = service {
        out.line(format!("Service: {service}"));
    }
    out.table(&table);
    if let Some(footer) = footer {
        out.line(footer);
    }
    Ok(())
}

/// Whether `state` is `route`: its key, or for a bare path, the key of any method; within
/// a service, its key without the service prefix.
fn matches(route: &Route, state: &RouteState, in_service: bool) -> bool {
    let key = if in_service {
        state.local_path()
    } else {
        state.path.clone()
    };
    if key == route.key() {
        return true;
    }
    route.method.is_none()
        && RouteKey::parse(&key).is_some_and(|k| {
            k.service().is_none()
                && k.method().is_some_and(|m| METHODS.contains(&m))
                && k.template() == route.path
        })
}

/// `enable ROUTE`: `POST api/routes/{key}/enable`.
pub(super) fn enable(out: &Output, client: &Client, args: Change) -> Result<()> {
    let changed = apply(&args, "enable", |key| {
        client.post(
            &format!("/api/routes/{}/enable", b64u(key)),
            Some(json!({ "reason": args.reason })),
        )
    })?;
    report(out, &changed, (Colour::Green, "✓"), &args.reason, ("", ""))
}

/// `disable ROUTE [--until]`: `POST api/routes/{key}/disable`, then for `--until` a window
/// from now until then (`POST api/routes/{key}/schedule`), as the Python CLI does: the
/// route is in maintenance until the end, then active.
pub(super) fn disable(out: &Output, client: &Client, args: Disable) -> Result<()> {
    let change = &args.change;
    let mut changed = apply(change, "disable", |key| {
        client.post(
            &format!("/api/routes/{}/disable", b64u(key)),
            Some(json!({ "reason": change.reason })),
        )
    })?;
    let Some(until) = args.until else {
        return report(out, &changed, (Colour::Red, "✗"), &change.reason, ("", ""));
    };
    let start = Utc::now();
    let end = start + until;
    for (key, state) in &mut changed {
        *state = client.post(
            &format!("/api/routes/{}/schedule", b64u(key)),
            Some(json!({ "start": to_wire(start), "end": to_wire(end), "reason": change.reason })),
        )?;
    }
    let note = format!(
        "  Auto-re-enable scheduled for {} (a maintenance window until then)",
        show_minutes(&to_wire(end))
    );
    report(
        out,
        &changed,
        (Colour::Red, "✗"),
        &change.reason,
        ("", &note),
    )
}

/// `maintenance ROUTE [--start --end]`: `POST api/routes/{key}/maintenance`.
pub(super) fn maintenance(out: &Output, client: &Client, args: Maintenance) -> Result<()> {
    let change = &args.change;
    let mut body = json!({ "reason": change.reason });
    if let (Some(start), Some(end)) = (args.start, args.end) {
        check_window(start, end)?;
        body["start"] = json!(to_wire(start));
        body["end"] = json!(to_wire(end));
    }
    let changed = apply(change, "maintenance", |key| {
        client.post(
            &format!("/api/routes/{}/maintenance", b64u(key)),
            Some(body.clone()),
        )
    })?;
    report(
        out,
        &changed,
        (Colour::Yellow, "⚠"),
        &change.reason,
        ("", ""),
    )
}

/// `schedule ROUTE --start --end`: `POST api/routes/{key}/schedule`; `--cancel`:
/// `DELETE` it.
pub(super) fn schedule(out: &Output, client: &Client, args: Schedule) -> Result<()> {
    let change = &args.change;
    if args.cancel {
        let changed = apply(change, "schedule --cancel", |key| {
            client.delete(&format!("/api/routes/{}/schedule", b64u(key)), &[])
        })?;
        if printed_json(out, &states(&changed)) {
            return Ok(());
        }
        for (key, state) in &changed {
            out.line(format!(
                "{} Cancelled the scheduled window of {}  (now {})",
                out.paint(Colour::Green, "✓"),
                shown_key(key, state),
                out.status(state.get("status").and_then(Value::as_str).unwrap_or("?")),
            ));
        }
        return Ok(());
    }
    let (Some(start), Some(end)) = (args.start, args.end) else {
        return Err(Error::Usage(
            "schedule needs --start and --end (or --cancel)".to_owned(),
        ));
    };
    check_window(start, end)?;
    let changed = apply(change, "schedule", |key| {
        client.post(
            &format!("/api/routes/{}/schedule", b64u(key)),
            Some(json!({ "start": to_wire(start), "end": to_wire(end), "reason": change.reason })),
        )
    })?;
    if printed_json(out, &states(&changed)) {
        return Ok(());
    }
    for (key, state) in &changed {
        out.line(format!(
            "{} Scheduled maintenance for {}",
            out.paint(Colour::Cyan, "⏰"),
            out.paint(Colour::Bold, &shown_key(key, state))
        ));
    }
    out.line(format!("   Start: {}", show_minutes(&to_wire(start))));
    out.line(format!("   End:   {}", show_minutes(&to_wire(end))));
    if !change.reason.is_empty() {
        out.line(format!("   Reason: {}", change.reason));
    }
    Ok(())
}

/// A window must end after it starts (the Python server would store one that does not).
fn check_window(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    if end <= start {
        return Err(Error::Usage(format!(
            "the window ends ({}) before it starts ({})",
            to_wire(end),
            to_wire(start)
        )));
    }
    Ok(())
}

/// `env set ROUTE ENV..` (`POST api/routes/{key}/env`) and `env clear ROUTE`
/// (`POST api/routes/{key}/enable`).
pub(super) fn env(out: &Output, client: &Client, command: EnvCommand) -> Result<()> {
    match command {
        EnvCommand::Set {
            route,
            envs,
            reason,
            service,
        } => {
            let change = Change {
                route,
                reason,
                service,
            };
            let changed = apply(&change, "env set", |key| {
                client.post(
                    &format!("/api/routes/{}/env", b64u(key)),
                    Some(json!({ "envs": envs })),
                )
            })?;
            if printed_json(out, &states(&changed)) {
                return Ok(());
            }
            for (key, state) in &changed {
                let allowed: Vec<&str> = state
                    .get("allowed_envs")
                    .and_then(Value::as_array)
                    .map(|envs| envs.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                out.line(format!(
                    "{} {} → {}  ({})",
                    out.paint(Colour::Blue, "🔒"),
                    shown_key(key, state),
                    out.status(state.get("status").and_then(Value::as_str).unwrap_or("?")),
                    allowed.join(", ")
                ));
            }
            Ok(())
        }
        EnvCommand::Clear {
            route,
            reason,
            service,
        } => {
            let change = Change {
                route,
                reason,
                service,
            };
            let changed = apply(&change, "env clear", |key| {
                client.post(
                    &format!("/api/routes/{}/enable", b64u(key)),
                    Some(json!({ "reason": change.reason })),
                )
            })?;
            report(
                out,
                &changed,
                (Colour::Green, "✓"),
                &change.reason,
                ("  (env gate removed)", ""),
            )
        }
    }
}

/// Sends `send` for the route's key; when the server says a bare path is ambiguous, asks
/// whether to apply it to every match (on a terminal), else fails listing them.
fn apply(
    change: &Change,
    command: &str,
    send: impl Fn(&str) -> Result<Value>,
) -> Result<Vec<(String, Value)>> {
    let key = change.route.service_key(change.service.get());
    match send(&key) {
        Ok(state) => Ok(vec![(key, state)]),
        Err(Error::Ambiguous { matches, .. }) => {
            if !confirm_all(&key, &matches, command)? {
                return Err(Error::Ambiguous {
                    route: key,
                    matches,
                    command: command.to_owned(),
                });
            }
            matches
                .into_iter()
                .map(|key| send(&key).map(|state| (key, state)))
                .collect()
        }
        Err(other) => Err(other),
    }
}

/// Lists the matches on stderr and asks, when stdin and stderr are terminals.
fn confirm_all(route: &str, matches: &[String], command: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "⚠  {route} is ambiguous — it matches {} routes:",
        matches.len()
    );
    for key in matches {
        let _ = writeln!(err, "    • {key}");
    }
    let _ = write!(
        err,
        "Apply '{command}' to all {} routes? [y/N] ",
        matches.len()
    );
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Input(format!("cannot read the answer ({e})")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// The states as one JSON array, for `--json`.
fn states(changed: &[(String, Value)]) -> Value {
    Value::Array(changed.iter().map(|(_, state)| state.clone()).collect())
}

/// The key the server resolved (its state's `path`), else the one sent.
fn shown_key(sent: &str, state: &Value) -> String {
    state
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or(sent)
        .to_owned()
}

/// `✓ GET:/payments → ACTIVE{suffix}` for each changed route, then the reason and a note.
fn report(
    out: &Output,
    changed: &[(String, Value)],
    (colour, mark): (Colour, &str),
    reason: &str,
    (suffix, note): (&str, &str),
) -> Result<()> {
    if printed_json(out, &states(changed)) {
        return Ok(());
    }
    for (key, state) in changed {
        let status = state.get("status").and_then(Value::as_str).unwrap_or("?");
        out.line(format!(
            "{} {} → {}{suffix}",
            out.paint(colour, mark),
            shown_key(key, state),
            out.status(status)
        ));
    }
    if !reason.is_empty() {
        out.line(format!("  Reason: {reason}"));
    }
    if !note.is_empty() {
        out.line(note);
    }
    Ok(())
}
