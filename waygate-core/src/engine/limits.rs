//! Rate-limit policies: declared by `#[rate_limit]`, overridden at runtime, persisted in the
//! backend (stored policies win over attributes on restart), audited, and compiled into
//! limiters that the snapshot hands to requests.

use super::resolve::resolve;
use super::{Engine, EngineEvent};
use crate::limiter::{key_meta, Counters, Limiter, PolicyView};
use crate::model::{Actor, HitQuery};
use crate::rate_limit::{
    Algorithm, GlobalRateLimitPolicy, KeyStrategy, Limit, RateLimitHit, RateLimitPolicy,
    RateLimitTier,
};
use crate::registry::{LimitMeta, RouteMeta};
use crate::stored::{
    service_namespace, RouteKey, Sentinel, GLOBAL_NAMESPACE, GLOBAL_RL_AUDIT_PATH,
};
use crate::EngineError;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::sync::Arc;

/// How many blocked requests the engine remembers when the backend keeps no shared log.
pub(crate) const HIT_LOG_CAPACITY: usize = 10_000;

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

/// Every compiled limiter, by what it limits.
#[derive(Debug, Default, Clone)]
pub(crate) struct Limits {
    /// Per route, by `METHOD:template`.
    pub(crate) routes: FxHashMap<String, Arc<Limiter>>,
    pub(crate) global: Option<Arc<Limiter>>,
    pub(crate) services: FxHashMap<String, Arc<Limiter>>,
    /// Route keys whose policy was deleted at runtime: their declared policy stays off (the
    /// backend remembers them, so every engine agrees).
    pub(crate) deleted: FxHashSet<String>,
    /// The backend's shared counters, when limiters count there.
    pub(crate) counters: Counters,
}

impl Limits {
    /// The limiters the declared routes' attributes ask for, counting in `counters` (or in
    /// memory).
    pub(crate) fn declared(
        metas: &FxHashMap<String, &'static RouteMeta>,
        counters: Counters,
    ) -> Self {
        let mut limits = Self {
            counters,
            ..Self::default()
        };
        for (key, meta) in metas {
            match declared_limiter(key, meta, &limits.counters) {
                Some(Ok(limiter)) => {
                    limits.routes.insert(key.clone(), Arc::new(limiter));
                }
                Some(Err(error)) => {
                    tracing::error!(%error, %key, "waygate: the route's rate limit cannot be used");
                }
                None => {}
            }
        }
        limits
    }

    /// Rebuilds the policies: declared ones, then stored ones over them (stored wins),
    /// minus the ones deleted at runtime. Limiters whose policy did not change are kept, with
    /// their counters.
    pub(crate) fn apply_stored(
        &mut self,
        metas: &FxHashMap<String, &'static RouteMeta>,
        routes: Vec<RateLimitPolicy>,
        global: Option<GlobalRateLimitPolicy>,
        services: Vec<(String, GlobalRateLimitPolicy)>,
    ) {
        let mut wanted: FxHashMap<String, RateLimitPolicy> = metas
            .iter()
            .filter_map(|(key, meta)| Some((key.clone(), declared_policy(key, meta)?)))
            .collect();
        for policy in routes {
            match RouteKey::from_policy(&policy.method, &policy.path) {
                Some(key) => {
                    wanted.insert(key.to_string(), policy);
                }
                None => {
                    tracing::warn!(method = %policy.method, path = %policy.path, "waygate: a stored rate limit names no route; ignored");
                }
            }
        }
        let mut compiled = FxHashMap::default();
        for (key, policy) in wanted {
            if self.deleted.contains(&key) {
                continue;
            }
            let view = PolicyView::Route(policy);
            if let Some(current) = self.routes.get(&key).filter(|l| l.policy == view) {
                compiled.insert(key, current.clone());
                continue;
            }
            let PolicyView::Route(policy) = view else {
                continue;
            };
            match route_limiter(policy, metas.get(&key).copied(), &self.counters) {
                Ok(limiter) => {
                    compiled.insert(key, Arc::new(limiter));
                }
                Err(error) => {
                    tracing::error!(%error, %key, "waygate: stored rate limit cannot be used");
                }
            }
        }
        self.routes = compiled;
        self.global = keep_or_compile(self.global.take(), global, GLOBAL_NAMESPACE, &self.counters);
        let mut services_compiled = FxHashMap::default();
        for (service, policy) in services {
            let namespace = service_namespace(&service);
            let current = self.services.remove(&service);
            if let Some(limiter) =
                keep_or_compile(current, Some(policy), &namespace, &self.counters)
            {
                services_compiled.insert(service, limiter);
            }
        }
        self.services = services_compiled;
    }

