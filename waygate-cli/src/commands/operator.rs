//! `rollout`, `bypass` and `token`: a route's rollout percentage, maintenance bypass tokens
//! and service tokens.

use super::{confirm_ok, printed_json};
use crate::cli::{BypassCommand, Rollout, TokenCommand};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::output::{Colour, Output};
use crate::route::b64u;
use crate::time::show_minutes;
use serde_json::{json, Value};

/// `rollout ROUTE PERCENTAGE`: `POST api/routes/{key}/rollout`.
pub(super) fn rollout(out: &Output, client: &Client, args: Rollout) -> Result<()> {
    let key = args.route.service_key(args.service.get());
    let state = client.post(
        &format!("/api/routes/{}/rollout", b64u(&key)),
        Some(json!({ "percentage": args.percentage })),
    )?;
    if printed_json(out, &state) {
        return Ok(());
    }
    let shown = state.get("path").and_then(Value::as_str).unwrap_or(&key);
    let percentage = state
        .get("rollout_percentage")
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(args.percentage));
    out.line(format!(
        "{} {} → served to {percentage}% of clients",
        out.paint(Colour::Green, "✓"),
        out.paint(Colour::Bold, shown)
    ));
    if percentage < 100 {
        out.line("  The others get the route's env-gated answer (404) or its rollout response.");
    }
    Ok(())
}

/// `bypass create` (`POST api/bypass`) and `bypass revoke` (`POST api/bypass/revoke`).
pub(super) fn bypass(out: &Output, client: &Client, command: BypassCommand) -> Result<()> {
    match command {
        BypassCommand::Create { ttl, reason } => {
            let seconds = ttl.num_seconds();
            if seconds > 30 * 24 * 3600 {
                return Err(Error::Input(
                    "a bypass token lives at most 30 days: use --ttl 30d or less".to_owned(),
                ));
            }
            let issued = client.post(
                "/api/bypass",
                Some(json!({ "ttl_seconds": seconds, "reason": reason })),
            )?;
            if printed_json(out, &issued) {
                return Ok(());
            }
            let field = |name| issued.get(name).and_then(Value::as_str).unwrap_or("?");
            let token = field("token");
            out.line(format!(
                "{} Bypass token, valid until {}",
                out.paint(Colour::Green, "✓"),
                show_minutes(field("expires_at"))
            ));
            out.line(format!("  Send the header:  X-Waygate-Bypass: {token}"));
            out.line(format!(
                "  Or open in a browser (sets a cookie):  {}",
                client.url(&format!("/bypass/{token}"))
            ));
            out.line(
                "  It passes maintenance and disabled routes, never env gates or rate limits.",
            );
            Ok(())
        }
        BypassCommand::Revoke => {
            let reply = client.post("/api/bypass/revoke", None)?;
            confirm_ok(out, &reply, "every bypass token issued so far is revoked");
            Ok(())
        }
    }
}

/// `token create`: `POST api/tokens`; prints the token (it is shown once).
pub(super) fn token(out: &Output, client: &Client, command: TokenCommand) -> Result<()> {
    let TokenCommand::Create {
        service,
        evaluate,
        name,
        ttl,
    } = command;
    let mut body = match service {
        Some(service) if !evaluate => json!({ "service": service }),
        _ => json!({ "evaluate": true, "name": name.as_deref().unwrap_or("ofrep-client") }),
    };
    if let Some(ttl) = ttl {
        body["ttl_seconds"] = json!(ttl.num_seconds());
    }
    let issued = client.post("/api/tokens", Some(body))?;
    if printed_json(out, &issued) {
        return Ok(());
    }
    let field = |name| issued.get(name).and_then(Value::as_str).unwrap_or("?");
    let (whom, holder) = match evaluate {
        true => ("Evaluation-only key", field("name")),
        false => ("Token for service", field("service")),
    };
    out.line(format!(
        "{} {whom} {}, valid until {}",
        out.paint(Colour::Green, "✓"),
        out.paint(Colour::Bold, &out.escaped(holder)),
        show_minutes(field("expires_at"))
    ));
    if evaluate {
        out.line(field("token"));
        out.line("  Give it to OFREP clients (Authorization: Bearer <key>); it can evaluate");
        out.line("  flags and nothing else, and is not shown again.");
        return Ok(());
    }
    out.line(field("token"));
    out.line("  Give it to the service (WaygateSdk::builder(url, app_id).token(..), or the");
    out.line("  WAYGATE_TOKEN of its environment); it is not shown again. It acts for this");
    out.line("  service only; `waygate logout` run with it revokes it.");
    Ok(())
}
