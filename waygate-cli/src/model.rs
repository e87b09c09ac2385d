//! The fields of the admin API's JSON the CLI reads (upstream section 7.3), each optional
//! with a default, so that an older or newer server still prints.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use waygate_core::stored::RouteKey;

/// A route's state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RouteState {
    /// The key (`GET:/payments`, `svc:GET:/payments`).
    pub(crate) path: String,
    /// The service, for routes registered by a service app.
    pub(crate) service: Option<String>,
    /// `active`, `maintenance`, `disabled`, `env_gated`, `deprecated`.
    pub(crate) status: String,
    /// Why.
    pub(crate) reason: String,
    /// The environments of an env-gated route.
    pub(crate) allowed_envs: Vec<String>,
    /// The maintenance window.
    pub(crate) window: Option<Window>,
}

impl RouteState {
    /// The key without its service prefix.
    pub(crate) fn local_path(&self) -> String {
        let service = self.service.as_deref().unwrap_or_default();
        match RouteKey::parse_in_service(&self.path, service) {
            Some(key) => key.local().to_string(),
            None => self.path.clone(),
        }
    }
}

/// A maintenance window.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Window {
    /// Its start, ISO 8601.
    pub(crate) start: Option<String>,
    /// Its end, ISO 8601.
    pub(crate) end: Option<String>,
}

/// An audit log entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuditEntry {
    /// When, ISO 8601.
    pub(crate) timestamp: String,
    /// The route key or sentinel.
    pub(crate) path: String,
    /// `disable`, `rl_policy_set`, ...
    pub(crate) action: String,
    /// Who.
    pub(crate) actor: Option<String>,
    /// From where (`cli`, `dashboard`, ...).
    pub(crate) platform: Option<String>,
    /// The status before.
    pub(crate) previous_status: Option<String>,
    /// The status after.
    pub(crate) new_status: Option<String>,
    /// Why.
    pub(crate) reason: String,
}

/// Global or per-service maintenance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MaintenanceConfig {
    /// On or off.
    pub(crate) enabled: bool,
    /// Shown in 503 bodies.
    pub(crate) reason: String,
    /// Routes that keep answering.
    pub(crate) exempt_paths: Vec<String>,
    /// Whether force-active routes are blocked too.
    pub(crate) include_force_active: bool,
}

/// A per-route rate-limit policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Policy {
    /// The route template.
    pub(crate) path: String,
    /// The method (`GET`, `ALL`).
    pub(crate) method: String,
    /// The limit string.
    pub(crate) limit: String,
    /// The algorithm.
    pub(crate) algorithm: String,
    /// The key strategy.
    pub(crate) key_strategy: String,
    /// Extra requests in a burst.
    pub(crate) burst: u64,
    /// Plan tiers.
    pub(crate) tiers: Vec<Value>,
}

/// A global or per-service rate-limit policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GlobalPolicy {
    /// The limit string.
    pub(crate) limit: String,
    /// The algorithm.
    pub(crate) algorithm: String,
    /// The key strategy.
    pub(crate) key_strategy: String,
    /// Extra requests in a burst.
    pub(crate) burst: u64,
    /// Whether it applies (it can be paused).
    pub(crate) enabled: bool,
    /// Routes it does not apply to.
    pub(crate) exempt_routes: Vec<String>,
}

/// `GET api/global-rate-limit` and `api/services/{s}/rate-limit`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GlobalPolicyState {
    /// The policy, if one is set.
    pub(crate) policy: Option<GlobalPolicy>,
}

/// A blocked request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Hit {
    /// When, ISO 8601.
    pub(crate) timestamp: String,
    /// The method.
    pub(crate) method: String,
    /// The route template.
    pub(crate) path: String,
    /// The limit that blocked it.
    pub(crate) limit: String,
    /// The plan tier.
    pub(crate) tier: Option<String>,
}

/// `value` as a `T`, or an error naming what the server sent instead. `null` fields take
/// their defaults.
pub(crate) fn parse<T: DeserializeOwned>(value: &Value, what: &str, url: &str) -> Result<T> {
    T::deserialize(without_nulls(value.clone())).map_err(|e| Error::BadResponse {
        url: url.to_owned(),
        detail: format!("{what} in an unexpected shape ({e})"),
    })
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
