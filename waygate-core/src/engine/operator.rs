//! Operator tools on top of route state: a route's rollout percentage, and the record that
//! ends every maintenance bypass token issued before it (stored as a sentinel, so every
//! engine sharing the backend honours it).

use super::Engine;
use crate::model::{Actor, RouteState};
use crate::EngineError;
use chrono::{DateTime, Utc};

use crate::stored::Sentinel;
use crate::stored::BYPASS_AUDIT_PATH;

impl Engine {
    /// Serves the route to `percentage` (0 to 100) of its clients, bucketed by
    /// [`rollout::in_rollout`](crate::rollout::in_rollout); the others get the route's
    /// env-gated answer. Stored in the route's `rollout_percentage` (the Python original's
    /// field, so its CLI shows it) and audited as `rollout`.
    pub async fn set_rollout_percentage(
        &self,
        key: &str,
        percentage: u8,
        actor: impl Into<Actor>,
    ) -> Result<RouteState, EngineError> {
        if percentage > 100 {
            return Err(EngineError::invalid(
                "percentage",
                format!("{percentage} is above 100; give a whole number from 0 to 100"),
            ));
        }
        self.change_route(key, actor.into(), "rollout", |state| {
            let reason = format!(
                "rollout {}% -> {percentage}%",
                state.rollout_percentage.min(100)
            );
            state.rollout_percentage = percentage;
            Ok(reason)
        })
        .await
    }

    /// Records that a maintenance bypass token was issued (by the admin API), in the audit
    /// log: who, why, and until when. The token itself is never logged.
    pub async fn note_bypass_issued(
        &self,
        reason: &str,
        expires_at: DateTime<Utc>,
        actor: impl Into<Actor>,
    ) {
        let reason = format!("{reason} (until {})", expires_at.to_rfc3339());
        let entry = self.audit_entry(BYPASS_AUDIT_PATH, "bypass_create", &actor.into(), reason);
        self.audit(entry).await;
    }

    /// Ends every maintenance bypass token issued until now, on every engine sharing the
    /// backend; audited as `bypass_revoke`. Returns the cut-off.
    pub async fn revoke_bypass_tokens(
        &self,
        actor: impl Into<Actor>,
    ) -> Result<DateTime<Utc>, EngineError> {
        let now = self.now();
        let state = Sentinel::BypassRevoked.record(now.to_rfc3339());
        self.inner.backend.set_state(&state).await?;
        self.view().records.bypass_revoked_before = Some(now);
        let entry = self.audit_entry(
            BYPASS_AUDIT_PATH,
            "bypass_revoke",
            &actor.into(),
            "every bypass token revoked".to_owned(),
        );
        self.audit(entry).await;
        Ok(now)
    }

    /// The time before which maintenance bypass tokens are void (the last
    /// [`revoke_bypass_tokens`](Self::revoke_bypass_tokens), by this engine or another
    /// sharing the backend), if any.
    pub fn bypass_revoked_before(&self) -> Option<DateTime<Utc>> {
        self.view().records.bypass_revoked_before
    }
}
