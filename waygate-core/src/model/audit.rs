use super::RouteStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who made a change, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Actor {
    /// A user name, or `"system"` / `"scheduler"` for waygate's own changes.
    pub name: String,
    /// Where the change came from: `"cli"`, `"dashboard"`, `"sdk"`, `"system"`, ...
    pub platform: String,
}

impl Actor {
    /// A named actor on the `"system"` platform.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            platform: "system".to_owned(),
        }
    }

    /// waygate itself.
    pub fn system() -> Self {
        Self::new("system")
    }

    /// Sets the platform the change came from.
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = platform.into();
        self
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for Actor {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// A UUID v4.
    pub id: String,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
    /// The route key, or a sentinel such as `__global__`.
    pub path: String,
    /// The service of the route, in server mode.
    #[serde(default)]
    pub service: Option<String>,
    /// What was done: `enable`, `disable`, `maintenance_on`, `env_gate`, ...
    pub action: String,
    /// Who did it.
    #[serde(default = "system")]
    pub actor: String,
    /// Where it came from.
    #[serde(default = "system")]
    pub platform: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// The status before the change.
    #[serde(default)]
    pub previous_status: Option<RouteStatus>,
    /// The status after the change.
    #[serde(default)]
    pub new_status: Option<RouteStatus>,
}

impl AuditEntry {
    /// An entry recording `action` on `path` by `actor`, made now, with a fresh id; set the
    /// other fields (they are public) as needed.
    pub fn new(path: impl Into<String>, action: impl Into<String>, actor: &Actor) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: Utc::now(),
            path: path.into(),
            service: None,
            action: action.into(),
            actor: actor.name.clone(),
            platform: actor.platform.clone(),
            reason: String::new(),
            previous_status: None,
            new_status: None,
        }
    }
}

fn system() -> String {
    "system".to_owned()
}

/// Which log entries to read — audit entries, or blocked requests ([`HitQuery`]) — newest
/// first, optionally for one route, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Only entries whose `path` is exactly this key.
    pub route: Option<String>,
    /// The most entries to return.
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            route: None,
            limit: 100,
        }
    }
}

impl AuditQuery {
    /// The newest `limit` entries of every route.
    pub fn latest(limit: usize) -> Self {
        Self { route: None, limit }
    }

    /// Restricts the query to one route key.
    pub fn route(mut self, key: impl Into<String>) -> Self {
        self.route = Some(key.into());
        self
    }
}

/// Which blocked requests to read from the rate-limit hit log: newest first, optionally for
/// one route template (`route`), at most `limit`. The same shape as an audit query.
pub type HitQuery = AuditQuery;
