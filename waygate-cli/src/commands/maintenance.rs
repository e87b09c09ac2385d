//! `global ..` and `sm ..`: global and per-service maintenance.

use super::printed_json;
use crate::cli::{GlobalCommand, MaintenanceOptions, ServiceMaintenanceCommand};
use crate::client::Client;
use crate::error::Result;
use crate::model::{self, MaintenanceConfig};
use crate::output::{Colour, Output};
use serde_json::{json, Value};

/// `global status|enable|disable|exempt-add|exempt-remove`.
pub(super) fn global(out: &Output, client: &Client, command: GlobalCommand) -> Result<()> {
    let base = "/api/global";
    match command {
        GlobalCommand::Status => status(out, client, base, "Global maintenance"),
        GlobalCommand::Enable(options) => enable(
            out,
            client,
            base,
            &body(&options),
            "Global maintenance ENABLED",
        ),
        GlobalCommand::Disable => {
            let value = client.post(&format!("{base}/disable"), None)?;
            if !printed_json(out, &value) {
                out.line(format!(
                    "{}  Global maintenance {}",
                    out.paint(Colour::Green, "✓"),
                    out.paint(Colour::Green, "DISABLED")
                ));
            }
            Ok(())
        }
        GlobalCommand::ExemptAdd { route } => exempt(out, client, &route, true),
        GlobalCommand::ExemptRemove { route } => exempt(out, client, &route, false),
    }
}

/// `sm status|enable|disable SERVICE`.
pub(super) fn service(
    out: &Output,
    client: &Client,
    command: ServiceMaintenanceCommand,
) -> Result<()> {
    match command {
        ServiceMaintenanceCommand::Status(name) => status(
            out,
            client,
            &service_path(&name.service),
            &format!("Service maintenance ({})", name.service),
        ),
        ServiceMaintenanceCommand::Enable { service, options } => enable(
            out,
            client,
            &service_path(&service),
            &body(&options),
            &format!("Service maintenance ENABLED for {service}"),
        ),
        ServiceMaintenanceCommand::Disable(name) => {
            let value = client.post(&format!("{}/disable", service_path(&name.service)), None)?;
            if !printed_json(out, &value) {
                out.line(format!(
                    "{}  Service maintenance {} for {}",
                    out.paint(Colour::Green, "✓"),
                    out.paint(Colour::Green, "DISABLED"),
                    out.paint(Colour::Cyan, &name.service)
                ));
            }
            Ok(())
        }
    }
}

/// `api/services/{service}/maintenance` (the name is a raw path segment on both servers;
/// characters that would end it are escaped).
fn service_path(service: &str) -> String {
    format!("/api/services/{}/maintenance", segment(service))
}

/// `text` as one URL path segment.
pub(super) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn body(options: &MaintenanceOptions) -> Value {
    json!({
        "reason": options.reason,
        "exempt_paths": options.exempt,
        "include_force_active": options.include_force_active && !options.no_include_force_active,
    })
}

fn status(out: &Output, client: &Client, base: &str, title: &str) -> Result<()> {
    let value = client.get(base, &[])?;
    if printed_json(out, &value) {
        return Ok(());
    }
    let config: MaintenanceConfig =
        model::parse(&value, "a maintenance config", &client.url(base))?;
    let state = if config.enabled {
        out.paint(Colour::Yellow, "ON")
    } else {
        out.paint(Colour::Green, "OFF")
    };
    out.line(format!("{title}: {state}"));
    if config.enabled {
        out.line(format!(
            "  Reason: {}",
            if config.reason.is_empty() {
                "—"
            } else {
                &config.reason
            }
        ));
        out.line(format!(
            "  Include @force_active: {}",
            if config.include_force_active {
                out.paint(Colour::Red, "yes")
            } else {
                out.paint(Colour::Green, "no")
            }
        ));
        if config.exempt_paths.is_empty() {
            out.line("  Exempt paths: (none)");
        } else {
            out.line("  Exempt paths:");
            for path in &config.exempt_paths {
                out.line(format!("    • {path}"));
            }
        }
    }
    Ok(())
}

fn enable(out: &Output, client: &Client, base: &str, body: &Value, title: &str) -> Result<()> {
    let value = client.post(&format!("{base}/enable"), Some(body.clone()))?;
    if printed_json(out, &value) {
        return Ok(());
    }
    let config: MaintenanceConfig =
        model::parse(&value, "a maintenance config", &client.url(base))?;
    out.line(format!("{}  {title}", out.paint(Colour::Yellow, "⚠")));
    if !config.reason.is_empty() {
        out.line(format!("   Reason: {}", config.reason));
    }
    if !config.exempt_paths.is_empty() {
        out.line(format!("   Exempt: {}", config.exempt_paths.join(", ")));
    }
    if config.include_force_active {
        out.line(format!(
            "   {}",
            out.paint(Colour::Red, "@force_active routes are also blocked.")
        ));
    }
    Ok(())
}

/// `global exempt-add|exempt-remove ROUTE`: reads the config and enables it again with the
/// changed list (so adding also turns global maintenance on, as in the Python CLI).
fn exempt(out: &Output, client: &Client, route: &str, add: bool) -> Result<()> {
    let value = client.get("/api/global", &[])?;
    let config: MaintenanceConfig =
        model::parse(&value, "a maintenance config", &client.url("/api/global"))?;
    let key = if route.starts_with('/') || route.contains(':') {
        route.to_owned()
    } else {
        format!("/{route}")
    };
    let present = config.exempt_paths.contains(&key);
    if present == add {
        let message = if add {
            format!("{key} is already in the exempt list.")
        } else {
            format!("{key} was not in the exempt list.")
        };
        if !printed_json(out, &value) {
            out.line(message);
        }
        return Ok(());
    }
    let mut paths = config.exempt_paths.clone();
    if add {
        paths.push(key.clone());
    } else {
        paths.retain(|path| *path != key);
    }
    let updated = client.post(
        "/api/global/enable",
        Some(json!({
            "reason": config.reason,
            "exempt_paths": paths,
            "include_force_active": config.include_force_active,
        })),
    )?;
    if printed_json(out, &updated) {
        return Ok(());
    }
    let total = updated
        .get("exempt_paths")
        .and_then(Value::as_array)
        .map_or(paths.len(), Vec::len);
    let tick = out.paint(Colour::Green, "✓");
    let shown = out.paint(Colour::Cyan, &key);
    if add {
        out.line(format!(
            "{tick} Added {shown} to exempt list ({total} total)"
        ));
    } else {
        out.line(format!("{tick} Removed {shown} from exempt list"));
    }
    Ok(())
}
