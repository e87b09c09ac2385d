//! `rl ..`, `grl ..` and `srl ..`: per-route, global and per-service rate limits.

use super::maintenance::segment;
use super::{confirm_ok, newest_first, printed_json};
use crate::cli::{GlobalRateLimitCommand, LimitOptions, RateLimitCommand, ServiceRateLimitCommand};
use crate::client::Client;
use crate::error::Result;
use crate::model::{self, GlobalPolicyState, Hit, Policy};
use crate::output::{self, Cell, Colour, Output, Table};
use crate::route::b64u;
use crate::time::show_seconds;
use serde_json::{json, Value};

/// `rl list|hits|reset|set|delete`.
pub(super) fn route(out: &Output, client: &Client, command: RateLimitCommand) -> Result<()> {
    match command {
        RateLimitCommand::List(paging) => {
            let url = client.url("/api/rate-limits");
            let mut policies: Vec<(Policy, Value)> = client
                .get_list("/api/rate-limits", &[])?
                .into_iter()
                .map(|item| Ok((model::parse::<Policy>(&item, "a policy", &url)?, item)))
                .collect::<Result<_>>()?;
            policies.sort_by(|a, b| (&a.0.path, &a.0.method).cmp(&(&b.0.path, &b.0.method)));
            let (shown, footer) =
                output::page(&policies, paging.page as usize, paging.per_page as usize);
            if printed_json(
                out,
                &Value::Array(shown.iter().map(|(_, v)| v.clone()).collect()),
            ) {
                return Ok(());
            }
            if policies.is_empty() {
                out.line("No rate limit policies registered.");
                return Ok(());
            }
            let mut table = Table::new(&[
                "ROUTE",
                "METHOD",
                "LIMIT",
                "ALGORITHM",
                "KEY STRATEGY",
                "TIERS",
            ]);
            for (policy, _) in shown {
                table.row(vec![
                    Cell::new(policy.path.clone()).colour(Colour::Cyan),
                    Cell::new(policy.method.clone()),
                    Cell::new(policy.limit.clone()).colour(Colour::Magenta),
                    Cell::new(policy.algorithm.clone()),
                    Cell::new(policy.key_strategy.clone()),
                    Cell::new(match policy.tiers.len() {
                        0 => String::new(),
                        n => n.to_string(),
                    }),
                ]);
            }
            out.table(&table);
            if let Some(footer) = footer {
                out.line(footer);
            }
            Ok(())
        }
        RateLimitCommand::Hits { route, paging } => {
            let Some((shown, footer, url)) = newest_first(
                out,
                client,
                "/api/rate-limits/hits",
                route,
                (paging.page, paging.per_page),
                "No rate limit hits found.",
            )?
            else {
                return Ok(());
            };
            let mut table = Table::new(&["TIME", "ROUTE", "LIMIT", "TIER"]);
            for item in &shown {
                let hit: Hit = model::parse(item, "a rate-limit hit", &url)?;
                table.row(vec![
                    Cell::new(show_seconds(&hit.timestamp)).colour(Colour::Dim),
                    Cell::new(format!("{} {}", hit.method, hit.path).trim().to_owned())
                        .colour(Colour::Cyan),
                    Cell::new(hit.limit.clone()).colour(Colour::Red),
                    Cell::new(hit.tier.clone().unwrap_or_default()),
                ]);
            }
            out.table(&table);
            if let Some(footer) = footer {
                out.line(footer);
            }
            Ok(())
        }
        RateLimitCommand::Reset { route, service } => {
            let query: Vec<(&str, String)> =
                route.method.iter().map(|m| ("method", m.clone())).collect();
            // A service's route: `svc:/path` (waygate server).
            let path = match service.get() {
                Some(service) => format!("{service}:{}", route.path),
                None => route.path.clone(),
            };
            let value =
                client.delete(&format!("/api/rate-limits/{}/reset", b64u(&path)), &query)?;
            let scope = match &route.method {
                Some(method) => format!("{method} {}", route.path),
                None => format!("{} (all methods)", route.path),
            };
            confirm_ok(
                out,
                &value,
                &format!("Rate limit counters reset for {scope}"),
            );
            Ok(())
        }
        RateLimitCommand::Set {
            route,
            limit,
            options,
            service,
        } => {
            let method = route.method_or_get().to_owned();
            let mut body = limit_body(&limit, &options);
            // A service's route is named by its full key on the server,
            // `svc:METHOD:/path` (what waygate servers in both languages accept).
            body["path"] = match service.get() {
                Some(service) => json!(format!("{service}:{method}:{}", route.path)),
                None => json!(route.path),
            };
            body["method"] = json!(method);
            let value = client.post("/api/rate-limits", Some(body))?;
            if printed_json(out, &value) {
                return Ok(());
            }
            let policy: Policy = model::parse(&value, "a policy", &client.url("/api/rate-limits"))?;
            out.line(format!(
                "{} Rate limit set: {} → {} ({}, key={})",
                out.paint(Colour::Green, "✓"),
                out.paint(Colour::Cyan, &format!("{method} {}", policy.path)),
                out.paint(Colour::Bold, &policy.limit),
                policy.algorithm,
                policy.key_strategy
            ));
            print_warning(out, &value);
            Ok(())
        }
        RateLimitCommand::Delete { route, service } => {
            let method = route.method_or_get();
            let key = match service.get() {
                Some(service) => format!("{method}:{service}:{method}:{}", route.path),
                None => format!("{method}:{}", route.path),
            };
            let value = client.delete(&format!("/api/rate-limits/{}", b64u(&key)), &[])?;
            confirm_ok(
                out,
                &value,
                &format!(
                    "Rate limit policy deleted: {} {}",
                    route.method_or_get(),
                    route.path
                ),
            );
            Ok(())
        }
    }
}