    /// Moves a declared route's limiter to the key it is mounted under.
    pub(crate) fn remount(&mut self, key: &str, meta: &'static RouteMeta) {
        if key == meta.key || self.routes.contains_key(key) {
            return;
        }
        self.routes.remove(meta.key);
        match declared_limiter(key, meta, &self.counters) {
            Some(Ok(limiter)) => {
                self.routes.insert(key.to_owned(), Arc::new(limiter));
            }
            Some(Err(error)) => {
                tracing::error!(%error, %key, "waygate: the route's rate limit cannot be used");
            }
            None => {}
        }
    }
}

fn keep_or_compile(
    current: Option<Arc<Limiter>>,
    wanted: Option<GlobalRateLimitPolicy>,
    namespace: &str,
    counters: &Counters,
) -> Option<Arc<Limiter>> {
    let wanted = wanted?;
    if let Some(current) = current.filter(|c| c.policy == PolicyView::Shared(wanted.clone())) {
        return Some(current);
    }
    match Limiter::shared(wanted, namespace, counters.clone()) {
        Ok(limiter) => Some(Arc::new(limiter)),
        Err(error) => {
            tracing::error!(%error, "waygate: stored rate limit cannot be used");
            None
        }
    }
}

/// The policy a route's `#[rate_limit]` declares, keyed by its full `METHOD:template`.
pub(crate) fn declared_policy(key: &str, meta: &RouteMeta) -> Option<RateLimitPolicy> {
    let declared = meta.rate_limit.as_ref()?;
    let (method, path) = RouteKey::parse(key)?.policy_parts();
    let (limit, tiers) = match declared.limit {
        LimitMeta::Single(limit) => (limit.to_owned(), Vec::new()),
        LimitMeta::Tiers(tiers) => (
            tiers.first().map(|t| t.1).unwrap_or_default().to_owned(),
            tiers
                .iter()
                .map(|(name, limit)| RateLimitTier {
                    name: (*name).to_owned(),
                    limit: (*limit).to_owned(),
                })
                .collect(),
        ),
    };
    let (key_strategy, _) = key_meta(declared.key);
    Some(RateLimitPolicy {
        path,
        method: method.to_owned(),
        limit,
        algorithm: declared.algorithm.unwrap_or_default(),
        key_strategy,
        on_missing_key: declared.on_missing_key,
        burst: declared.burst,
        tiers,
        tier_resolver: "plan".to_owned(),
        exempt_ips: declared
            .exempt_ips
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        exempt_roles: declared
            .exempt_roles
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    })
}

fn declared_limiter(
    key: &str,
    meta: &RouteMeta,
    counters: &Counters,
) -> Option<Result<Limiter, EngineError>> {
    declared_policy(key, meta).map(|policy| route_limiter(policy, Some(meta), counters))
}

/// Compiles a per-route policy with what only code can give it: the custom key function
/// and the `429` factory of the route's attribute.
fn route_limiter(
    policy: RateLimitPolicy,
    meta: Option<&RouteMeta>,
    counters: &Counters,
) -> Result<Limiter, EngineError> {
    let declared = meta.and_then(|m| m.rate_limit.as_ref());
    let key_fn = declared.and_then(|d| key_meta(d.key).1);
    let response = declared.and_then(|d| d.response);
    Limiter::route(policy, key_fn, response, counters.clone())
}

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

    /// Blocked requests, newest first: from the backend's shared log when it keeps one,
    /// else from this engine's own bounded log.
    pub async fn rate_limit_hits(
        &self,
        query: &HitQuery,
    ) -> Result<Vec<RateLimitHit>, EngineError> {
        if let Some(hits) = self.inner.backend.rate_limit_hits(query).await? {
            return Ok(hits);
        }
        let log = self.inner.hits.lock().unwrap_or_else(|e| e.into_inner());
        Ok(crate::backend::select_newest(log.iter(), query, |h| {
            &h.path
        }))
    }

    /// Records a blocked request (in memory now; in the backend off the request path).
    pub(crate) fn record_hit(&self, hit: RateLimitHit) {
        self.note_refused(
            &format!("{}:{}", hit.method, hit.path),
            super::RefusalKind::RateLimited,
        );
        {
            let mut log = self.inner.hits.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == HIT_LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(hit.clone());
        }
        // A full queue drops the shared copy; the local log has it.
        let _ = self.inner.hit_tx.try_send(hit);
    }

    /// Reads every stored policy.
    pub(super) async fn stored_policies(&self) -> Result<StoredPolicies, EngineError> {
        let backend = &self.inner.backend;
        Ok(StoredPolicies {
            routes: backend.rate_limit_policies().await?,
            global: backend.global_rate_limit_policy().await?,
            services: backend.service_rate_limit_policies().await?,
        })
    }
}

