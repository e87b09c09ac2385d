//! What the templates show: plain view models built from engine data, and the askama
//! templates (under `waygate/templates/`). Escaping stays on (the `.html` default): no
//! user-supplied string is ever marked safe.

use super::super::token::B64U;
use super::context::Ctx;
use crate::model::{AuditEntry, GlobalMaintenanceConfig, RouteState, RouteStatus};
use crate::rate_limit::{RateLimitHit, RateLimitPolicy};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};

/// Renders a template into an HTML response (a template error is a `500`, logged without
/// the data).
pub(super) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "dashboard template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// The `{slug}` of a route key in element ids and SSE event names (the Python original's
/// rule): leading `/` removed, `{` and `}` removed, each of `/ : . _` replaced by `-`; empty
/// is `root`. `GET:/users/{id}` → `GET--users-id`.
pub(super) fn slug(key: &str) -> String {
    let slug: String = key
        .strip_prefix('/')
        .unwrap_or(key)
        .chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .map(|c| match c {
            '/' | ':' | '.' | '_' => '-',
            c => c,
        })
        .collect();
    if slug.is_empty() {
        "root".to_owned()
    } else {
        slug
    }
}

/// A route key as a URL segment: unpadded base64url, as in the API.
pub(super) fn path_key(key: &str) -> String {
    B64U.encode(key)
}

/// `2026-05-01 12:00 UTC`.
fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One row of the routes table.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) key: String,
    pub(super) slug: String,
    pub(super) path_key: String,
    pub(super) method: String,
    /// The path in pieces, each starting at a `/`: the page may break a long path between
    /// them (`<wbr>`), never inside a segment.
    pub(super) path_parts: Vec<String>,
    pub(super) service: String,
    /// The badge's CSS class: the effective status, or `scheduled`.
    pub(super) status: &'static str,
    /// The badge's text.
    pub(super) label: &'static str,
    pub(super) reason: String,
    /// The maintenance window, as text; empty without one.
    pub(super) window: String,
    /// The allowed environments, comma-separated.
    pub(super) envs: String,
    pub(super) force_active: bool,
    /// The rollout share when below 100%.
    pub(super) rollout: Option<u8>,
    /// The flag it is served behind (`#[feature_flag]`); empty without one.
    pub(super) feature_flag: String,
}

impl Row {
    /// The row of `state` now, with the flag the engine serves it behind.
    pub(super) fn of(engine: &crate::Engine, state: &RouteState) -> Self {
        let mut row = Self::new(state, engine.now());
        row.feature_flag = engine
            .snapshot()
            .feature_flag(state.key())
            .unwrap_or_default()
            .to_owned();
        row
    }

    /// The row of `state` as requests see it at `now`.
    pub(super) fn new(state: &RouteState, now: DateTime<Utc>) -> Self {
        let key = state.key();
        // `METHOD:/path`, `service:METHOD:/path`, or a bare path (every method).
        let (method, path) = match key.find(":/") {
            Some(at) => {
                let head = &key[..at];
                let method = head.rsplit(':').next().unwrap_or(head);
                (method.to_owned(), key[at + 1..].to_owned())
            }
            None => ("ALL".to_owned(), key.to_owned()),
        };
        let (status, label) = badge(state, now);
        Self {
            key: key.to_owned(),
            slug: slug(key),
            path_key: path_key(key),
            method,
            path_parts: path_parts(&path),
            service: state.service.clone().unwrap_or_default(),
            status,
            label,
            reason: state.reason.clone(),
            rollout: (state.rollout_percentage < 100).then_some(state.rollout_percentage),
            window: state
                .window
                .as_ref()
                .map(|w| format!("{} → {}", when(w.start), when(w.end)))
                .unwrap_or_default(),
            envs: state.allowed_envs.join(", "),
            force_active: state.force_active,
            feature_flag: String::new(),
        }
    }
}

