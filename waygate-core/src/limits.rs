//! Every compiled rate limiter of an engine, by what it limits: declared by `#[rate_limit]`,
//! stored policies over them (stored wins), compiled into the limiters that the snapshot
//! hands to requests. Shared by the engine (which rebuilds it) and the snapshot (which reads
//! it), so neither imports the other for it.

use crate::limiter::{key_meta, Counters, Limiter, PolicyView};
use crate::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy, RateLimitTier};
use crate::registry::{LimitMeta, RouteMeta};
use crate::stored::{service_namespace, RouteKey, GLOBAL_NAMESPACE};
use crate::EngineError;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

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
pub(crate) fn route_limiter(
    policy: RateLimitPolicy,
    meta: Option<&RouteMeta>,
    counters: &Counters,
) -> Result<Limiter, EngineError> {
    let declared = meta.and_then(|m| m.rate_limit.as_ref());
    let key_fn = declared.and_then(|d| key_meta(d.key).1);
    let response = declared.and_then(|d| d.response);
    Limiter::route(policy, key_fn, response, counters.clone())
}
