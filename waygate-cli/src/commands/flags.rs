//! `flags ...`: the feature flags of `api/flags` (upstream §5.8). Edits read the flag, change
//! it and send it back with `If-Match` (waygate for Rust answers 412 when someone else
//! changed it meanwhile; the edit is then made again on the fresh copy), so two operators
//! never silently undo each other's change.

use super::{confirm_ok, printed_json};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flag_cli::{FlagCommand, Targets};
use crate::output::{Cell, Colour, Output, Table};
use reqwest::Method;
use serde_json::{json, Map, Value};
use waygate_core::wire::path_segment;

/// Runs a `flags` subcommand.
pub(super) fn run(out: &Output, client: &Client, command: FlagCommand) -> Result<()> {
    match command {
        FlagCommand::List { flag_type, status } => list(out, client, flag_type, status),
        FlagCommand::Get(flag) => get(out, client, &flag.key),
        FlagCommand::Stale => super::flag_usage::stale(out, client),
        FlagCommand::Create {
            key,
            name,
            flag_type,
            description,
        } => create(out, client, &key, &name, &flag_type, &description),
        FlagCommand::Enable(flag) => switch(out, client, &flag.key, true),
        FlagCommand::Disable(flag) => switch(out, client, &flag.key, false),
        FlagCommand::Delete { key, yes } => delete(out, client, &key, yes),
        FlagCommand::Eval {
            key,
            context_key,
            kind,
            attr,
        } => eval(out, client, &key, &context_key, &kind, &attr),
        FlagCommand::Edit {
            key,
            name,
            description,
            off_variation,
            fallthrough,
        } => {
            let mut fields = Map::new();
            for (field, value) in [
                ("name", name),
                ("description", description),
                ("off_variation", off_variation),
                ("fallthrough", fallthrough),
            ] {
                if let Some(value) = value {
                    fields.insert(field.to_owned(), Value::String(value));
                }
            }
            if fields.is_empty() {
                return Err(Error::Usage(
                    "nothing to change: give --name, --description, --off-variation or --fallthrough"
                        .into(),
                ));
            }
            let flag = edit(client, &key, |_| Ok(Value::Object(fields.clone())))?;
            done(
                out,
                &flag,
                format!("Flag {} updated.", out.paint(Colour::Cyan, &key)),
            );
            Ok(())
        }
        FlagCommand::Variations(flag) => variations(out, client, &flag.key),
        FlagCommand::Targeting(flag) => targeting(out, client, &flag.key),
        FlagCommand::AddRule {
            key,
            variation,
            segment,
            attribute,
            operator,
            values,
            description,
            negate,
        } => {
            let clause = match (segment, attribute) {
                (Some(segment), _) => json!({
                    "attribute": "key", "operator": "in_segment",
                    "values": [segment], "negate": negate
                }),
                (None, Some(attribute)) => json!({
                    "attribute": attribute, "operator": operator,
                    "values": clause_values(&operator, values.as_deref().unwrap_or_default()),
                    "negate": negate
                }),
                (None, None) => {
                    return Err(Error::Usage("give --segment or --attribute".into()));
                }
            };
            let rule = json!({
                "id": new_id(), "description": description,
                "clauses": [clause], "variation": variation
            });
            let flag = edit(client, &key, |flag| {
                let mut rules = list_of(flag, "rules");
                rules.push(rule.clone());
                Ok(json!({ "rules": rules }))
            })?;
            done(
                out,
                &flag,
                format!(
                    "Rule added to {}: {} → {}\n  id: {}",
                    out.paint(Colour::Cyan, &key),
                    out.escaped(&clause_text(&rule["clauses"][0])),
                    out.paint(Colour::Green, &variation),
                    rule["id"].as_str().unwrap_or_default()
                ),
            );
            Ok(())
        }
        FlagCommand::RemoveRule(rule) => {
            let flag = edit(client, &rule.key, |flag| {
                let rules = list_of(flag, "rules");
                let kept: Vec<Value> = rules
                    .iter()
                    .filter(|r| r["id"] != rule.rule_id.as_str())
                    .cloned()
                    .collect();
                if kept.len() == rules.len() {
                    return Err(no_such(
                        "rule",
                        &rule.rule_id,
                        "waygate flags targeting",
                        &rule.key,
                    ));
                }
                Ok(json!({ "rules": kept }))
            })?;
            done(
                out,
                &flag,
                format!(
                    "Rule {} removed from {}.",
                    out.escaped(&rule.rule_id),
                    out.paint(Colour::Cyan, &rule.key)
                ),
            );
            Ok(())
        }
        FlagCommand::AddPrereq {
            key,
            flag: prerequisite,
            variation,
        } => {
            if prerequisite == key {
                return Err(Error::Usage("a flag cannot be its own prerequisite".into()));
            }
            let flag = edit(client, &key, |flag| {
                let mut prerequisites: Vec<Value> = list_of(flag, "prerequisites")
                    .into_iter()
                    .filter(|p| p["flag_key"] != prerequisite.as_str())
                    .collect();
                prerequisites.push(json!({"flag_key": prerequisite, "variation": variation}));
                Ok(json!({ "prerequisites": prerequisites }))
            })?;
            done(
                out,
                &flag,
                format!(
                    "{} now needs {} to serve {}.",
                    out.paint(Colour::Cyan, &key),
                    out.paint(Colour::Cyan, &prerequisite),
                    out.paint(Colour::Bold, &variation)
                ),
            );
            Ok(())
        }
        FlagCommand::RemovePrereq {
            key,
            flag: prerequisite,
        } => {
            let flag = edit(client, &key, |flag| {
                let all = list_of(flag, "prerequisites");
                let kept: Vec<Value> = all
                    .iter()
                    .filter(|p| p["flag_key"] != prerequisite.as_str())
                    .cloned()
                    .collect();
                if kept.len() == all.len() {
                    return Err(no_such(
                        "prerequisite",
                        &prerequisite,
                        "waygate flags get",
                        &key,
                    ));
                }
                Ok(json!({ "prerequisites": kept }))
            })?;
            done(
                out,
                &flag,
                format!(
                    "Prerequisite {} removed from {}.",
                    out.escaped(&prerequisite),
                    out.paint(Colour::Cyan, &key)
                ),
            );
            Ok(())
        }
        FlagCommand::Target(targets) => retarget(out, client, &targets, true),
        FlagCommand::Untarget(targets) => retarget(out, client, &targets, false),
    }
}

