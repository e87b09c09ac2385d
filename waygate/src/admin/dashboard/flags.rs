//! The Flags pages: the list (search, type and status filters, create, enable/disable) and a
//! flag's page (settings, variations, targeting rules, prerequisites, individual targets,
//! enable/disable/delete and an evaluation debugger). Every change goes through the engine
//! (checked, stored, audited as the dashboard's user) and answers the re-rendered list or
//! page body, with the engine's error above it when it refused.

use super::super::body::capped;
use super::super::extract::Params;
use super::super::AdminState;
use super::context::Ctx;
use super::flag_view::{
    EvalFragment, FlagBody, FlagFilter, FlagPage, FlagRowsFragment, FlagsPage, MissingFlag,
};
use super::view::render;
use crate::flags::{EvaluationContext, Fallthrough, FeatureFlag, Prerequisite, TargetingRule};
use crate::model::Actor;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

/// The list filters, from the query (`GET`) or the form fields sent along (`POST`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FilterFields {
    q: String,
    #[serde(rename = "type")]
    flag_type: String,
    status: String,
}

impl From<FilterFields> for FlagFilter {
    fn from(fields: FilterFields) -> Self {
        Self {
            q: fields.q,
            flag_type: fields.flag_type,
            status: fields.status,
        }
    }
}

fn filter_of(params: &Params) -> FlagFilter {
    FlagFilter {
        q: params.get("q").unwrap_or_default().to_owned(),
        flag_type: params.get("type").unwrap_or_default().to_owned(),
        status: params.get("status").unwrap_or_default().to_owned(),
    }
}

/// `GET flags?q=&type=&status=`.
pub(super) async fn page(State(admin): State<AdminState>, ctx: Ctx, params: Params) -> Response {
    let set = admin.engine.flags();
    let filter = filter_of(&params);
    let usage = admin.engine.stale_flags();
    render(&FlagsPage {
        ctx,
        rows: filter.rows(&set, &usage),
        filter,
        total: set.len(),
        enabled: set.flags().filter(|f| f.enabled).count(),
        error: String::new(),
        missing: MissingFlag::of(&usage),
    })
}

/// `GET flags/rows?q=&type=&status=`: the table, for the filters and live updates.
pub(super) async fn rows(State(admin): State<AdminState>, params: Params) -> Response {
    rows_fragment(&admin, &filter_of(&params), String::new())
}

fn rows_fragment(admin: &AdminState, filter: &FlagFilter, error: String) -> Response {
    let usage = admin.engine.stale_flags();
    render(&FlagRowsFragment {
        rows: filter.rows(&admin.engine.flags(), &usage),
        error,
        missing: MissingFlag::of(&usage),
    })
}

/// The create form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateFields {
    key: String,
    name: String,
    #[serde(rename = "type")]
    flag_type: String,
    description: String,
}

