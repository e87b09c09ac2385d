//! What a webhook's body says: the Python original's default JSON and Slack formatters, and
//! yours (a closure or a [`Formatter`] impl).

use serde_json::{json, Value};
use waygate_core::Change;

/// Turns a change into a webhook's JSON body.
///
/// Implemented for closures `Fn(&Change) -> serde_json::Value`:
///
/// ```
/// use waygate_webhooks::Formatter;
///
/// let minimal = |change: &waygate_core::Change| serde_json::json!({
///     "source": "waygate",
///     "event": change.event,
///     "route": change.key,
/// });
/// # fn takes(_: impl Formatter) {}
/// takes(minimal);
/// ```
pub trait Formatter: Send + Sync + 'static {
    /// The body posted for `change`.
    fn format(&self, change: &Change) -> Value;
}

impl<F> Formatter for F
where
    F: Fn(&Change) -> Value + Send + Sync + 'static,
{
    fn format(&self, change: &Change) -> Value {
        self(change)
    }
}

/// The Python original's default body: `{"event", "path", "reason", "timestamp", "state"}`
/// (`state` is the route's `RouteState`, `null` for changes that are not a route's).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultFormatter;

impl Formatter for DefaultFormatter {
    fn format(&self, change: &Change) -> Value {
        json!({
            "event": change.event,
            "path": change.key,
            "reason": change
                .state
                .as_ref()
                .map_or(change.reason.as_str(), |s| s.reason.as_str()),
            "timestamp": isoformat(change),
            "state": change.state,
        })
    }
}

/// A Slack incoming-webhook body, as the Python original's `SlackWebhookFormatter`:
/// `{"attachments": [{"color", "text": "*EVENT*: `path`\n> reason", "footer": "waygate", "ts"}]}`.
///
/// Colours: `maintenance_on` orange (`#FFA500`), `maintenance_off` and `enable` green
/// (`#36A64F`), `disable` red (`#FF0000`), `env_gate` blue (`#439FE0`); global and service
/// maintenance on/off orange/green like a route's; anything else grey (`#888888`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SlackFormatter;

impl SlackFormatter {
    /// The attachment colour of an event.
    pub fn color(event: &str) -> &'static str {
        match event {
            "maintenance_on" | "global_maintenance_on" | "service_maintenance_on" => "#FFA500",
            "maintenance_off" | "enable" | "global_maintenance_off" | "service_maintenance_off" => {
                "#36A64F"
            }
            "disable" => "#FF0000",
            "env_gate" => "#439FE0",
            _ => "#888888",
        }
    }
}

impl Formatter for SlackFormatter {
    fn format(&self, change: &Change) -> Value {
        let mut text = format!("*{}*: `{}`", change.event.to_uppercase(), change.key);
        if !change.reason.is_empty() {
            text.push_str("\n> ");
            text.push_str(&change.reason);
        }
        json!({"attachments": [{
            "color": Self::color(&change.event),
            "text": text,
            "footer": "waygate",
            "ts": change.timestamp.timestamp(),
        }]})
    }
}

/// Python's `datetime.isoformat()` of a UTC time: `2026-11-25T16:23:49.684288+00:00`.
fn isoformat(change: &Change) -> String {
    let time = change.timestamp;
    match time.timestamp_subsec_micros() {
        0 => time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        _ => time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
    }
}
