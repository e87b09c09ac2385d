//! `log`: the audit log.

use super::newest_first;
use crate::cli::Log;
use crate::client::Client;
use crate::error::Result;
use crate::model::{self, AuditEntry};
use crate::output::{Cell, Colour, Output, Table};
use crate::time::show_seconds;

/// `log [--route] [--page] [--per-page|--limit]`: `GET api/audit?limit=page*per_page+1`,
/// newest first (the extra entry tells whether there is a next page).
pub(super) fn log(out: &Output, client: &Client, args: Log) -> Result<()> {
    let Some((shown, footer, url)) = newest_first(
        out,
        client,
        "/api/audit",
        args.route,
        (args.page, args.per_page),
        "No audit entries found.",
    )?
    else {
        return Ok(());
    };
    let mut table = Table::new(&[
        "TIMESTAMP",
        "ROUTE",
        "ACTION",
        "ACTOR",
        "PLATFORM",
        "STATUS",
        "REASON",
    ]);
    for item in &shown {
        let entry: AuditEntry = model::parse(item, "an audit entry", &url)?;
        table.row(vec![
            Cell::new(show_seconds(&entry.timestamp)).colour(Colour::Dim),
            Cell::new(entry.path.clone()).colour(Colour::Cyan),
            Cell::new(entry.action.clone()),
            Cell::new(entry.actor.clone().unwrap_or_default()),
            Cell::new(entry.platform.clone().unwrap_or_default()),
            change(&entry),
            Cell::new(entry.reason.clone()),
        ]);
    }
    out.table(&table);
    if let Some(footer) = footer {
        out.line(footer);
    }
    Ok(())
}

/// The STATUS cell: `maintenance → disabled`, or a label for rate-limit actions.
fn change(entry: &AuditEntry) -> Cell {
    let label = match entry.action.as_str() {
        "rl_policy_set" | "global_rl_set" | "svc_rl_set" => Some(("set", Colour::Green)),
        "rl_policy_updated" | "global_rl_updated" | "svc_rl_updated" => {
            Some(("update", Colour::Yellow))
        }
        "rl_reset" | "global_rl_reset" | "svc_rl_reset" => Some(("reset", Colour::Cyan)),
        "rl_policy_deleted" | "global_rl_deleted" | "svc_rl_deleted" => {
            Some(("delete", Colour::Red))
        }
        _ => None,
    };
    if let Some((label, colour)) = label {
        return Cell::new(label).colour(colour);
    }
    match (&entry.previous_status, &entry.new_status) {
        (Some(old), Some(new)) => Cell::new(format!("{old} → {new}")),
        _ => Cell::new(""),
    }
}