fn flag_path(key: &str) -> String {
    format!("/api/flags/{}", path_segment(key))
}

/// Reads flag `key`, asks `change` for the fields to change (a PATCH body), and sends them
/// with `If-Match`; made again on a fresh copy when the flag changed meanwhile (412).
fn edit(client: &Client, key: &str, change: impl Fn(&Value) -> Result<Value>) -> Result<Value> {
    write_back(client, &flag_path(key), Method::PATCH, change)
}

/// The read-change-write loop of flags (PATCH with the changed fields) and segments (PUT
/// of the whole segment).
pub(super) fn write_back(
    client: &Client,
    path: &str,
    method: Method,
    change: impl Fn(&Value) -> Result<Value>,
) -> Result<Value> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        let (current, etag) = client.get_tagged(path).map_err(not_found_hint)?;
        let body = change(&current)?;
        match client.write(method.clone(), path, body, etag.as_deref()) {
            Err(Error::Api { status: 412, .. }) if attempt < ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// A 404 with the hint of flags and segments (not of routes).
pub(super) fn not_found_hint(error: Error) -> Error {
    match error {
        Error::Api {
            status: 404,
            message,
            ..
        } => Error::Api {
            status: 404,
            message,
            hint: Some(
                "`waygate flags list` and `waygate segments list` show what the server holds \
                 (a Python server has flags only when its app called engine.use_openfeature())"
                    .into(),
            ),
        },
        other => other,
    }
}

pub(super) fn no_such(what: &str, id: &str, command: &str, key: &str) -> Error {
    Error::Api {
        status: 404,
        message: format!("{key} has no {what} {id}"),
        hint: Some(format!("`{command} {key}` lists them")),
    }
}

/// Prints the flag as JSON, or `message` after a tick.
pub(super) fn done(out: &Output, value: &Value, message: String) {
    if printed_json(out, value) {
        return;
    }
    out.line(format!("{} {message}", out.paint(Colour::Green, "✓")));
}

/// `field` of `value` as a list (none: empty).
pub(super) fn list_of(value: &Value, field: &str) -> Vec<Value> {
    value[field].as_array().cloned().unwrap_or_default()
}

/// A fresh rule id (a UUID, as the Python CLI draws).
pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The values of a clause: comma-separated, trimmed; numbers for the numeric operators
/// (`gt`, `gte`, `lt`, `lte`), strings otherwise (as the Python CLI sends them).
pub(super) fn clause_values(operator: &str, values: &str) -> Vec<Value> {
    let numeric = matches!(operator, "gt" | "gte" | "lt" | "lte");
    values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| match numeric {
            true => typed(v),
            false => Value::String(v.to_owned()),
        })
        .collect()
}