/// `POST flags/create`: a flag with two variations of its type (as the Python CLI makes
/// them), enabled; answers the table.
pub(super) async fn create(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<CreateFields>,
) -> Response {
    let result = async {
        for (field, value) in [("key", &fields.key), ("name", &fields.name), ("description", &fields.description)] {
            capped(field, value).map_err(|e| e.message().to_owned())?;
        }
        if admin.engine.flags().flag(fields.key.trim()).is_some() {
            return Err(format!("a flag {} exists already", fields.key.trim()));
        }
        let (variations, off) = match fields.flag_type.as_str() {
            "string" => (json!([{"name": "control", "value": "control"}, {"name": "treatment", "value": "treatment"}]), "control"),
            "integer" | "float" => (json!([{"name": "off", "value": 0}, {"name": "on", "value": 1}]), "off"),
            "json" => (json!([{"name": "off", "value": {}}, {"name": "on", "value": {}}]), "off"),
            _ => (json!([{"name": "on", "value": true}, {"name": "off", "value": false}]), "off"),
        };
        let flag: FeatureFlag = serde_json::from_value(json!({
            "key": fields.key.trim(), "name": fields.name.trim(), "description": fields.description,
            "type": if fields.flag_type.is_empty() { "boolean" } else { fields.flag_type.as_str() },
            "variations": variations, "off_variation": off, "fallthrough": off,
            "created_by": ctx.actor.name.clone(),
        }))
        .map_err(|e| format!("invalid flag: {e}"))?;
        admin
            .engine
            .save_flag(flag, ctx.actor.clone())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    rows_fragment(
        &admin,
        &FlagFilter::default(),
        result.err().unwrap_or_default(),
    )
}

/// `GET flags/{key}`.
pub(super) async fn detail(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
) -> Response {
    let set = admin.engine.flags();
    match set.flag(&key) {
        Some(flag) => render(&FlagPage {
            ctx,
            body: FlagBody::new(flag, &set),
        }),
        None => super::missing(
            ctx,
            &format!("No flag {key}."),
            "flags",
            "Back to the flags",
        ),
    }
}

/// `GET flags/{key}/body`: the page body, for live updates.
pub(super) async fn body(State(admin): State<AdminState>, Path(key): Path<String>) -> Response {
    answer(&admin, &key, Ok(String::new()))
}

/// The flag's page body after an action: `outcome` is its notice, or the error to show.
fn answer(admin: &AdminState, key: &str, outcome: Result<String, String>) -> Response {
    let set = admin.engine.flags();
    let Some(flag) = set.flag(key) else {
        return gone(
            &format!("Flag {key} does not exist (any more)."),
            "flags",
            "Back to the flags",
        );
    };
    let mut body = FlagBody::new(flag, &set);
    match outcome {
        Ok(notice) => body.notice = notice,
        Err(error) => body.error = error,
    }
    render(&body)
}

/// What replaces a page body whose record is gone.
#[derive(Template)]
#[template(
    source = r#"<div id="{{ id }}"><section class="card"><p class="notice" role="status">{{ message }} <a href="{{ back }}">{{ label }}</a></p></section></div>"#,
    ext = "html"
)]
struct Gone<'a> {
    id: &'a str,
    message: &'a str,
    back: &'a str,
    label: &'a str,
}

/// The page body of a record that is gone, with a link back to its list.
pub(super) fn gone(message: &str, back: &str, label: &str) -> Response {
    let id = if back == "flags" { "flag" } else { "segment" };
    match (Gone {
        id,
        message,
        back,
        label,
    })
    .render()
    {
        Ok(html) => Html(html).into_response(),
        Err(_) => Html(String::new()).into_response(),
    }
}

/// Reads flag `key`, lets `change` change it (or refuse, with a message), saves it as the
/// dashboard's user and answers the page body with `notice` (or the error).
async fn change_flag(
    admin: &AdminState,
    actor: Actor,
    key: &str,
    notice: &str,
    change: impl FnOnce(&mut FeatureFlag) -> Result<(), String>,
) -> Response {
    let Some(mut flag) = admin.engine.flags().flag(key).cloned() else {
        return answer(admin, key, Err(String::new()));
    };
    let outcome = match change(&mut flag) {
        Ok(()) => admin
            .engine
            .save_flag(flag, actor)
            .await
            .map(|_| notice.to_owned())
            .map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    answer(admin, key, outcome)
}

/// `POST flags/{key}/enable` and `.../disable` (`?view=rows`: answers the table, filtered
/// by the form fields sent along).
async fn switch(
    admin: &AdminState,
    actor: Actor,
    key: &str,
    on: bool,
    rows_view: Option<FlagFilter>,
) -> Response {
    let outcome = admin
        .engine
        .set_flag_enabled(key, on, actor)
        .await
        .map(|_| format!("Flag {}.", if on { "enabled" } else { "disabled" }))
        .map_err(|e| e.to_string());
    match rows_view {
        Some(filter) => rows_fragment(admin, &filter, outcome.err().unwrap_or_default()),
        None => answer(admin, key, outcome),
    }
}

/// `POST flags/{key}/enable`.
pub(super) async fn enable(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    params: Params,
    Form(fields): Form<FilterFields>,
) -> Response {
    let view = (params.get("view") == Some("rows")).then(|| fields.into());
    switch(&admin, ctx.actor, &key, true, view).await
}

/// `POST flags/{key}/disable`.
pub(super) async fn disable(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    params: Params,
    Form(fields): Form<FilterFields>,
) -> Response {
    let view = (params.get("view") == Some("rows")).then(|| fields.into());
    switch(&admin, ctx.actor, &key, false, view).await
}

/// `POST flags/{key}/delete`.
pub(super) async fn delete(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
) -> Response {
    match admin.engine.delete_flag(&key, ctx.actor).await {
        Ok(()) => gone(
            &format!("Flag {key} deleted."),
            "flags",
            "Back to the flags",
        ),
        Err(error) => answer(&admin, &key, Err(error.to_string())),
    }
}

/// The settings form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SettingsFields {
    name: String,
    description: String,
    off_variation: String,
    fallthrough: String,
}

