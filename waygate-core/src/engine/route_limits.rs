//! A route's own rate limit at runtime: set, changed, deleted (a declared one stays off on
//! every engine sharing the backend), reset, listed; each audited.

use super::resolve::resolve;
use super::{Engine, EngineEvent};
use crate::limiter::{Limiter, PolicyView};
use crate::limits::route_limiter;
use crate::model::Actor;
use crate::rate_limit::{Algorithm, KeyStrategy, Limit, RateLimitPolicy};
use crate::stored::{RouteKey, Sentinel};
use crate::EngineError;
use std::sync::Arc;

/// A change to a per-route policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyChange {
    /// The algorithm; `None` keeps the current one (or the default, `sliding_window`).
    pub algorithm: Option<Algorithm>,
    /// The key strategy; `None` keeps the current one (or `ip`).
    pub key_strategy: Option<KeyStrategy>,
    /// Extra capacity; `None` keeps the current one (or 0).
    pub burst: Option<u32>,
}

impl PolicyChange {
    /// Keeps everything but the limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the algorithm.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = Some(algorithm);
        self
    }

    /// Sets the key strategy.
    pub fn key_strategy(mut self, key_strategy: KeyStrategy) -> Self {
        self.key_strategy = Some(key_strategy);
        self
    }

    /// Sets the burst.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }
}

impl Engine {
    /// Sets (or updates) the rate limit of a route (`"GET:/items/{id}"`, or a bare path with
    /// a single method). An update keeps what the change does not mention — tiers,
    /// exemptions, a custom key — and starts fresh counters.
    pub async fn set_rate_limit_policy(
        &self,
        key: &str,
        limit: &str,
        change: PolicyChange,
        actor: impl Into<Actor>,
    ) -> Result<RateLimitPolicy, EngineError> {
        Limit::parse(limit).map_err(|e| EngineError::invalid("limit", e.to_string()))?;
        let actor = actor.into();
        let _write = self.inner.write.lock().await;
        let (key, current, meta, counters) = {
            let view = self.view();
            let key = resolve(&view, key)?;
            let current = view.limits.routes.get(&key).and_then(|l| match &l.policy {
                PolicyView::Route(policy) => Some(policy.clone()),
                PolicyView::Shared(_) => None,
            });
            let counters = view.limits.counters.clone();
            (
                key.clone(),
                current,
                view.metas.get(&key).copied(),
                counters,
            )
        };
        let (method, path) = method_and_path(&key)?;
        let updated = current.is_some();
        let mut policy = current.unwrap_or_else(|| new_policy(&method, &path, limit));
        policy.limit = limit.trim().to_owned();
        policy.tiers.clear();
        if let Some(algorithm) = change.algorithm {
            policy.algorithm = algorithm;
        }
        if let Some(key_strategy) = change.key_strategy {
            policy.key_strategy = key_strategy;
        }
        if let Some(burst) = change.burst {
            policy.burst = burst;
        }
        let limiter = Arc::new(route_limiter(policy.clone(), meta, &counters)?);
        self.inner.backend.set_rate_limit_policy(&policy).await?;
        if self.view().limits.deleted.contains(&key) {
            self.inner
                .backend
                .delete_state(&Sentinel::PolicyOff(&key).to_string())
                .await?;
        }
        let action = if updated {
            "rl_policy_updated"
        } else {
            "rl_policy_set"
        };
        let reason = policy_reason(&policy.limit, &policy.algorithm, &policy.key_strategy);
        self.audit(self.audit_entry(&key, action, &actor, reason))
            .await;
        {
            let mut view = self.view();
            view.limits.deleted.remove(&key);
            view.limits.routes.insert(key.clone(), limiter);
            self.publish(&mut view);
        }
        self.emit(EngineEvent::RouteChanged { key });
        Ok(policy)
    }