/// `/api/items/{id}` as `["/api", "/items", "/{id}"]`.
fn path_parts(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (at, c) in path.char_indices() {
        if c == '/' && at > 0 || parts.is_empty() {
            parts.push(String::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push(c);
        }
    }
    parts
}

/// A route's badge: its CSS class (the effective status, or `scheduled` for a maintenance
/// window still to come) and its text.
pub(super) fn badge(state: &RouteState, now: DateTime<Utc>) -> (&'static str, &'static str) {
    {
        let effective = state.effective_status(now);
        match effective {
            RouteStatus::Active if state.status == RouteStatus::Maintenance => {
                match &state.window {
                    Some(window) if window.start > now => ("scheduled", "scheduled"),
                    _ => ("active", "active"),
                }
            }
            RouteStatus::Active => ("active", "active"),
            RouteStatus::Maintenance => ("maintenance", "maintenance"),
            RouteStatus::Disabled => ("disabled", "disabled"),
            RouteStatus::EnvGated => ("env_gated", "env gated"),
            RouteStatus::Deprecated => ("deprecated", "deprecated"),
            // A status this dashboard does not know yet is shown by its wire name.
            other => (other.as_str(), other.as_str()),
        }
    }
}

/// How many routes show each badge, and how many are force-active: the summary above the
/// routes table.
#[derive(Debug, Clone)]
pub(super) struct StatusCount {
    /// The badge's CSS class.
    pub(super) class: &'static str,
    pub(super) label: &'static str,
    pub(super) count: usize,
}

/// The summary of `states` at `now`: every status (zero included, as the Python original
/// shows them), then scheduled windows and force-active routes when there are any.
pub(super) fn status_counts(states: &[RouteState], now: DateTime<Utc>) -> Vec<StatusCount> {
    let mut counts: Vec<StatusCount> = [
        ("active", "active"),
        ("maintenance", "maintenance"),
        ("disabled", "disabled"),
        ("env_gated", "env gated"),
        ("deprecated", "deprecated"),
    ]
    .into_iter()
    .map(|(class, label)| StatusCount {
        class,
        label,
        count: 0,
    })
    .collect();
    let mut force_active = 0;
    for state in states {
        let (class, label) = badge(state, now);
        match counts.iter_mut().find(|c| c.class == class) {
            Some(count) => count.count += 1,
            None => counts.push(StatusCount {
                class,
                label,
                count: 1,
            }),
        }
        force_active += usize::from(state.force_active);
    }
    if force_active > 0 {
        counts.push(StatusCount {
            class: "force",
            label: "force-active",
            count: force_active,
        });
    }
    counts
}

/// The global maintenance panel's data.
#[derive(Debug, Clone)]
pub(super) struct Global {
    pub(super) enabled: bool,
    pub(super) reason: String,
    /// One exempt path a line.
    pub(super) exempt_paths: String,
    pub(super) include_force_active: bool,
}

impl From<GlobalMaintenanceConfig> for Global {
    fn from(config: GlobalMaintenanceConfig) -> Self {
        Self {
            enabled: config.enabled,
            reason: config.reason,
            exempt_paths: config.exempt_paths.join("\n"),
            include_force_active: config.include_force_active,
        }
    }
}

/// One service's panel (a Waygate Server's routes page filtered to a service): its
/// maintenance and its rate limit.
#[derive(Debug, Clone)]
pub(super) struct ServicePanel {
    pub(super) name: String,
    pub(super) maintenance: Global,
    /// The limit (`100/minute`), empty without a policy.
    pub(super) limit: String,
    pub(super) limit_enabled: bool,
    /// Whether tokens can be made for the service (auth is on).
    pub(super) tokens: bool,
}

impl ServicePanel {
    pub(super) fn of(admin: &super::super::AdminState, service: &str) -> Self {
        let engine = &admin.engine;
        let policy = engine.service_rate_limit(service);
        Self {
            tokens: admin.auth.is_some(),
            name: service.to_owned(),
            maintenance: Global::from(engine.service_maintenance(service)),
            limit: policy.as_ref().map(|p| p.limit.clone()).unwrap_or_default(),
            limit_enabled: policy.is_some_and(|p| p.enabled),
        }
    }
}

/// The service panel, alone (what its actions answer).
#[derive(Template)]
#[template(path = "service.html")]
pub(super) struct ServiceFragment {
    pub(super) panel: ServicePanel,
}

/// One audit entry.
#[derive(Debug, Clone)]
pub(super) struct AuditRow {
    pub(super) time: String,
    pub(super) path: String,
    pub(super) action: String,
    pub(super) actor: String,
    pub(super) platform: String,
    pub(super) change: String,
    pub(super) reason: String,
}

impl From<AuditEntry> for AuditRow {
    fn from(entry: AuditEntry) -> Self {
        let status = |s: Option<RouteStatus>| s.map_or("–", RouteStatus::as_str);
        let change = match (entry.previous_status, entry.new_status) {
            (None, None) => String::new(),
            (previous, new) => format!("{} → {}", status(previous), status(new)),
        };
        Self {
            time: entry.timestamp.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            path: entry.path,
            action: entry.action,
            actor: entry.actor,
            platform: entry.platform,
            change,
            reason: entry.reason,
        }
    }
}

/// One per-route rate-limit policy.
#[derive(Debug, Clone)]
pub(super) struct PolicyRow {
    pub(super) path: String,
    pub(super) method: String,
    pub(super) limit: String,
    pub(super) algorithm: &'static str,
    pub(super) key_strategy: &'static str,
    pub(super) burst: u32,
    /// `METHOD:/path`, base64url: the actions' URL segment.
    pub(super) path_key: String,
    pub(super) slug: String,
}

impl From<RateLimitPolicy> for PolicyRow {
    fn from(policy: RateLimitPolicy) -> Self {
        let key = format!("{}:{}", policy.method, policy.path);
        Self {
            path_key: path_key(&key),
            slug: slug(&key),
            algorithm: policy.algorithm.as_str(),
            key_strategy: policy.key_strategy.as_str(),
            burst: policy.burst,
            path: policy.path,
            method: policy.method,
            limit: policy.limit,
        }
    }
}

/// One blocked request.
#[derive(Debug, Clone)]
pub(super) struct HitRow {
    pub(super) time: String,
    pub(super) method: String,
    pub(super) path: String,
    pub(super) key: String,
    pub(super) limit: String,
    pub(super) reset_at: String,
}

impl From<RateLimitHit> for HitRow {
    fn from(hit: RateLimitHit) -> Self {
        Self {
            time: hit.timestamp.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            method: hit.method,
            path: hit.path,
            key: hit.key,
            limit: hit.limit,
            reset_at: hit.reset_at.format("%H:%M:%S UTC").to_string(),
        }
    }
}

/// The algorithms and key strategies the policy forms offer.
pub(super) const ALGORITHMS: &[&str] = &[
    "sliding_window",
    "fixed_window",
    "moving_window",
    "token_bucket",
];
pub(super) const KEY_STRATEGIES: &[&str] = &["ip", "user", "api_key", "global"];

/// `GET login`.
#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    pub(super) ctx: Ctx,
    pub(super) error: Option<String>,
}

