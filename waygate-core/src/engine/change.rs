//! What the engine tells subscribers about each change it applies: the audit entry's facts,
//! the route's new state, and an id that every instance applying the same change agrees on.

use crate::model::{AuditEntry, MaintenanceWindow, RouteState, RouteStatus};
use chrono::{DateTime, Utc};

/// One change the engine applied (see [`EngineEvent::Applied`](crate::EngineEvent::Applied)):
/// every audited mutation, and the opening and closing of maintenance windows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Identifies the change. A local mutation's id is its audit entry's; the opening and
    /// closing of a maintenance window, which every engine sharing a backend applies on its
    /// own timer, get an id derived from the route and the window, the same on every
    /// instance.
    pub id: String,
    /// What happened: the audit action (`enable`, `disable`, `maintenance_on`, `env_gate`,
    /// `global_maintenance_on`, `rl_policy_set`, ...), or `maintenance_on` / `maintenance_off`
    /// when a window opens or closes.
    pub event: String,
    /// The route key, or the audit sentinel (`__global__`, `__global_rl__`, ...).
    pub key: String,
    /// The route's service, in server mode.
    pub service: Option<String>,
    /// The status before the change, when it has one.
    pub previous_status: Option<RouteStatus>,
    /// The status after the change, when it has one.
    pub new_status: Option<RouteStatus>,
    /// Why (the audit reason).
    pub reason: String,
    /// Who made the change.
    pub actor: String,
    /// Where it came from (`cli`, `dashboard`, `system`, ...).
    pub platform: String,
    /// When it was made.
    pub timestamp: DateTime<Utc>,
    /// The route's state after the change (route changes only).
    pub state: Option<RouteState>,
}

impl Change {
    pub(super) fn audited(entry: &AuditEntry, state: Option<&RouteState>) -> Self {
        Self {
            id: entry.id.clone(),
            event: entry.action.clone(),
            key: entry.path.clone(),
            service: entry.service.clone(),
            previous_status: entry.previous_status,
            new_status: entry.new_status,
            reason: entry.reason.clone(),
            actor: entry.actor.clone(),
            platform: entry.platform.clone(),
            timestamp: entry.timestamp,
            state: state.cloned(),
        }
    }

    /// A window opening (`maintenance_on`) or closing (`maintenance_off`), as every instance
    /// with the window's timer sees it.
    pub(super) fn window(
        event: &str,
        state: &RouteState,
        window: &MaintenanceWindow,
        (previous, new): (RouteStatus, RouteStatus),
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: window_id(event, &state.path, window),
            event: event.to_owned(),
            key: state.path.clone(),
            service: state.service.clone(),
            previous_status: Some(previous),
            new_status: Some(new),
            reason: window.reason.clone(),
            actor: "scheduler".to_owned(),
            platform: "system".to_owned(),
            timestamp: now,
            state: Some(state.clone()),
        }
    }
}

/// `window:{event}:{key}:{start}:{end}`: the same on every instance.
fn window_id(event: &str, key: &str, window: &MaintenanceWindow) -> String {
    format!(
        "window:{event}:{key}:{}:{}",
        window.start.timestamp_millis(),
        window.end.timestamp_millis()
    )
}
