//! The pure part: an OpenAPI document (as JSON) rewritten for the route states of one moment,
//! as the Python original's `apply_waygate_to_openapi` does.

use crate::model::{GlobalMaintenanceConfig, RouteState, RouteStatus};
use crate::stored::RouteKey;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

/// The operation keys of an OpenAPI path item.
const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The summary prefix of an operation in maintenance.
const WRENCH: &str = "🔧";

/// Everything the document is filtered by.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub(crate) states: FxHashMap<&'a str, &'a RouteState>,
    pub(crate) global: &'a GlobalMaintenanceConfig,
    pub(crate) env: &'a str,
    pub(crate) now: DateTime<Utc>,
    /// The flag each `#[feature_flag]` route (`METHOD:/template`) is served behind.
    pub(crate) flags: FxHashMap<String, &'static str>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        states: &'a [RouteState],
        global: &'a GlobalMaintenanceConfig,
        env: &'a str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            states: states.iter().map(|s| (s.path.as_str(), s)).collect(),
            global,
            env,
            now,
            flags: FxHashMap::default(),
        }
    }

    /// The flag the operation is served behind, if any.
    fn feature_flag(&self, method: &str, template: &str) -> Option<&'static str> {
        let key = format!("{}:{template}", method.to_ascii_uppercase());
        self.flags.get(&key).copied()
    }

    /// The state of one operation: its `METHOD:template` key, else the bare template. A
    /// `head` operation without a state of its own follows `GET`, as requests do.
    fn state(&self, method: &str, template: &str) -> Option<&'a RouteState> {
        let keyed = |method: &str| {
            let key = format!("{}:{template}", method.to_ascii_uppercase());
            self.states.get(key.as_str()).copied()
        };
        keyed(method)
            .or_else(|| (method == "head").then(|| keyed("get")).flatten())
            .or_else(|| self.states.get(template).copied())
    }

    /// Whether global maintenance blocks the operation (the middleware's rule: exempt paths,
    /// and force-active routes unless included).
    fn globally_blocked(&self, method: &str, template: &str, state: Option<&RouteState>) -> bool {
        let global = self.global;
        if !global.enabled {
            return false;
        }
        let force_active = state.is_some_and(|s| s.force_active);
        if force_active && !global.include_force_active {
            return false;
        }
        let exempt = global.exempt_paths.iter().any(|entry| {
            // Read as the engine reads exempt paths: `METHOD:/path` or a bare path.
            match RouteKey::parse(entry).map(|k| (k.service(), k.method(), k.template())) {
                Some((None, Some(verb), path)) => {
                    path == template
                        && (verb.eq_ignore_ascii_case(method)
                            || (method == "head" && verb == "GET"))
                }
                _ => entry == template,
            }
        });
        !exempt
    }
}

/// A document split for fast rebuilds: every top-level entry and every path item is
/// serialised once, up front; a rebuild copies the bytes of the path items the route states
/// leave alone and re-serialises only the ones they change (and `info`).
#[derive(Debug)]
pub(crate) struct Prepared {
    entries: Vec<Entry>,
}

#[derive(Debug)]
enum Entry {
    /// A top-level entry written as it is: `"key":value`.
    Raw(Vec<u8>),
    /// `info`, which gets `x-waygate-global-maintenance`.
    Info(Map<String, Value>),
    /// `paths`, item by item.
    Paths(Vec<PathItem>),
}

#[derive(Debug)]
struct PathItem {
    template: String,
    item: Value,
    /// `"template":item`, serialised.
    raw: Vec<u8>,
}