/// `GET /`.
#[derive(Template)]
#[template(path = "routes.html")]
pub(super) struct RoutesPage {
    pub(super) ctx: Ctx,
    pub(super) rows: Vec<Row>,
    pub(super) global: Global,
    pub(super) services: Vec<String>,
    pub(super) service: String,
    /// The selected service's maintenance and rate limit.
    pub(super) panel: Option<ServicePanel>,
    pub(super) page: usize,
    pub(super) pages: usize,
    pub(super) total: usize,
    /// Routes per status (of the service shown), above the table.
    pub(super) counts: Vec<StatusCount>,
    pub(super) env: String,
    /// The refused-requests chart above the table.
    pub(super) strip: super::charts::Chart,
}

/// One route's row: what actions and SSE updates answer.
#[derive(Template)]
#[template(path = "row.html")]
pub(super) struct RowFragment {
    pub(super) row: Row,
}

/// A service token just made, shown once.
#[derive(Template)]
#[template(path = "service_token.html")]
pub(super) struct ServiceTokenFragment {
    pub(super) service: String,
    pub(super) token: String,
    pub(super) expires: String,
}

/// The counts per status above the routes table: sent again with every change.
#[derive(Template)]
#[template(path = "summary.html")]
pub(super) struct SummaryFragment {
    pub(super) counts: Vec<StatusCount>,
}

/// The global maintenance panel.
#[derive(Template)]
#[template(path = "global.html")]
pub(super) struct GlobalFragment {
    pub(super) global: Global,
}

/// `GET audit`.
#[derive(Template)]
#[template(path = "audit.html")]
pub(super) struct AuditPage {
    pub(super) ctx: Ctx,
    pub(super) entries: Vec<AuditRow>,
}

/// `GET rate-limits`.
#[derive(Template)]
#[template(path = "rate_limits.html")]
pub(super) struct RateLimitsPage {
    pub(super) ctx: Ctx,
    pub(super) policies: Vec<PolicyRow>,
    pub(super) error: String,
}

/// The policies table: what the rate-limit actions answer.
#[derive(Template)]
#[template(path = "rl_table.html")]
pub(super) struct PoliciesFragment {
    pub(super) policies: Vec<PolicyRow>,
    pub(super) error: String,
}

/// `GET blocked`.
#[derive(Template)]
#[template(path = "blocked.html")]
pub(super) struct BlockedPage {
    pub(super) ctx: Ctx,
    pub(super) hits: Vec<HitRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("GET:/users/{id}"), "GET--users-id");
        assert_eq!(slug("GET:/payments"), "GET--payments");
        assert_eq!(slug("/health"), "health");
        assert_eq!(slug("/"), "root");
        assert_eq!(slug("svc:POST:/a_b.json"), "svc-POST--a-b-json");
    }

    #[test]
    fn rows_split_keys() {
        let now = Utc::now();
        let row = Row::new(&RouteState::active("svc:GET:/a"), now);
        assert_eq!(
            (row.method.as_str(), row.path_parts.concat().as_str()),
            ("GET", "/a")
        );
        let row = Row::new(&RouteState::active("/b"), now);
        assert_eq!(
            (row.method.as_str(), row.path_parts.concat().as_str()),
            ("ALL", "/b")
        );
        assert_eq!(
            path_parts("/api/items/{id}"),
            ["/api", "/items", "/{id}"],
            "a long path breaks between segments"
        );
        assert_eq!(path_parts("/"), ["/"]);
    }

    #[test]
    fn counts_per_status() {
        let now = Utc::now();
        let mut disabled = RouteState::active("GET:/d");
        disabled.status = RouteStatus::Disabled;
        let mut forced = RouteState::active("GET:/f");
        forced.force_active = true;
        let counts = status_counts(&[RouteState::active("GET:/a"), disabled, forced], now);
        let shown: Vec<(&str, usize)> = counts.iter().map(|c| (c.class, c.count)).collect();
        assert_eq!(
            shown,
            [
                ("active", 2),
                ("maintenance", 0),
                ("disabled", 1),
                ("env_gated", 0),
                ("deprecated", 0),
                ("force", 1)
            ]
        );
    }
}
