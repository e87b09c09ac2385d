//! Every change to route state and global maintenance: serialised, persisted, audited, then
//! published as a new snapshot.

use super::resolve::resolve;
use super::{Change, Engine, EngineEvent};
use crate::model::{
    Actor, AuditEntry, GlobalMaintenanceConfig, MaintenanceWindow, RouteState, RouteStatus,
};
use crate::EngineError;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The audit path of global maintenance changes.
use crate::stored::GLOBAL_AUDIT_PATH;

impl Engine {
    /// Serves the route normally again: status `active`; reason, window and allowed
    /// environments cleared.
    pub async fn enable(
        &self,
        key: &str,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        self.enable_with_reason(key, "", actor).await
    }

    /// [`enable`](Self::enable), recording why in the state and the audit log.
    pub async fn enable_with_reason(
        &self,
        key: &str,
        reason: &str,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        self.change_route(key, actor.into(), "enable", |state| {
            set_status(state, RouteStatus::Active, reason, None);
            Ok(reason.to_owned())
        })
        .await
    }

    /// Disables the route: `503 ROUTE_DISABLED` until it is enabled.
    pub async fn disable(
        &self,
        key: &str,
        reason: &str,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        self.change_route(key, actor.into(), "disable", |state| {
            set_status(state, RouteStatus::Disabled, reason, None);
            Ok(reason.to_owned())
        })
        .await
    }

    /// Puts the route in maintenance: `503 MAINTENANCE_MODE`. With a window, the route is
    /// active until `start`, in maintenance during `[start, end)` and enabled again at `end`;
    /// the window must end in the future.
    pub async fn set_maintenance(
        &self,
        key: &str,
        reason: &str,
        window: Option<MaintenanceWindow>,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        if let Some(window) = &window {
            check_window(window, self.inner.clock.now())?;
        }
        self.change_route(key, actor.into(), "maintenance_on", |state| {
            set_status(state, RouteStatus::Maintenance, reason, window);
            Ok(reason.to_owned())
        })
        .await
    }

    /// Schedules a maintenance window; the window's reason is the maintenance reason.
    /// The window must end in the future.
    pub async fn schedule_maintenance(
        &self,
        key: &str,
        window: MaintenanceWindow,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        let reason = window.reason.clone();
        self.set_maintenance(key, &reason, Some(window), actor)
            .await
    }

    /// Cancels a scheduled (or running) maintenance window: the route is active again. The
    /// cancellation is stored, so it survives a restart. A route without a window is returned
    /// unchanged.
    pub async fn cancel_schedule(
        &self,
        key: &str,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        let key = self.resolve(key)?;
        match self.state(&key) {
            Some(state) if state.window.is_none() => Ok(state),
            _ => {
                self.change_route(&key, actor.into(), "enable", |state| {
                    set_status(state, RouteStatus::Active, "", None);
                    Ok("scheduled maintenance cancelled".to_owned())
                })
                .await
            }
        }
    }

    /// Serves the route only in the given environments; elsewhere it answers `404`.
    pub async fn set_env_only<E: AsRef<str>>(
        &self,
        key: &str,
        envs: &[E],
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        let envs: Vec<String> = envs.iter().map(|e| e.as_ref().trim().to_owned()).collect();
        if envs.is_empty() || envs.iter().any(String::is_empty) {
            return Err(EngineError::invalid(
                "envs",
                "give at least one non-empty environment name, e.g. \"dev\"",
            ));
        }
        let reason = format!("Restricted to: [{}]", python_list(&envs));
        self.change_route(key, actor.into(), "env_gate", |state| {
            set_status(state, RouteStatus::EnvGated, "", None);
            state.allowed_envs = envs;
            Ok(reason)
        })
        .await
    }

    /// Turns global maintenance on: every route answers `503` except `exempt_paths`
    /// (`"/health"` or `"GET:/health"`) and, unless `include_force_active`, force-active routes.
    pub async fn enable_global_maintenance(
        &self,
        reason: &str,
        exempt_paths: Vec<String>,
        include_force_active: bool,
        actor: impl Into<Actor>,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        self.change_global(actor.into(), "global_maintenance_on", reason, |config| {
            *config = GlobalMaintenanceConfig {
                enabled: true,
                reason: reason.to_owned(),
                exempt_paths,
                include_force_active,
            };
        })
        .await
    }

    /// Turns global maintenance off; routes resume their own state. The configuration is
    /// reset (reason and exempt paths cleared, as in the Python original); the audit log
    /// keeps what it was.
    pub async fn disable_global_maintenance(
        &self,
        actor: impl Into<Actor>,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        self.change_global(actor.into(), "global_maintenance_off", "", |config| {
            *config = GlobalMaintenanceConfig::default();
        })
        .await
    }

    /// Replaces the paths exempt from global maintenance.
    pub async fn set_global_exempt_paths(
        &self,
        exempt_paths: Vec<String>,
        actor: impl Into<Actor>,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        let reason = format!("exempt: {}", exempt_paths.join(", "));
        self.change_global(actor.into(), "global_exempt_paths_set", &reason, |config| {
            config.exempt_paths = exempt_paths;
        })
        .await
    }

    /// The stored key `key` refers to (see the crate docs on key resolution).
    pub fn resolve(&self, key: &str) -> Result<String, EngineError> {
        resolve(&self.view(), key)
    }