/// `grl get|set|delete|reset|enable|disable`.
pub(super) fn global(out: &Output, client: &Client, command: GlobalRateLimitCommand) -> Result<()> {
    let base = "/api/global-rate-limit";
    let (action, done) = match command {
        GlobalRateLimitCommand::Get => return show(out, client, base, None),
        GlobalRateLimitCommand::Set {
            limit,
            options,
            exempt,
        } => {
            let done = "Global rate limit set";
            return set(out, client, base, &limit, &options, exempt, done);
        }
        GlobalRateLimitCommand::Delete => (Act::Delete, "Global rate limit policy removed."),
        GlobalRateLimitCommand::Reset => (Act::Reset, "Global rate limit counters reset."),
        GlobalRateLimitCommand::Enable => (Act::Enable, "Global rate limit resumed."),
        GlobalRateLimitCommand::Disable => (Act::Disable, "Global rate limit paused."),
    };
    act(out, client, base, action, done)
}

/// `srl get|set|delete|reset|enable|disable SERVICE`.
pub(super) fn service(
    out: &Output,
    client: &Client,
    command: ServiceRateLimitCommand,
) -> Result<()> {
    let base = |service: &str| format!("/api/services/{}/rate-limit", segment(service));
    let (name, action, done) = match command {
        ServiceRateLimitCommand::Get(name) => {
            return show(out, client, &base(&name.service), Some(&name.service))
        }
        ServiceRateLimitCommand::Set {
            service,
            limit,
            options,
            exempt,
        } => {
            let done = format!("Service rate limit set for {service}");
            return set(
                out,
                client,
                &base(&service),
                &limit,
                &options,
                exempt,
                &done,
            );
        }
        ServiceRateLimitCommand::Delete(name) => {
            (name, Act::Delete, "Service rate limit policy removed for")
        }
        ServiceRateLimitCommand::Reset(name) => (name, Act::Reset, "Rate limit counters reset for"),
        ServiceRateLimitCommand::Enable(name) => {
            (name, Act::Enable, "Service rate limit resumed for")
        }
        ServiceRateLimitCommand::Disable(name) => {
            (name, Act::Disable, "Service rate limit paused for")
        }
    };
    let done = format!("{done} {}.", name.service);
    act(out, client, &base(&name.service), action, &done)
}

/// What `delete`, `reset`, `enable` and `disable` do to a global or service policy.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// `DELETE base`.
    Delete,
    /// `DELETE base/reset`.
    Reset,
    /// `POST base/enable`.
    Enable,
    /// `POST base/disable`.
    Disable,
}

