//! Rate limits every route (global) or every route of a service shares: set, turned on and
//! off, deleted, reset; each audited as the Python original names it.

use super::route_limits::{policy_reason, reset};
use super::{Engine, EngineEvent};
use crate::limiter::{Limiter, PolicyView};
use crate::limits::Limits;
use crate::model::Actor;
use crate::rate_limit::GlobalRateLimitPolicy;
use crate::stored::{service_namespace, Sentinel, GLOBAL_NAMESPACE, GLOBAL_RL_AUDIT_PATH};
use crate::EngineError;
use std::sync::Arc;

/// What a shared (non-route) rate limit covers.
#[derive(Debug, Clone)]
enum Scope {
    /// Every route.
    Global,
    /// Every route of one service.
    Service(String),
}

impl Scope {
    /// The namespace of the scope's counters, as the Python original names them.
    fn namespace(&self) -> String {
        match self {
            Self::Global => GLOBAL_NAMESPACE.to_owned(),
            Self::Service(service) => service_namespace(service),
        }
    }

    fn limiter(&self, limits: &Limits) -> Option<Arc<Limiter>> {
        match self {
            Self::Global => limits.global.clone(),
            Self::Service(service) => limits.services.get(service).cloned(),
        }
    }

    /// The audit path, as the Python original writes it.
    fn audit_path(&self) -> String {
        match self {
            Self::Global => GLOBAL_RL_AUDIT_PATH.to_owned(),
            Self::Service(service) => Sentinel::ServiceRateLimit(service).to_string(),
        }
    }

    /// `global_rl_set`, `svc_rl_reset`, ...
    fn action(&self, what: &str) -> String {
        match self {
            Self::Global => format!("global_rl_{what}"),
            Self::Service(_) => format!("svc_rl_{what}"),
        }
    }

    async fn store(
        &self,
        engine: &Engine,
        policy: Option<&GlobalRateLimitPolicy>,
    ) -> Result<(), EngineError> {
        let backend = &engine.inner.backend;
        let stored = match self {
            Self::Global => backend.set_global_rate_limit_policy(policy).await,
            Self::Service(service) => backend.set_service_rate_limit_policy(service, policy).await,
        };
        Ok(stored?)
    }
}

impl Engine {
    /// The global rate-limit policy, if any.
    pub fn global_rate_limit(&self) -> Option<GlobalRateLimitPolicy> {
        self.shared_limit(&Scope::Global)
    }

    /// Sets the global rate limit: every route, except `exempt_routes`, shares it.
    pub async fn set_global_rate_limit(
        &self,
        policy: GlobalRateLimitPolicy,
        actor: impl Into<Actor>,
    ) -> Result<GlobalRateLimitPolicy, EngineError> {
        self.set_shared_limit(Scope::Global, policy, actor.into())
            .await
    }

    /// Turns the global rate limit on or off without forgetting it. Does nothing (and
    /// audits nothing) when there is no policy or it is already in that state.
    pub async fn set_global_rate_limit_enabled(
        &self,
        enabled: bool,
        actor: impl Into<Actor>,
    ) -> Result<Option<GlobalRateLimitPolicy>, EngineError> {
        self.set_shared_limit_enabled(Scope::Global, enabled, actor.into())
            .await
    }

    /// Removes the global rate limit.
    pub async fn delete_global_rate_limit(
        &self,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        self.delete_shared_limit(Scope::Global, actor.into()).await
    }

    /// Clears the global rate limit's counters.
    pub async fn reset_global_rate_limit(
        &self,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        self.reset_shared_limit(Scope::Global, actor.into()).await
    }

    /// The rate-limit policy of a service's routes (server mode), if any.
    pub fn service_rate_limit(&self, service: &str) -> Option<GlobalRateLimitPolicy> {
        self.shared_limit(&Scope::Service(service.to_owned()))
    }

    /// Sets the rate limit shared by every route of `service` (routes registered with that
    /// service, in server mode).
    pub async fn set_service_rate_limit(
        &self,
        service: &str,
        policy: GlobalRateLimitPolicy,
        actor: impl Into<Actor>,
    ) -> Result<GlobalRateLimitPolicy, EngineError> {
        self.set_shared_limit(Scope::Service(service.to_owned()), policy, actor.into())
            .await
    }

    /// Turns a service's rate limit on or off without forgetting it.
    pub async fn set_service_rate_limit_enabled(
        &self,
        service: &str,
        enabled: bool,
        actor: impl Into<Actor>,
    ) -> Result<Option<GlobalRateLimitPolicy>, EngineError> {
        self.set_shared_limit_enabled(Scope::Service(service.to_owned()), enabled, actor.into())
            .await
    }