/// `text` as JSON: a number or `true`/`false` when it reads as one, else a string.
fn typed(text: &str) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(int) = text.parse::<i64>() {
        return json!(int);
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() => json!(float),
        _ => Value::String(text.to_owned()),
    }
}

/// `attribute operator values`, `NOT` first when negated.
pub(super) fn clause_text(clause: &Value) -> String {
    let values: Vec<String> = clause["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    format!(
        "{}{} {} {}",
        if clause["negate"] == true { "NOT " } else { "" },
        clause["attribute"].as_str().unwrap_or_default(),
        clause["operator"].as_str().unwrap_or_default(),
        values.join(", ")
    )
}

fn fallthrough_text(fallthrough: &Value) -> String {
    match fallthrough {
        Value::String(name) => name.clone(),
        Value::Array(split) => split
            .iter()
            .map(|part| {
                format!(
                    "{}:{}%",
                    part["variation"].as_str().unwrap_or_default(),
                    part["weight"].as_u64().unwrap_or_default() / 1000
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

fn enabled_cell(flag: &Value) -> Cell {
    match flag["enabled"].as_bool().unwrap_or(true) {
        true => Cell::new("enabled").colour(Colour::Green),
        false => Cell::new("disabled").colour(Colour::Dim),
    }
}

fn list(
    out: &Output,
    client: &Client,
    flag_type: Option<String>,
    status: Option<String>,
) -> Result<()> {
    let flags: Vec<Value> = client
        .get_list("/api/flags", &[])?
        .into_iter()
        .filter(|f| flag_type.as_deref().is_none_or(|t| f["type"] == t))
        .filter(|f| match status.as_deref() {
            Some("enabled") => f["enabled"].as_bool().unwrap_or(true),
            Some(_) => !f["enabled"].as_bool().unwrap_or(true),
            None => true,
        })
        .collect();
    if printed_json(out, &Value::Array(flags.clone())) {
        return Ok(());
    }
    if flags.is_empty() {
        out.line("No flags found.");
        return Ok(());
    }
    let mut table = Table::new(&["KEY", "TYPE", "STATUS", "VARIATIONS", "FALLTHROUGH"]);
    for flag in &flags {
        let variations: Vec<&str> = flag["variations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str())
            .collect();
        let fallthrough = match &flag["fallthrough"] {
            Value::Array(_) => "rollout".to_owned(),
            other => fallthrough_text(other),
        };
        table.row(vec![
            Cell::new(flag["key"].as_str().unwrap_or_default()).colour(Colour::Cyan),
            Cell::new(flag["type"].as_str().unwrap_or_default()),
            enabled_cell(flag),
            Cell::new(variations.join(", ")),
            Cell::new(fallthrough),
        ]);
    }
    out.table(&table);
    out.line(out.paint(Colour::Dim, &format!("{} flag(s)", flags.len())));
    Ok(())
}

fn get(out: &Output, client: &Client, key: &str) -> Result<()> {
    let flag = client.get(&flag_path(key), &[]).map_err(not_found_hint)?;
    if printed_json(out, &flag) {
        return Ok(());
    }
    let text = |field: &str| flag[field].as_str().unwrap_or_default().to_owned();
    out.line(format!(
        "{}  {}",
        out.paint(Colour::Cyan, &text("key")),
        out.paint(Colour::Dim, &text("name"))
    ));
    let mut table = Table::new(&[]);
    table.row(vec![
        Cell::new("Type").colour(Colour::Dim),
        Cell::new(text("type")),
    ]);
    table.row(vec![
        Cell::new("Status").colour(Colour::Dim),
        enabled_cell(&flag),
    ]);
    table.row(vec![
        Cell::new("Off variation").colour(Colour::Dim),
        Cell::new(text("off_variation")),
    ]);
    table.row(vec![
        Cell::new("Fallthrough").colour(Colour::Dim),
        Cell::new(fallthrough_text(&flag["fallthrough"])),
    ]);
    table.row(vec![
        Cell::new("Description").colour(Colour::Dim),
        Cell::new(text("description")),
    ]);
    table.row(vec![
        Cell::new("Rules").colour(Colour::Dim),
        Cell::new(list_of(&flag, "rules").len().to_string()),
    ]);
    table.row(vec![
        Cell::new("Updated").colour(Colour::Dim),
        Cell::new(text("updated_at")),
    ]);
    out.table(&table);
    out.line("Variations:");
    for variation in list_of(&flag, "variations") {
        out.line(format!(
            "  • {} = {}",
            out.paint(Colour::Bold, variation["name"].as_str().unwrap_or_default()),
            out.escaped(&variation["value"].to_string())
        ));
    }
    let prerequisites = list_of(&flag, "prerequisites");
    if !prerequisites.is_empty() {
        out.line("Prerequisites:");
        for p in prerequisites {
            out.line(format!(
                "  • {} must be {}",
                out.paint(Colour::Cyan, p["flag_key"].as_str().unwrap_or_default()),
                out.paint(Colour::Bold, p["variation"].as_str().unwrap_or_default())
            ));
        }
    }
    Ok(())
}

/// The variations, off variation and fallthrough `flags create` gives a type (the Python
/// CLI's).
fn starting_variations(flag_type: &str) -> (Value, &'static str) {
    match flag_type {
        "string" => (
            json!([{"name": "control", "value": "control"}, {"name": "treatment", "value": "treatment"}]),
            "control",
        ),
        "integer" | "float" => (
            json!([{"name": "off", "value": 0}, {"name": "on", "value": 1}]),
            "off",
        ),
        "json" => (
            json!([{"name": "off", "value": {}}, {"name": "on", "value": {}}]),
            "off",
        ),
        _ => (
            json!([{"name": "on", "value": true}, {"name": "off", "value": false}]),
            "off",
        ),
    }
}

fn create(
    out: &Output,
    client: &Client,
    key: &str,
    name: &str,
    flag_type: &str,
    description: &str,
) -> Result<()> {
    let (variations, off) = starting_variations(flag_type);
    let body = json!({
        "key": key, "name": name, "type": flag_type, "description": description,
        "variations": variations, "off_variation": off, "fallthrough": off, "enabled": true
    });
    let flag = client.post("/api/flags", Some(body))?;
    done(
        out,
        &flag,
        format!("Flag {} created.", out.paint(Colour::Cyan, key)),
    );
    Ok(())
}

fn switch(out: &Output, client: &Client, key: &str, on: bool) -> Result<()> {
    let action = if on { "enable" } else { "disable" };
    let flag = client
        .post(&format!("{}/{action}", flag_path(key)), None)
        .map_err(not_found_hint)?;
    done(
        out,
        &flag,
        format!("Flag {} {action}d.", out.paint(Colour::Cyan, key)),
    );
    Ok(())
}

fn delete(out: &Output, client: &Client, key: &str, yes: bool) -> Result<()> {
    if !yes && !super::confirm(&format!("Delete flag {key}?"))? {
        out.line("Not deleted.");
        return Ok(());
    }
    let answer = client
        .delete(&flag_path(key), &[])
        .map_err(not_found_hint)?;
    confirm_ok(out, &answer, &format!("Flag {} deleted.", out.escaped(key)));
    Ok(())
}

fn eval(
    out: &Output,
    client: &Client,
    key: &str,
    context_key: &str,
    kind: &str,
    attrs: &[String],
) -> Result<()> {
    let mut attributes = Map::new();
    for attr in attrs {
        let Some((name, value)) = attr.split_once('=') else {
            return Err(Error::Usage(format!(
                "an attribute is name=value, not {attr:?}"
            )));
        };
        attributes.insert(name.trim().to_owned(), typed(value.trim()));
    }
    let body = json!({"context": {"key": context_key, "kind": kind, "attributes": attributes}});
    let result = client
        .post(&format!("{}/evaluate", flag_path(key)), Some(body))
        .map_err(not_found_hint)?;
    if printed_json(out, &result) {
        return Ok(());
    }
    let mut table = Table::new(&[]);
    table.row(vec![
        Cell::new("value").colour(Colour::Dim),
        Cell::new(result["value"].to_string()).colour(Colour::Bold),
    ]);
    table.row(vec![
        Cell::new("variation").colour(Colour::Dim),
        Cell::new(result["variation"].as_str().unwrap_or_default()),
    ]);
    table.row(vec![
        Cell::new("reason").colour(Colour::Dim),
        Cell::new(result["reason"].as_str().unwrap_or_default()),
    ]);
    for field in ["rule_id", "prerequisite_key", "error_message"] {
        if let Some(text) = result[field].as_str() {
            table.row(vec![Cell::new(field).colour(Colour::Dim), Cell::new(text)]);
        }
    }
    out.table(&table);
    Ok(())
}

fn variations(out: &Output, client: &Client, key: &str) -> Result<()> {
    let flag = client.get(&flag_path(key), &[]).map_err(not_found_hint)?;
    if printed_json(out, &flag["variations"]) {
        return Ok(());
    }
    out.line(format!(
        "{}  {}",
        out.paint(Colour::Cyan, key),
        out.paint(Colour::Dim, flag["type"].as_str().unwrap_or_default())
    ));
    let mut table = Table::new(&["NAME", "VALUE", "DESCRIPTION", "ROLE"]);
    for variation in list_of(&flag, "variations") {
        let name = variation["name"].as_str().unwrap_or_default();
        let role = if flag["off_variation"] == name {
            "off"
        } else if flag["fallthrough"] == name {
            "fallthrough"
        } else {
            ""
        };
        table.row(vec![
            Cell::new(name).colour(Colour::Cyan),
            Cell::new(variation["value"].to_string()),
            Cell::new(variation["description"].as_str().unwrap_or_default()),
            Cell::new(role).colour(Colour::Magenta),
        ]);
    }
    out.table(&table);
    Ok(())
}

fn targeting(out: &Output, client: &Client, key: &str) -> Result<()> {
    let flag = client.get(&flag_path(key), &[]).map_err(not_found_hint)?;
    let view = json!({
        "key": flag["key"], "off_variation": flag["off_variation"],
        "fallthrough": flag["fallthrough"], "targets": flag["targets"],
        "rules": flag["rules"], "prerequisites": flag["prerequisites"]
    });
    if printed_json(out, &view) {
        return Ok(());
    }
    out.line(format!(
        "{}  off={}  fallthrough={}",
        out.paint(Colour::Cyan, key),
        out.paint(
            Colour::Cyan,
            flag["off_variation"].as_str().unwrap_or_default()
        ),
        out.paint(Colour::Cyan, &fallthrough_text(&flag["fallthrough"]))
    ));
    if let Some(targets) = flag["targets"].as_object().filter(|t| !t.is_empty()) {
        out.line("Targets:");
        for (variation, keys) in targets {
            let keys: Vec<&str> = keys
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            out.line(format!(
                "  {} ← {}",
                out.paint(Colour::Green, variation),
                out.escaped(&keys.join(", "))
            ));
        }
    }
    let rules = list_of(&flag, "rules");
    if rules.is_empty() {
        out.line("No targeting rules.");
    }
    for (n, rule) in rules.iter().enumerate() {
        let description = rule["description"].as_str().unwrap_or_default();
        let serves = match &rule["rollout"] {
            Value::Array(_) => fallthrough_text(&rule["rollout"]),
            _ => rule["variation"].as_str().unwrap_or("—").to_owned(),
        };
        out.line(format!(
            "Rule {}{}  →  {}",
            n + 1,
            if description.is_empty() {
                String::new()
            } else {
                format!(" — {}", out.escaped(description))
            },
            out.paint(Colour::Green, &serves)
        ));
        out.line(out.paint(
            Colour::Dim,
            &format!("  id: {}", rule["id"].as_str().unwrap_or_default()),
        ));
        for clause in list_of(rule, "clauses") {
            out.line(format!("    {}", out.escaped(&clause_text(&clause))));
        }
    }
    Ok(())
}

fn retarget(out: &Output, client: &Client, args: &Targets, add: bool) -> Result<()> {
    let keys: Vec<String> = args
        .context_keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(Error::Usage("--keys names no context key".into()));
    }
    let flag = edit(client, &args.key, |flag| {
        let mut targets = flag["targets"].as_object().cloned().unwrap_or_default();
        let mut listed: Vec<String> = targets
            .get(&args.variation)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        if add {
            for key in &keys {
                if !listed.contains(key) {
                    listed.push(key.clone());
                }
            }
        } else {
            listed.retain(|key| !keys.contains(key));
        }
        match listed.is_empty() {
            true => targets.remove(&args.variation),
            false => targets.insert(args.variation.clone(), json!(listed)),
        };
        Ok(json!({ "targets": targets }))
    })?;
    let message = match add {
        true => format!(
            "Added {} key(s) to {} → {}.",
            keys.len(),
            out.paint(Colour::Cyan, &args.key),
            out.paint(Colour::Green, &args.variation)
        ),
        false => format!(
            "Removed {} key(s) from {} → {}.",
            keys.len(),
            out.paint(Colour::Cyan, &args.key),
            out.paint(Colour::Green, &args.variation)
        ),
    };
    done(out, &flag, message);
    Ok(())
}