/// The policies a backend holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StoredPolicies {
    routes: Vec<RateLimitPolicy>,
    global: Option<GlobalRateLimitPolicy>,
    services: Vec<(String, GlobalRateLimitPolicy)>,
}

impl super::view::View {
    /// Puts stored policies over the declared ones (stored wins).
    /// Call it after [`replace_states`](Self::replace_states): the routes whose policy was
    /// deleted come from the stored records.
    pub(super) fn apply_policies(&mut self, stored: StoredPolicies) {
        self.limits.deleted = self.records.policies_off.clone();
        self.loaded_policies = Some(stored.clone());
        let metas = self.metas.clone();
        self.limits
            .apply_stored(&metas, stored.routes, stored.global, stored.services);
    }
}

/// How often expired rate-limit counters are dropped. Checks also sweep the shards they
/// touch; this returns the memory of keys that never come back.
const COUNTER_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Drops expired counters of every limiter, periodically.
pub(super) async fn sweep_counters(engine: std::sync::Weak<super::Inner>) {
    let mut every = tokio::time::interval(COUNTER_SWEEP_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let limiters: Vec<Arc<Limiter>> = {
            let view = inner.view.lock().unwrap_or_else(|e| e.into_inner());
            let limits = &view.limits;
            limits
                .routes
                .values()
                .chain(limits.global.iter())
                .chain(limits.services.values())
                .cloned()
                .collect()
        };
        let now = tokio::time::Instant::now();
        let dropped: usize = limiters.iter().map(|l| l.evict_expired(now)).sum();
        if dropped > 0 {
            tracing::debug!(dropped, "waygate: expired rate-limit counters dropped");
        }
    }
}

/// Writes hits to the backend's shared log, off the request path.
pub(super) async fn write_hits(
    engine: std::sync::Weak<super::Inner>,
    mut hits: tokio::sync::mpsc::Receiver<RateLimitHit>,
) {
    // Logged once per outage, not once per blocked request.
    let mut failing = false;
    while let Some(hit) = hits.recv().await {
        let Some(inner) = engine.upgrade() else {
            return;
        };
        match inner.backend.write_rate_limit_hit(&hit).await {
            Ok(()) if failing => {
                tracing::info!("waygate: blocked requests are written to the shared log again");
                failing = false;
            }
            Ok(()) => {}
            Err(error) if !failing => {
                tracing::warn!(%error, "waygate: blocked requests not written to the shared log until the backend is back (each engine keeps its own)");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// Clears a limiter's counters, in memory or in the shared counters.
async fn reset(limiter: &Limiter) -> Result<(), EngineError> {
    match limiter.shared_counters() {
        Some((counters, namespace)) => Ok(counters.reset(namespace).await?),
        None => {
            limiter.reset();
            Ok(())
        }
    }
}

fn shared_policy(limiter: &Limiter) -> Option<GlobalRateLimitPolicy> {
    match &limiter.policy {
        PolicyView::Shared(policy) => Some(policy.clone()),
        PolicyView::Route(_) => None,
    }
}

/// The audit reason of a policy change, as the Python original writes it:
/// `"2/minute · fixed_window · ip"`.
fn policy_reason(limit: &str, algorithm: &Algorithm, key_strategy: &KeyStrategy) -> String {
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

/// The bounded in-memory hit log.
pub(crate) type HitLog = std::sync::Mutex<VecDeque<RateLimitHit>>;

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