impl Prepared {
    pub(crate) fn new(base: &Value) -> Self {
        let entries = match base.as_object() {
            Some(object) => object
                .iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("info", Value::Object(info)) => Entry::Info(info.clone()),
                    ("paths", Value::Object(paths)) => Entry::Paths(
                        paths
                            .iter()
                            .map(|(template, item)| PathItem {
                                template: template.clone(),
                                item: item.clone(),
                                raw: entry_bytes(template, item),
                            })
                            .collect(),
                    ),
                    _ => Entry::Raw(entry_bytes(key, value)),
                })
                .collect(),
            None => Vec::new(),
        };
        Self { entries }
    }

    /// The document as the routes stand, serialised: disabled and wrong-env operations
    /// removed (and paths left without operations), deprecated ones flagged, maintenance ones
    /// annotated, and `info.x-waygate-global-maintenance` set.
    pub(crate) fn render(&self, context: &Context<'_>) -> Vec<u8> {
        let size = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Raw(raw) => raw.len(),
                Entry::Info(_) => 256,
                Entry::Paths(items) => items.iter().map(|i| i.raw.len() + 1).sum(),
            })
            .sum::<usize>();
        let mut out = Vec::with_capacity(size + 64);
        out.push(b'{');
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match entry {
                Entry::Raw(raw) => out.extend_from_slice(raw),
                Entry::Info(info) => {
                    let mut info = info.clone();
                    info.insert(
                        "x-waygate-global-maintenance".to_owned(),
                        global_extension(context.global),
                    );
                    out.extend_from_slice(&entry_bytes("info", &Value::Object(info)));
                }
                Entry::Paths(items) => {
                    out.extend_from_slice(b"\"paths\":{");
                    let mut first = true;
                    for item in items {
                        let changed;
                        let raw = match touches(&item.template, &item.item, context) {
                            false => &item.raw,
                            true => {
                                let mut copy = item.item.clone();
                                if !filter_path(&item.template, &mut copy, context) {
                                    continue;
                                }
                                changed = entry_bytes(&item.template, &copy);
                                &changed
                            }
                        };
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        out.extend_from_slice(raw);
                    }
                    out.push(b'}');
                }
            }
        }
        out.push(b'}');
        out
    }
}

/// `"key":value`, as JSON.
fn entry_bytes(key: &str, value: &Value) -> Vec<u8> {
    // Strings and `Value`s always serialise.
    let mut out = serde_json::to_vec(key).unwrap_or_default();
    out.push(b':');
    serde_json::to_writer(&mut out, value).unwrap_or_default();
    out
}

/// Whether the route states change anything in a path item.
fn touches(template: &str, item: &Value, context: &Context<'_>) -> bool {
    let Some(item) = item.as_object() else {
        return false;
    };
    OPERATIONS
        .iter()
        .filter(|m| item.contains_key(**m))
        .any(|method| {
            if context.feature_flag(method, template).is_some() {
                return true;
            }
            let state = context.state(method, template);
            match state.map(|s| (s.effective_status(context.now), s)) {
                Some((RouteStatus::Active, _)) | None => {}
                Some((RouteStatus::EnvGated, s))
                    if s.allowed_envs.iter().any(|e| e == context.env) => {}
                Some(_) => return true,
            }
            context.globally_blocked(method, template, state)
        })
}

/// Rewrites one path item; `false` when no operation is left.
fn filter_path(template: &str, item: &mut Value, context: &Context<'_>) -> bool {
    let Some(item) = item.as_object_mut() else {
        return true;
    };
    let mut had_operations = false;
    for method in OPERATIONS {
        let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
            continue;
        };
        had_operations = true;
        let state = context.state(method, template);
        let status = state.map(|s| s.effective_status(context.now));
        let keep = match (status, state) {
            (Some(RouteStatus::Disabled), _) => false,
            (Some(RouteStatus::EnvGated), Some(s)) => {
                s.allowed_envs.iter().any(|e| e == context.env)
            }
            (Some(RouteStatus::Deprecated), Some(s)) => {
                deprecate(operation, s);
                true
            }
            (Some(RouteStatus::Maintenance), Some(s)) => {
                annotate_maintenance(operation, &s.reason);
                true
            }
            _ => true,
        };
        if !keep {
            item.remove(method);
            continue;
        }
        if let Some(flag) = context.feature_flag(method, template) {
            operation.insert("x-waygate-feature-flag".to_owned(), Value::from(flag));
        }
        if status != Some(RouteStatus::Maintenance)
            && context.globally_blocked(method, template, state)
        {
            annotate_maintenance(operation, &context.global.reason);
        }
    }
    !had_operations || OPERATIONS.iter().any(|m| item.contains_key(*m))
}