/// `POST flags/{key}/settings`: name, description, off variation, fallthrough (empty: the
/// rollout it has stays).
pub(super) async fn settings(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<SettingsFields>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Settings saved.", |flag| {
        for (field, value) in [("name", &fields.name), ("description", &fields.description)] {
            capped(field, value).map_err(|e| e.message().to_owned())?;
        }
        flag.name = fields.name.trim().to_owned();
        flag.description = fields.description.trim().to_owned();
        flag.off_variation = fields.off_variation;
        if !fields.fallthrough.is_empty() {
            flag.fallthrough = Fallthrough::Variation(fields.fallthrough);
        }
        Ok(())
    })
    .await
}

/// `POST flags/{key}/variations`: the rows `name`, `value`, `description`, in order; a row
/// without a name is dropped. A value is JSON (for a string flag, bare text is a string).
pub(super) async fn variations(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Variations saved.", |flag| {
        let mut rows: Vec<[String; 3]> = Vec::new();
        for (field, value) in fields {
            capped(&field, &value).map_err(|e| e.message().to_owned())?;
            match field.as_str() {
                "name" => rows.push([value, String::new(), String::new()]),
                "value" => {
                    if let Some(row) = rows.last_mut() {
                        row[1] = value;
                    }
                }
                "description" => {
                    if let Some(row) = rows.last_mut() {
                        row[2] = value;
                    }
                }
                _ => {}
            }
        }
        let string_flag = flag.flag_type.as_str() == "string";
        let mut variations = Vec::new();
        for [name, value, description] in rows {
            let name = name.trim().to_owned();
            if name.is_empty() {
                continue;
            }
            let value: Value = match serde_json::from_str(value.trim()) {
                Ok(value) => value,
                Err(_) if string_flag => Value::String(value.trim().to_owned()),
                Err(error) => return Err(format!("the value of {name} is not JSON: {error}")),
            };
            variations
                .push(json!({"name": name, "value": value, "description": description.trim()}));
        }
        flag.variations =
            serde_json::from_value(Value::Array(variations)).map_err(|e| e.to_string())?;
        Ok(())
    })
    .await
}

/// A rule form's fields (flags and segments).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RuleFields {
    pub(super) attribute: String,
    pub(super) operator: String,
    pub(super) values: String,
    pub(super) negate: String,
    pub(super) variation: String,
    pub(super) description: String,
}

impl RuleFields {
    /// The rule's one clause, as JSON: values split on commas; numbers for the numeric
    /// operators.
    pub(super) fn clause(&self) -> Result<Value, String> {
        for (field, value) in [
            ("attribute", &self.attribute),
            ("values", &self.values),
            ("description", &self.description),
        ] {
            capped(field, value).map_err(|e| e.message().to_owned())?;
        }
        let numeric = matches!(self.operator.as_str(), "gt" | "gte" | "lt" | "lte");
        let values: Vec<Value> = self
            .values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| match (numeric, v.parse::<f64>()) {
                (true, Ok(number)) if number.is_finite() => json!(number),
                _ => Value::String(v.to_owned()),
            })
            .collect();
        if values.is_empty() {
            return Err("a clause needs at least one value".into());
        }
        Ok(json!({
            "attribute": self.attribute.trim(), "operator": self.operator,
            "values": values, "negate": self.negate == "on"
        }))
    }
}

/// `POST flags/{key}/rules`: appends a rule of one clause.
pub(super) async fn add_rule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<RuleFields>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Rule added.", |flag| {
        let rule: TargetingRule = serde_json::from_value(json!({
            "description": fields.description.trim(),
            "clauses": [fields.clause()?],
            "variation": fields.variation,
        }))
        .map_err(|e| format!("invalid rule: {e}"))?;
        flag.rules.push(rule);
        Ok(())
    })
    .await
}

/// `POST flags/{key}/rules/{id}/delete`.
pub(super) async fn delete_rule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path((key, id)): Path<(String, String)>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Rule removed.", |flag| {
        let before = flag.rules.len();
        flag.rules.retain(|rule| rule.id != id);
        match flag.rules.len() < before {
            true => Ok(()),
            false => Err(format!("no rule {id}")),
        }
    })
    .await
}