    /// Removes a service's rate limit.
    pub async fn delete_service_rate_limit(
        &self,
        service: &str,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        self.delete_shared_limit(Scope::Service(service.to_owned()), actor.into())
            .await
    }

    /// Clears a service's rate-limit counters.
    pub async fn reset_service_rate_limit(
        &self,
        service: &str,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        self.reset_shared_limit(Scope::Service(service.to_owned()), actor.into())
            .await
    }

    fn shared_limit(&self, scope: &Scope) -> Option<GlobalRateLimitPolicy> {
        scope
            .limiter(&self.view().limits)
            .and_then(|l| shared_policy(&l))
    }

    async fn set_shared_limit(
        &self,
        scope: Scope,
        policy: GlobalRateLimitPolicy,
        actor: Actor,
    ) -> Result<GlobalRateLimitPolicy, EngineError> {
        let limiter = self.compile_shared(&scope, &policy)?;
        let _write = self.inner.write.lock().await;
        scope.store(self, Some(&policy)).await?;
        let updated = scope.limiter(&self.view().limits).is_some();
        let reason = policy_reason(&policy.limit, &policy.algorithm, &policy.key_strategy);
        let action = scope.action(if updated { "updated" } else { "set" });
        self.audit(self.audit_entry(&scope.audit_path(), &action, &actor, reason))
            .await;
        self.replace_shared_limiter(&scope, Some(limiter));
        Ok(policy)
    }

    /// Compiles a global or service policy, counting where this engine counts.
    fn compile_shared(
        &self,
        scope: &Scope,
        policy: &GlobalRateLimitPolicy,
    ) -> Result<Arc<Limiter>, EngineError> {
        let counters = self.view().limits.counters.clone();
        Ok(Arc::new(Limiter::shared(
            policy.clone(),
            &scope.namespace(),
            counters,
        )?))
    }

    async fn set_shared_limit_enabled(
        &self,
        scope: Scope,
        enabled: bool,
        actor: Actor,
    ) -> Result<Option<GlobalRateLimitPolicy>, EngineError> {
        let _write = self.inner.write.lock().await;
        let Some(mut policy) = scope
            .limiter(&self.view().limits)
            .and_then(|l| shared_policy(&l))
        else {
            return Ok(None);
        };
        if policy.enabled == enabled {
            return Ok(Some(policy));
        }
        policy.enabled = enabled;
        scope.store(self, Some(&policy)).await?;
        let action = scope.action(if enabled { "enabled" } else { "disabled" });
        self.audit(self.audit_entry(&scope.audit_path(), &action, &actor, String::new()))
            .await;
        // A fresh limiter: its counters start over.
        let limiter = self.compile_shared(&scope, &policy)?;
        reset(&limiter).await?;
        self.replace_shared_limiter(&scope, Some(limiter));
        Ok(Some(policy))
    }

    async fn delete_shared_limit(&self, scope: Scope, actor: Actor) -> Result<(), EngineError> {
        let _write = self.inner.write.lock().await;
        scope.store(self, None).await?;
        let action = scope.action("deleted");
        self.audit(self.audit_entry(&scope.audit_path(), &action, &actor, String::new()))
            .await;
        self.replace_shared_limiter(&scope, None);
        Ok(())
    }

    async fn reset_shared_limit(&self, scope: Scope, actor: Actor) -> Result<(), EngineError> {
        let limiter = scope.limiter(&self.view().limits);
        if let Some(limiter) = limiter {
            reset(&limiter).await?;
            let action = scope.action("reset");
            self.audit(self.audit_entry(&scope.audit_path(), &action, &actor, String::new()))
                .await;
        }
        Ok(())
    }

    fn replace_shared_limiter(&self, scope: &Scope, limiter: Option<Arc<Limiter>>) {
        let mut view = self.view();
        match (scope, limiter) {
            (Scope::Global, limiter) => view.limits.global = limiter,
            (Scope::Service(service), Some(limiter)) => {
                view.limits.services.insert(service.clone(), limiter);
            }
            (Scope::Service(service), None) => {
                view.limits.services.remove(service);
            }
        }
        self.publish(&mut view);
        drop(view);
        self.emit(EngineEvent::GlobalChanged);
    }
}

fn shared_policy(limiter: &Limiter) -> Option<GlobalRateLimitPolicy> {
    match &limiter.policy {
        PolicyView::Shared(policy) => Some(policy.clone()),
        PolicyView::Route(_) => None,
    }
}
