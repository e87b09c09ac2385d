//! `services` and `current-service`.

use super::printed_json;
use crate::client::Client;
use crate::error::Result;
use crate::output::{Cell, Colour, Output, Table};
use serde_json::{json, Value};

/// `services`: `GET api/services`.
pub(super) fn list(out: &Output, client: &Client) -> Result<()> {
    let items = client.get_list("/api/services", &[])?;
    if printed_json(out, &Value::Array(items.clone())) {
        return Ok(());
    }
    let services: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
    if services.is_empty() {
        out.line("No services registered.");
        return Ok(());
    }
    let mut table = Table::new(&["SERVICE"]);
    for service in services {
        table.row(vec![Cell::new(service).colour(Colour::Cyan)]);
    }
    out.table(&table);
    Ok(())
}

/// `current-service`: `WAYGATE_SERVICE`, no request.
pub(super) fn current(out: &Output) {
    let service = std::env::var("WAYGATE_SERVICE")
        .ok()
        .filter(|service| !service.is_empty());
    if out.json {
        out.json(&json!({ "service": service }));
        return;
    }
    match service {
        Some(service) => out.line(format!(
            "Active service: {}  (from WAYGATE_SERVICE)",
            out.paint(Colour::Cyan, &service)
        )),
        None => {
            out.line("No active service set.");
            out.line("Set one with: export WAYGATE_SERVICE=<service-name>");
        }
    }
}