    pub(super) async fn change_route(
        &self,
        key: &str,
        actor: Actor,
        action: &str,
        change: impl FnOnce(&mut RouteState) -> Result<String, EngineError>,
    ) -> Result<RouteState, EngineError> {
        self.change_route_closing(key, actor, action, None, change)
            .await
    }

    /// [`change_route`](Self::change_route); with `closing`, the change is that maintenance
    /// window ending (subscribers see `maintenance_off`, with the window's id).
    pub(super) async fn change_route_closing(
        &self,
        key: &str,
        actor: Actor,
        action: &str,
        closing: Option<&MaintenanceWindow>,
        change: impl FnOnce(&mut RouteState) -> Result<String, EngineError>,
    ) -> Result<RouteState, EngineError> {
        let _write = self.inner.write.lock().await;
        let (key, known, protected) = {
            let view = self.view();
            let key = resolve(&view, key)?;
            let known = view.state(&key);
            let protected = view.metas.get(&key).is_some_and(|m| m.force_active);
            (key, known, protected)
        };
        let current = match self.inner.backend.get_state(&key).await? {
            Some(stored) => stored,
            None => known.ok_or_else(|| EngineError::NotFound { key: key.clone() })?,
        };
        if protected || current.force_active {
            return Err(EngineError::Protected { key });
        }
        let mut next = current.clone();
        let reason = change(&mut next)?;
        self.inner.backend.set_state(&next).await?;
        let entry = AuditEntry {
            service: next.service.clone(),
            previous_status: Some(current.status),
            new_status: Some(next.status),
            ..self.audit_entry(&key, action, &actor, reason)
        };
        let applied = match closing {
            Some(window) => Change::window(
                "maintenance_off",
                &next,
                window,
                (current.status, next.status),
                entry.timestamp,
            ),
            None => Change::audited(&entry, Some(&next)),
        };
        self.write_audit(&entry).await;
        self.emit(EngineEvent::Applied(Arc::new(applied)));
        {
            let mut view = self.view();
            view.seeded.remove(&key);
            view.states.insert(key.clone(), next.clone());
            self.publish(&mut view);
        }
        self.schedule(&next);
        self.emit(EngineEvent::RouteChanged { key });
        Ok(next)
    }

    async fn change_global(
        &self,
        actor: Actor,
        action: &str,
        reason: &str,
        change: impl FnOnce(&mut GlobalMaintenanceConfig),
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        let _write = self.inner.write.lock().await;
        let current = self.inner.backend.global_config().await?;
        let mut next = current.clone();
        change(&mut next);
        self.inner.backend.set_global_config(&next).await?;
        let status = |enabled| match enabled {
            true => RouteStatus::Maintenance,
            false => RouteStatus::Active,
        };
        self.audit(AuditEntry {
            previous_status: Some(status(current.enabled)),
            new_status: Some(status(next.enabled)),
            ..self.audit_entry(GLOBAL_AUDIT_PATH, action, &actor, reason.to_owned())
        })
        .await;
        {
            let mut view = self.view();
            view.global = next.clone();
            self.publish(&mut view);
        }
        self.emit(EngineEvent::GlobalChanged);
        Ok(next)
    }

    pub(super) fn audit_entry(
        &self,
        path: &str,
        action: &str,
        actor: &Actor,
        reason: String,
    ) -> AuditEntry {
        AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: self.inner.clock.now(),
            path: path.to_owned(),
            service: None,
            action: action.to_owned(),
            actor: actor.name.clone(),
            platform: actor.platform.clone(),
            reason,
            previous_status: None,
            new_status: None,
        }
    }

    /// Writes an audit entry and tells subscribers about the change
    /// ([`EngineEvent::Applied`]). The change it records is already stored, so a failure is
    /// logged rather than reported as a failed mutation.
    pub(super) async fn audit(&self, entry: AuditEntry) {
        self.write_audit(&entry).await;
        self.emit(EngineEvent::Applied(Arc::new(Change::audited(
            &entry, None,
        ))));
    }

    async fn write_audit(&self, entry: &AuditEntry) {
        if let Err(error) = self.inner.backend.write_audit(entry).await {
            tracing::error!(%error, path = %entry.path, action = %entry.action, "waygate: audit entry not written");
        }
    }
}

fn set_status(
    state: &mut RouteState,
    status: RouteStatus,
    reason: &str,
    window: Option<MaintenanceWindow>,
) {
    state.status = status;
    state.reason = reason.to_owned();
    state.window = window;
    // An active route serves every environment: what it was gated to is no longer a
    // property of it (the JSON equals the declared-active shape).
    if status == RouteStatus::Active {
        state.allowed_envs.clear();
    }
}

fn check_window(window: &MaintenanceWindow, now: DateTime<Utc>) -> Result<(), EngineError> {
    if window.start >= window.end {
        return Err(EngineError::invalid(
            "window",
            format!(
                "start ({}) must be before end ({})",
                window.start, window.end
            ),
        ));
    }
    if window.end <= now {
        return Err(EngineError::invalid(
            "window",
            "the window has already ended",
        ));
    }
    Ok(())
}

/// `['dev', 'staging']`, as the Python original writes env lists in audit reasons.
fn python_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
