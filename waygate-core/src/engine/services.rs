//! Per-service maintenance (routes registered by one service, in server mode) and token
//! revocations: small records the engine keeps beside route states, stored as sentinel
//! states so that every engine sharing the backend sees them.

use super::{Engine, EngineEvent};
use crate::model::{Actor, GlobalMaintenanceConfig, RouteState, RouteStatus};
use crate::stored::Sentinel;
use crate::EngineError;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

/// The records kept as sentinels, read from a backend's state list.
#[derive(Debug, Default, Clone)]
pub(super) struct Records {
    /// Maintenance configuration per service.
    pub(super) services: FxHashMap<String, GlobalMaintenanceConfig>,
    /// Revoked token ids, with when the token would have expired anyway.
    pub(super) revoked: FxHashMap<String, DateTime<Utc>>,
    /// Route keys whose policy was deleted at runtime.
    pub(super) policies_off: rustc_hash::FxHashSet<String>,
    /// Maintenance bypass tokens issued before this are void.
    pub(super) bypass_revoked_before: Option<DateTime<Utc>>,
    /// Feature flags by key.
    pub(super) flags: std::collections::BTreeMap<String, crate::flags::FeatureFlag>,
    /// Flag segments by key.
    pub(super) segments: std::collections::BTreeMap<String, crate::flags::Segment>,
    /// Whether the flags or segments differ from those last published.
    pub(super) flags_changed: bool,
    /// The backend has not been read whole yet (see [`Backend::is_complete`](crate::backend::Backend::is_complete)).
    pub(super) flags_pending: bool,
}

impl Records {
    /// Picks the records out of `states`.
    pub(super) fn from_states(states: &[RouteState]) -> Self {
        let mut records = Self::default();
        for state in states {
            match Sentinel::parse(&state.path) {
                Some(Sentinel::ServiceMaintenance(service)) => match Sentinel::decode(state) {
                    Ok(config) => {
                        records
                            .services
                            .insert(service.to_owned(), config.unwrap_or_default());
                    }
                    Err(error) => {
                        tracing::warn!(%error, key = %state.path, "waygate: unreadable service maintenance");
                    }
                },
                Some(Sentinel::PolicyOff(key)) => {
                    records.policies_off.insert(key.to_owned());
                }
                Some(Sentinel::BypassRevoked) => {
                    if let Ok(before) = DateTime::parse_from_rfc3339(&state.reason) {
                        records.bypass_revoked_before = Some(before.to_utc());
                    }
                }
                Some(Sentinel::RevokedToken(jti)) => {
                    if let Ok(expires) = DateTime::parse_from_rfc3339(&state.reason) {
                        records.revoked.insert(jti.to_owned(), expires.to_utc());
                    }
                }
                Some(Sentinel::Flag(key)) => match Sentinel::decode(state) {
                    Ok(Some(flag)) => {
                        records.flags.insert(key.to_owned(), flag);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, key = %state.path, "waygate: unreadable flag");
                    }
                },
                Some(Sentinel::Segment(key)) => match Sentinel::decode(state) {
                    Ok(Some(segment)) => {
                        records.segments.insert(key.to_owned(), segment);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, key = %state.path, "waygate: unreadable segment");
                    }
                },
                _ => {}
            }
        }
        records
    }
}

impl Engine {
    /// The maintenance configuration of one service (disabled when none is stored).
    pub fn service_maintenance(&self, service: &str) -> GlobalMaintenanceConfig {
        self.view()
            .records
            .services
            .get(service)
            .cloned()
            .unwrap_or_default()
    }

    /// Puts every route of `service` in maintenance (routes registered with that service,
    /// in server mode), except `exempt_paths` and, unless `include_force_active`,
    /// force-active routes.
    pub async fn enable_service_maintenance(
        &self,
        service: &str,
        reason: &str,
        exempt_paths: Vec<String>,
        include_force_active: bool,
        actor: impl Into<Actor>,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        let config = GlobalMaintenanceConfig {
            enabled: true,
            reason: reason.to_owned(),
            exempt_paths,
            include_force_active,
        };
        self.set_service_maintenance(service, config, "service_maintenance_on", actor.into())
            .await
    }

    /// Lifts a service's maintenance.
    pub async fn disable_service_maintenance(
        &self,
        service: &str,
        actor: impl Into<Actor>,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        let config = GlobalMaintenanceConfig::default();
        self.set_service_maintenance(service, config, "service_maintenance_off", actor.into())
            .await
    }

    async fn set_service_maintenance(
        &self,
        service: &str,
        config: GlobalMaintenanceConfig,
        action: &str,
        actor: Actor,
    ) -> Result<GlobalMaintenanceConfig, EngineError> {
        if service.is_empty() {
            return Err(EngineError::invalid("service", "the service name is empty"));
        }
        let _write = self.inner.write.lock().await;
        let state = Sentinel::ServiceMaintenance(service)
            .encode(Some(&config))
            .map_err(|e| EngineError::invalid("config", e.to_string()))?;
        self.inner.backend.set_state(&state).await?;
        let (previous, new) = match config.enabled {
            true => (RouteStatus::Active, RouteStatus::Maintenance),
            false => (RouteStatus::Maintenance, RouteStatus::Active),
        };
        self.audit(crate::model::AuditEntry {
            service: Some(service.to_owned()),
            previous_status: Some(previous),
            new_status: Some(new),
            ..self.audit_entry(&state.path, action, &actor, config.reason.clone())
        })
        .await;
        {
            let mut view = self.view();
            view.records
                .services
                .insert(service.to_owned(), config.clone());
            self.publish(&mut view);
        }
        self.emit(EngineEvent::GlobalChanged);
        Ok(config)
    }

    /// Revokes a token id until `expires_at` (after which the token is invalid anyway). The
    /// revocation is stored in the backend, so every engine sharing it honours it.
    pub async fn revoke_token(
        &self,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let state = Sentinel::RevokedToken(jti).record(expires_at.to_rfc3339());
        self.inner.backend.set_state(&state).await?;
        let now = self.now();
        let expired: Vec<String> = {
            let mut view = self.view();
            view.records.revoked.insert(jti.to_owned(), expires_at);
            let expired = view
                .records
                .revoked
                .iter()
                .filter(|(_, until)| **until < now)
                .map(|(jti, _)| jti.clone())
                .collect();
            view.records.revoked.retain(|_, until| *until >= now);
            expired
        };
        for jti in expired {
            // Best effort: an expired token is refused whether or not its record remains.
            let _ = self
                .inner
                .backend
                .delete_state(&Sentinel::RevokedToken(&jti).to_string())
                .await;
        }
        Ok(())
    }

    /// Whether a token id was revoked (by this engine or another sharing the backend).
    pub fn is_token_revoked(&self, jti: &str) -> bool {
        self.view().records.revoked.contains_key(jti)
    }
}