    /// Removes a route's rate limit, on every engine sharing the backend: a declared one
    /// stays off (across restarts too) until a policy is set again. Removing a missing one
    /// is not an error.
    pub async fn delete_rate_limit_policy(
        &self,
        key: &str,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let _write = self.inner.write.lock().await;
        let key = resolve(&self.view(), key)?;
        let (method, path) = method_and_path(&key)?;
        self.inner
            .backend
            .delete_rate_limit_policy(&method, &path)
            .await?;
        // Remembered in the backend, so that a declared policy stays off on every engine.
        self.inner
            .backend
            .set_state(&Sentinel::PolicyOff(&key).record(""))
            .await?;
        self.audit(self.audit_entry(&key, "rl_policy_deleted", &actor, String::new()))
            .await;
        {
            let mut view = self.view();
            view.limits.routes.remove(&key);
            view.limits.deleted.insert(key.clone());
            self.publish(&mut view);
        }
        self.emit(EngineEvent::RouteChanged { key });
        Ok(())
    }

    /// Clears the counters of exactly one route's policy.
    pub async fn reset_rate_limit(
        &self,
        key: &str,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let key = self.resolve(key)?;
        let limiter = self.view().limits.routes.get(&key).cloned();
        let Some(limiter) = limiter else {
            return Err(EngineError::NotFound { key });
        };
        reset(&limiter).await?;
        self.audit(self.audit_entry(&key, "rl_reset", &actor, String::new()))
            .await;
        Ok(())
    }

    /// Every per-route policy in force, sorted by route.
    pub fn rate_limit_policies(&self) -> Vec<RateLimitPolicy> {
        let view = self.view();
        let mut policies: Vec<RateLimitPolicy> = view
            .limits
            .routes
            .values()
            .filter_map(|l| match &l.policy {
                PolicyView::Route(policy) => Some(policy.clone()),
                PolicyView::Shared(_) => None,
            })
            .collect();
        policies.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        policies
    }
}

/// Clears a limiter's counters, in memory or in the shared counters.
pub(super) async fn reset(limiter: &Limiter) -> Result<(), EngineError> {
    match limiter.shared_counters() {
        Some((counters, namespace)) => Ok(counters.reset(namespace).await?),
        None => {
            limiter.reset();
            Ok(())
        }
    }
}

/// The audit reason of a policy change, as the Python original writes it:
/// `"2/minute · fixed_window · ip"`.
pub(super) fn policy_reason(
    limit: &str,
    algorithm: &Algorithm,
    key_strategy: &KeyStrategy,
) -> String {
    format!(
        "{limit} \u{b7} {} \u{b7} {}",
        serde_plain(algorithm),
        serde_plain(key_strategy)
    )
}

/// An enum's wire name (`fixed_window`).
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The `(method, path)` a policy of route `key` stores.
fn method_and_path(key: &str) -> Result<(String, String), EngineError> {
    let (method, path) = RouteKey::parse(key)
        .ok_or_else(|| EngineError::invalid("route", format!("`{key}` is not a route key")))?
        .policy_parts();
    Ok((method.to_owned(), path))
}

fn new_policy(method: &str, path: &str, limit: &str) -> RateLimitPolicy {
    RateLimitPolicy {
        path: path.to_owned(),
        method: method.to_owned(),
        limit: limit.to_owned(),
        algorithm: Algorithm::default(),
        key_strategy: KeyStrategy::default(),
        on_missing_key: None,
        burst: 0,
        tiers: Vec::new(),
        tier_resolver: "plan".to_owned(),
        exempt_ips: Vec::new(),
        exempt_roles: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_plain_and_service_routes() {
        let split = |key: &str| method_and_path(key).map_err(|e| e.to_string());
        assert_eq!(split("GET:/x"), Ok(("GET".into(), "/x".into())));
        assert_eq!(split("/x"), Ok(("ALL".into(), "/x".into())));
        assert_eq!(split("pay:GET:/x"), Ok(("GET".into(), "pay:/x".into())));
        assert_eq!(split("pay:/x"), Ok(("ALL".into(), "pay:/x".into())));
        assert!(split("pay:GET:x").is_err());
    }
}
