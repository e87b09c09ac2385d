use super::RouteStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A maintenance window: the route is in maintenance from `start` (inclusive) to `end`
/// (exclusive), and active before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MaintenanceWindow {
    /// When maintenance begins.
    pub start: DateTime<Utc>,
    /// When maintenance ends and the route is served again.
    pub end: DateTime<Utc>,
    /// Why; shown in the `503` body.
    #[serde(default)]
    pub reason: String,
}

impl MaintenanceWindow {
    /// A window from `start` to `end` with a reason.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>, reason: impl Into<String>) -> Self {
        Self {
            start,
            end,
            reason: reason.into(),
        }
    }

    /// Whether `now` falls inside `[start, end)`.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && now < self.end
    }
}

/// The stored state of one route, under its key (`"GET:/payments"`, or a bare `"/payments"` that
/// applies to every method).
///
/// The JSON form is the Python original's `RouteState`, including the fields it declares but
/// never reads (`allowed_roles`, `allowed_ips`, `rollout_percentage`), so that data written by
/// either implementation round-trips through the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RouteState {
    /// The route key (named `path` on the wire).
    pub path: String,
    /// The service that owns the route, in server mode.
    #[serde(default)]
    pub service: Option<String>,
    /// Lifecycle status.
    #[serde(default)]
    pub status: RouteStatus,
    /// Why the route is in its status.
    #[serde(default)]
    pub reason: String,
    /// Environments an env-gated route is served in.
    #[serde(default)]
    pub allowed_envs: Vec<String>,
    /// Kept for wire compatibility; not enforced.
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    /// Kept for wire compatibility; not enforced.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// The maintenance window, when maintenance is scheduled.
    #[serde(default)]
    pub window: Option<MaintenanceWindow>,
    /// `Sunset` header value of a deprecated route.
    #[serde(default)]
    pub sunset_date: Option<String>,
    /// The route that replaces a deprecated one (`Link: <..>; rel="successor-version"`).
    #[serde(default)]
    pub successor_path: Option<String>,
    /// Kept for wire compatibility; not enforced.
    #[serde(default = "hundred")]
    pub rollout_percentage: u8,
    /// Whether the route ignores every check and refuses every mutation.
    #[serde(default)]
    pub force_active: bool,
}

fn hundred() -> u8 {
    100
}

impl RouteState {
    /// An active route under `key`.
    pub fn active(key: impl Into<String>) -> Self {
        Self {
            path: key.into(),
            service: None,
            status: RouteStatus::Active,
            reason: String::new(),
            allowed_envs: Vec::new(),
            allowed_roles: Vec::new(),
            allowed_ips: Vec::new(),
            window: None,
            sunset_date: None,
            successor_path: None,
            rollout_percentage: 100,
            force_active: false,
        }
    }

    /// The route key.
    pub fn key(&self) -> &str {
        &self.path
    }

    /// The status requests see at `now`: a maintenance window that has not started yet, or
    /// has ended, leaves the route active.
    pub fn effective_status(&self, now: DateTime<Utc>) -> RouteStatus {
        match (&self.status, &self.window) {
            (RouteStatus::Maintenance, Some(window)) if !window.contains(now) => {
                RouteStatus::Active
            }
            (status, _) => *status,
        }
    }
}