fn deprecate(operation: &mut Map<String, Value>, state: &RouteState) {
    operation.insert("deprecated".to_owned(), Value::Bool(true));
    if let Some(sunset) = &state.sunset_date {
        operation.insert("x-waygate-sunset".to_owned(), Value::from(sunset.as_str()));
    }
    if let Some(successor) = &state.successor_path {
        operation.insert(
            "x-waygate-successor".to_owned(),
            Value::from(successor.as_str()),
        );
    }
}

/// Marks an operation as in maintenance. Idempotent: a document that already carries the
/// banner and the prefix gets neither twice.
fn annotate_maintenance(operation: &mut Map<String, Value>, reason: &str) {
    operation.insert("x-waygate-status".to_owned(), Value::from("maintenance"));
    operation.insert("x-waygate-reason".to_owned(), Value::from(reason));
    let banner = banner(reason);
    let description = operation
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !description.starts_with(BANNER_START) {
        let text = match description.is_empty() {
            true => banner,
            false => format!("{banner}\n\n{description}"),
        };
        operation.insert("description".to_owned(), Value::from(text));
    }
    let summary = operation
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !summary.starts_with(WRENCH) {
        let text = match summary.is_empty() {
            true => format!("{WRENCH} Maintenance"),
            false => format!("{WRENCH} {summary}"),
        };
        operation.insert("summary".to_owned(), Value::from(text));
    }
}

const BANNER_START: &str = "> 🔧 **Waygate: MAINTENANCE**";

/// The markdown quote block put before the description of an operation in maintenance.
fn banner(reason: &str) -> String {
    let reason = match reason.trim() {
        "" => "Temporarily unavailable",
        reason => reason,
    };
    format!(
        "{BANNER_START} — {reason}\n>\n> This endpoint is temporarily unavailable: requests are answered with `503 MAINTENANCE_MODE`."
    )
}

fn global_extension(global: &GlobalMaintenanceConfig) -> Value {
    match global.enabled {
        true => serde_json::json!({
            "enabled": true,
            "reason": global.reason,
            "exempt_paths": global.exempt_paths,
        }),
        false => serde_json::json!({ "enabled": false }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotation_is_idempotent() {
        let mut operation = json!({"summary": "List", "description": "All of them"});
        let operation = operation.as_object_mut().unwrap();
        annotate_maintenance(operation, "migration");
        let once = operation.clone();
        annotate_maintenance(operation, "migration");
        assert_eq!(*operation, once);
        assert_eq!(once["summary"], "🔧 List");
        let description = once["description"].as_str().unwrap();
        assert!(description.starts_with(BANNER_START), "{description}");
        assert!(description.contains("migration"));
        assert!(description.ends_with("\n\nAll of them"));
    }

    #[test]
    fn empty_summary_and_reason() {
        let mut operation = Map::new();
        annotate_maintenance(&mut operation, "");
        assert_eq!(operation["summary"], "🔧 Maintenance");
        assert_eq!(operation["x-waygate-reason"], "");
        assert!(operation["description"]
            .as_str()
            .unwrap()
            .contains("Temporarily unavailable"));
    }

    #[test]
    fn head_follows_get() {
        let mut get = RouteState::active("GET:/items");
        get.status = RouteStatus::Disabled;
        let states = [get, RouteState::active("/other")];
        let global = GlobalMaintenanceConfig::default();
        let context = Context::new(&states, &global, "dev", Utc::now());
        assert_eq!(context.state("head", "/items").unwrap().path, "GET:/items");
        assert_eq!(context.state("post", "/other").unwrap().path, "/other");
        assert!(context.state("post", "/items").is_none());
    }

    #[test]
    fn exempt_paths_bare_and_qualified() {
        let global = GlobalMaintenanceConfig::enabled("r").exempt_paths(["/health", "GET:/status"]);
        let states = [];
        let context = Context::new(&states, &global, "dev", Utc::now());
        assert!(!context.globally_blocked("get", "/health", None));
        assert!(!context.globally_blocked("post", "/health", None));
        assert!(!context.globally_blocked("get", "/status", None));
        assert!(!context.globally_blocked("head", "/status", None));
        assert!(context.globally_blocked("post", "/status", None));
        assert!(context.globally_blocked("get", "/other", None));
    }
}