/// The prerequisite forms' fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PrerequisiteFields {
    flag: String,
    variation: String,
}

/// `POST flags/{key}/prerequisites`: adds (or replaces) one.
pub(super) async fn add_prerequisite(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<PrerequisiteFields>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Prerequisite added.", |flag| {
        capped("variation", &fields.variation).map_err(|e| e.message().to_owned())?;
        flag.prerequisites.retain(|p| p.flag_key != fields.flag);
        flag.prerequisites.push(Prerequisite {
            flag_key: fields.flag,
            variation: fields.variation.trim().to_owned(),
        });
        Ok(())
    })
    .await
}

/// `POST flags/{key}/prerequisites/remove`.
pub(super) async fn remove_prerequisite(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<PrerequisiteFields>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Prerequisite removed.", |flag| {
        flag.prerequisites.retain(|p| p.flag_key != fields.flag);
        Ok(())
    })
    .await
}

/// Comma- or line-separated keys, trimmed, each checked.
pub(super) fn key_list(field: &str, text: &str) -> Result<Vec<String>, String> {
    let keys: Vec<String> = text
        .split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    for key in &keys {
        capped(field, key).map_err(|e| e.message().to_owned())?;
    }
    Ok(keys)
}

/// `POST flags/{key}/targets`: one field per variation, its context keys.
pub(super) async fn targets(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change_flag(&admin, ctx.actor, &key, "Targets saved.", |flag| {
        let mut targets = Vec::new();
        for (variation, keys) in fields {
            if !flag.has_variation(&variation) {
                continue;
            }
            let keys = key_list(&variation, &keys)?;
            if !keys.is_empty() {
                targets.push((variation, keys));
            }
        }
        flag.targets = targets;
        Ok(())
    })
    .await
}

/// The debugger's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EvalFields {
    key: String,
    kind: String,
    attributes: String,
}

/// `POST flags/{key}/evaluate`: what the flag serves a context (attributes `name=value`,
/// one a line; numbers and `true`/`false` are typed).
pub(super) async fn evaluate(
    State(admin): State<AdminState>,
    Path(key): Path<String>,
    Form(fields): Form<EvalFields>,
) -> Response {
    let fragment = match eval_context(&fields) {
        Err(error) => EvalFragment {
            value: String::new(),
            variation: String::new(),
            reason: String::new(),
            detail: String::new(),
            error,
        },
        Ok(ctx) => {
            let flags = admin.engine.flags();
            match flags.explain(&key, &ctx) {
                None => EvalFragment {
                    value: String::new(),
                    variation: String::new(),
                    reason: String::new(),
                    detail: String::new(),
                    error: format!("No flag {key}."),
                },
                Some(resolution) => EvalFragment {
                    value: resolution.value.to_string(),
                    variation: resolution.variation.to_owned(),
                    reason: resolution.reason.as_str().to_owned(),
                    detail: resolution
                        .rule_id
                        .map(|id| format!("rule {id}"))
                        .or_else(|| {
                            resolution
                                .prerequisite_key
                                .map(|p| format!("prerequisite {p}"))
                        })
                        .or_else(|| resolution.error_message.map(str::to_owned))
                        .unwrap_or_default(),
                    error: String::new(),
                },
            }
        }
    };
    render(&fragment)
}

fn eval_context(fields: &EvalFields) -> Result<EvaluationContext, String> {
    for (field, value) in [("key", &fields.key), ("kind", &fields.kind)] {
        capped(field, value).map_err(|e| e.message().to_owned())?;
    }
    let key = match fields.key.trim() {
        "" => "anonymous",
        key => key,
    };
    let mut ctx = EvaluationContext::new(key);
    if !fields.kind.trim().is_empty() {
        ctx = ctx.kind(fields.kind.trim());
    }
    for line in fields
        .attributes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        capped("attributes", line).map_err(|e| e.message().to_owned())?;
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("an attribute is name=value, not {line:?}"));
        };
        let value = value.trim();
        let typed = match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => match value.parse::<i64>() {
                Ok(int) => json!(int),
                Err(_) => match value.parse::<f64>() {
                    Ok(float) if float.is_finite() => json!(float),
                    _ => Value::String(value.to_owned()),
                },
            },
        };
        ctx = ctx.attribute(name.trim(), typed);
    }
    Ok(ctx)
}