/// Sends `act` to the policy at `base` and says `done` when the server answers `ok`.
fn act(out: &Output, client: &Client, base: &str, act: Act, done: &str) -> Result<()> {
    let value = match act {
        Act::Delete => client.delete(base, &[])?,
        Act::Reset => client.delete(&format!("{base}/reset"), &[])?,
        Act::Enable => client.post(&format!("{base}/enable"), None)?,
        Act::Disable => client.post(&format!("{base}/disable"), None)?,
    };
    confirm_ok(out, &value, done);
    Ok(())
}

/// The body of every `set`: `{"limit", "burst", "algorithm"?, "key_strategy"?}`.
fn limit_body(limit: &str, options: &LimitOptions) -> Value {
    let mut body = json!({ "limit": limit, "burst": options.burst });
    if let Some(algorithm) = &options.algorithm {
        body["algorithm"] = json!(algorithm);
    }
    if let Some(key_strategy) = &options.key_strategy {
        body["key_strategy"] = json!(key_strategy);
    }
    body
}

fn set(
    out: &Output,
    client: &Client,
    base: &str,
    limit: &str,
    options: &LimitOptions,
    exempt: Vec<String>,
    title: &str,
) -> Result<()> {
    let mut body = limit_body(limit, options);
    body["exempt_routes"] = json!(exempt);
    let value = client.post(base, Some(body))?;
    if printed_json(out, &value) {
        return Ok(());
    }
    let policy: model::GlobalPolicy = model::parse(&value, "a policy", &client.url(base))?;
    out.line(format!(
        "{} {title}: {} ({}, key={})",
        out.paint(Colour::Green, "✓"),
        out.paint(Colour::Bold, &policy.limit),
        policy.algorithm,
        policy.key_strategy
    ));
    if !policy.exempt_routes.is_empty() {
        out.line(format!(
            "  Exempt routes: {}",
            policy.exempt_routes.join(", ")
        ));
    }
    print_warning(out, &value);
    Ok(())
}

/// The server's `warning` about a policy it accepted (a per-IP limit on an app served
/// without peer addresses, say).
fn print_warning(out: &Output, value: &serde_json::Value) {
    if let Some(warning) = value.get("warning").and_then(|w| w.as_str()) {
        out.line(format!("{} {warning}", out.paint(Colour::Yellow, "⚠")));
    }
}

fn show(out: &Output, client: &Client, base: &str, service: Option<&str>) -> Result<()> {
    let value = client.get(base, &[])?;
    if printed_json(out, &value) {
        return Ok(());
    }
    let state: GlobalPolicyState = model::parse(&value, "a policy", &client.url(base))?;
    let Some(policy) = state.policy else {
        out.line(match service {
            Some(service) => format!("No rate limit policy configured for {service:?}."),
            None => "No global rate limit policy configured.".to_owned(),
        });
        return Ok(());
    };
    let mut table = Table::new(&["FIELD", "VALUE"]);
    if let Some(service) = service {
        table.row(vec![
            Cell::new("Service"),
            Cell::new(service).colour(Colour::Cyan),
        ]);
    }
    table.row(vec![
        Cell::new("Limit"),
        Cell::new(policy.limit).colour(Colour::Magenta),
    ]);
    table.row(vec![Cell::new("Algorithm"), Cell::new(policy.algorithm)]);
    table.row(vec![
        Cell::new("Key Strategy"),
        Cell::new(policy.key_strategy),
    ]);
    table.row(vec![
        Cell::new("Burst"),
        Cell::new(policy.burst.to_string()),
    ]);
    table.row(vec![
        Cell::new("Enabled"),
        if policy.enabled {
            Cell::new("yes").colour(Colour::Green)
        } else {
            Cell::new("no").colour(Colour::Red)
        },
    ]);
    table.row(vec![
        Cell::new("Exempt Routes"),
        Cell::new(if policy.exempt_routes.is_empty() {
            "(none)".to_owned()
        } else {
            policy.exempt_routes.join(", ")
        }),
    ]);
    out.table(&table);
    Ok(())
}
