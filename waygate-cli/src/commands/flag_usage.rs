//! `waygate flags stale`: which flags no running code declares, which declared ones are
//! gone, and who last evaluated what (`GET api/flags/stale`).

use super::printed_json;
use crate::client::Client;
use crate::error::Result;
use crate::output::{Cell, Colour, Output, Table};
use serde_json::Value;

/// Prints the server's stale-flag report.
pub(super) fn stale(out: &Output, client: &Client) -> Result<()> {
    let report = client.get("/api/flags/stale", &[])?;
    if printed_json(out, &report) {
        return Ok(());
    }
    let keys = |field: &str| -> Vec<String> {
        report[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let (stale, missing) = (keys("stale"), keys("missing"));
    let services = keys("services");
    out.line(format!(
        "Running services: {}",
        match services.is_empty() {
            true => "none".to_owned(),
            false => out.escaped(&services.join(", ")),
        }
    ));
    let mut table = Table::new(&["KEY", "STATE", "DECLARED BY", "LAST EVALUATED"]);
    for flag in report["flags"].as_array().into_iter().flatten() {
        let key = flag["key"].as_str().unwrap_or_default();
        let state = if stale.iter().any(|k| k == key) {
            Cell::new("stale").colour(Colour::Yellow)
        } else if missing.iter().any(|k| k == key) {
            Cell::new("missing").colour(Colour::Red)
        } else {
            Cell::new("in use").colour(Colour::Green)
        };
        let declared: Vec<&str> = flag["declared_by"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let evaluated: Vec<String> = flag["last_evaluated"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(service, at)| format!("{service} {}", at.as_str().unwrap_or_default()))
            .collect();
        table.row(vec![
            Cell::new(key).colour(Colour::Cyan),
            state,
            Cell::new(declared.join(", ")),
            Cell::new(match evaluated.is_empty() {
                true => "never".to_owned(),
                false => evaluated.join("; "),
            }),
        ]);
    }
    out.table(&table);
    out.line(out.paint(
        Colour::Dim,
        &format!(
            "{} stale (no running code declares them), {} missing (declared, deleted)",
            stale.len(),
            missing.len()
        ),
    ));
    Ok(())
}
