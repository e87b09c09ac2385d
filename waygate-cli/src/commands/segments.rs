//! `segments ...`: the flag segments of `api/segments`. Segments have no PATCH upstream: an
//! edit reads the segment and PUTs it whole, with `If-Match` (see
//! [`super::flags::write_back`]).

use super::flags::{
    clause_text, clause_values, done, list_of, new_id, no_such, not_found_hint, write_back,
};
use super::{confirm_ok, printed_json};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flag_cli::{Members, SegmentCommand};
use crate::output::{Cell, Colour, Output, Table};
use reqwest::Method;
use serde_json::{json, Value};
use waygate_core::wire::path_segment;

/// Runs a `segments` subcommand.
pub(super) fn run(out: &Output, client: &Client, command: SegmentCommand) -> Result<()> {
    match command {
        SegmentCommand::List => list(out, client),
        SegmentCommand::Get { key } => get(out, client, &key),
        SegmentCommand::Create {
            key,
            name,
            description,
        } => {
            let body = json!({
                "key": key, "name": name, "description": description,
                "included": [], "excluded": [], "rules": []
            });
            let segment = client.post("/api/segments", Some(body))?;
            done(
                out,
                &segment,
                format!("Segment {} created.", out.paint(Colour::Cyan, &key)),
            );
            Ok(())
        }
        SegmentCommand::Delete { key, yes } => {
            if !yes && !super::confirm(&format!("Delete segment {key}?"))? {
                out.line("Not deleted.");
                return Ok(());
            }
            let answer = client
                .delete(&segment_path(&key), &[])
                .map_err(not_found_hint)?;
            confirm_ok(
                out,
                &answer,
                &format!("Segment {} deleted.", out.escaped(&key)),
            );
            Ok(())
        }
        SegmentCommand::Include(members) => membership(out, client, &members, "included"),
        SegmentCommand::Exclude(members) => membership(out, client, &members, "excluded"),
        SegmentCommand::AddRule {
            key,
            attribute,
            operator,
            values,
            description,
            negate,
        } => {
            let rule = json!({
                "id": new_id(), "description": description,
                "clauses": [{
                    "attribute": attribute, "operator": operator,
                    "values": clause_values(&operator, &values), "negate": negate
                }]
            });
            let segment = edit(client, &key, |segment| {
                let mut rules = list_of(segment, "rules");
                rules.push(rule.clone());
                segment["rules"] = json!(rules);
                Ok(())
            })?;
            done(
                out,
                &segment,
                format!(
                    "Rule added to {}: {}\n  id: {}",
                    out.paint(Colour::Cyan, &key),
                    out.escaped(&clause_text(&rule["clauses"][0])),
                    rule["id"].as_str().unwrap_or_default()
                ),
            );
            Ok(())
        }
        SegmentCommand::RemoveRule(rule) => {
            let segment = edit(client, &rule.key, |segment| {
                let rules = list_of(segment, "rules");
                let kept: Vec<Value> = rules
                    .iter()
                    .filter(|r| r["id"] != rule.rule_id.as_str())
                    .cloned()
                    .collect();
                if kept.len() == rules.len() {
                    return Err(no_such(
                        "rule",
                        &rule.rule_id,
                        "waygate segments get",
                        &rule.key,
                    ));
                }
                segment["rules"] = json!(kept);
                Ok(())
            })?;
            done(
                out,
                &segment,
                format!(
                    "Rule {} removed from {}.",
                    out.escaped(&rule.rule_id),
                    out.paint(Colour::Cyan, &rule.key)
                ),
            );
            Ok(())
        }
    }
}

fn segment_path(key: &str) -> String {
    format!("/api/segments/{}", path_segment(key))
}

/// Reads segment `key`, lets `change` change it, and PUTs it back.
fn edit(client: &Client, key: &str, change: impl Fn(&mut Value) -> Result<()>) -> Result<Value> {
    write_back(client, &segment_path(key), Method::PUT, |current| {
        let mut segment = current.clone();
        change(&mut segment)?;
        Ok(segment)
    })
}

/// Adds context keys to `list` (`included` or `excluded`) and takes them off the other one:
/// a key left in `excluded` would keep it out whatever `included` says (the Python CLI's
/// `include` did nothing for such a key).
fn membership(out: &Output, client: &Client, members: &Members, list: &str) -> Result<()> {
    let keys: Vec<String> = members
        .context_key
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(Error::Usage("--context-key names no context key".into()));
    }
    let other = if list == "included" {
        "excluded"
    } else {
        "included"
    };
    let segment = edit(client, &members.key, |segment| {
        let mut listed = strings(segment, list);
        for key in &keys {
            if !listed.contains(key) {
                listed.push(key.clone());
            }
        }
        let others: Vec<String> = strings(segment, other)
            .into_iter()
            .filter(|key| !keys.contains(key))
            .collect();
        segment[list] = json!(listed);
        segment[other] = json!(others);
        Ok(())
    })?;
    let verb = if list == "included" {
        "Included"
    } else {
        "Excluded"
    };
    done(
        out,
        &segment,
        format!(
            "{verb} {} key(s) in {}.",
            keys.len(),
            out.paint(Colour::Cyan, &members.key)
        ),
    );
    Ok(())
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    list_of(value, field)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn list(out: &Output, client: &Client) -> Result<()> {
    let segments = client.get_list("/api/segments", &[])?;
    if printed_json(out, &Value::Array(segments.clone())) {
        return Ok(());
    }
    if segments.is_empty() {
        out.line("No segments found.");
        return Ok(());
    }
    let mut table = Table::new(&["KEY", "NAME", "INCLUDED", "EXCLUDED", "RULES"]);
    for segment in &segments {
        table.row(vec![
            Cell::new(segment["key"].as_str().unwrap_or_default()).colour(Colour::Cyan),
            Cell::new(segment["name"].as_str().unwrap_or_default()),
            Cell::new(list_of(segment, "included").len().to_string()),
            Cell::new(list_of(segment, "excluded").len().to_string()),
            Cell::new(list_of(segment, "rules").len().to_string()),
        ]);
    }
    out.table(&table);
    out.line(out.paint(Colour::Dim, &format!("{} segment(s)", segments.len())));
    Ok(())
}

fn get(out: &Output, client: &Client, key: &str) -> Result<()> {
    let segment = client
        .get(&segment_path(key), &[])
        .map_err(not_found_hint)?;
    if printed_json(out, &segment) {
        return Ok(());
    }
    out.line(format!(
        "{}  {}",
        out.paint(Colour::Cyan, segment["key"].as_str().unwrap_or_default()),
        out.paint(Colour::Dim, segment["name"].as_str().unwrap_or_default())
    ));
    let (included, excluded) = (strings(&segment, "included"), strings(&segment, "excluded"));
    let rules = list_of(&segment, "rules");
    if !included.is_empty() {
        out.line(format!(
            "  Included ({}): {}",
            included.len(),
            out.paint(Colour::Green, &included.join(", "))
        ));
    }
    if !excluded.is_empty() {
        out.line(format!(
            "  Excluded ({}): {}",
            excluded.len(),
            out.paint(Colour::Red, &excluded.join(", "))
        ));
    }
    // Unlike the Python CLI, which printed only a count, the rules with the ids that
    // `segments remove-rule` needs.
    for (n, rule) in rules.iter().enumerate() {
        let description = rule["description"].as_str().unwrap_or_default();
        out.line(format!(
            "  Rule {}{}",
            n + 1,
            if description.is_empty() {
                String::new()
            } else {
                format!(" — {}", out.escaped(description))
            }
        ));
        out.line(out.paint(
            Colour::Dim,
            &format!("    id: {}", rule["id"].as_str().unwrap_or_default()),
        ));
        for clause in list_of(rule, "clauses") {
            out.line(format!("      {}", out.escaped(&clause_text(&clause))));
        }
    }
    if included.is_empty() && excluded.is_empty() && rules.is_empty() {
        out.line(out.paint(Colour::Dim, "  (empty segment)"));
    }
    Ok(())
}
