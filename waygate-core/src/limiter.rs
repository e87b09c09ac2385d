//! Applying rate-limit policies to a request: exemptions, tiers, keys, then the policy's
//! counters. Framework-agnostic: adapters describe the request as [`RequestFacts`].

use crate::backend::BackendError;
use crate::rate_limit::{
    Admission, Algorithm, CounterKey, CounterRequest, GlobalRateLimitPolicy, IpNetList,
    KeyStrategy, Limit, MemoryStore, OnMissingKey, RateLimitPolicy, SharedCounters,
};
use crate::registry::{KeyFn, KeyMeta};
use crate::stored::COUNTER_PREFIX;
use std::any::Any;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where limiters count: in process memory, or in counters every instance shares.
pub(crate) type Counters = Option<Arc<dyn SharedCounters>>;

/// How long a client refused because the shared counters failed (fail closed) is told to
/// wait.
const FAIL_CLOSED_RETRY: Duration = Duration::from_secs(1);

/// Who is making a request, as the app's own authentication sees it.
///
/// Insert it into the request extensions from your auth middleware (axum's
/// `middleware::from_fn`, an actix `wrap_fn`, ...); the rate limiter reads it for the `user`
/// key strategy, for tiers (`plan`) and for `exempt_roles`.
///
/// ```
/// use http::Request;
/// use waygate_core::Identity;
///
/// fn authenticate<B>(mut request: Request<B>) -> Request<B> {
///     let user = request.headers().get("x-user-id").and_then(|v| v.to_str().ok());
///     if let Some(user) = user.map(str::to_owned) {
///         request.extensions_mut().insert(Identity::user(user).plan("pro"));
///     }
///     request
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The authenticated user (key strategy `user`).
    pub user_id: Option<String>,
    /// The user's plan, matched against a policy's tier names.
    pub plan: Option<String>,
    /// The user's roles, matched against a policy's `exempt_roles`.
    pub roles: Vec<String>,
}

impl Identity {
    /// An authenticated user.
    pub fn user(id: impl Into<String>) -> Self {
        Self {
            user_id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Sets the plan (tier name).
    pub fn plan(mut self, plan: impl Into<String>) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// Sets the roles.
    pub fn roles<I, R>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }
}

/// What the limiter needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts<'a> {
    /// The client address (after trusted-proxy resolution).
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) identity: Option<&'a Identity>,
    pub(crate) api_key: Option<&'a str>,
    /// What the policy's custom key function returned, when it has one.
    pub(crate) custom_key: Option<&'a str>,
}

/// One compiled policy: its tiers' counters, exemptions and key strategy.
pub(crate) struct Limiter {
    /// The policy as stored and shown (`path` is a template, `__global__` or a service
    /// namespace; `method` is a method or `ALL`).
    pub(crate) policy: PolicyView,
    /// `METHOD:path` of the counters: `GET:/items/{id}`, `ALL:__global__`,
    /// `ALL:__svc_rl:{service}__`.
    namespace: Box<str>,
    /// The shared counters, when the limiter counts there instead of in its tiers' stores.
    shared: Counters,
    tiers: Vec<Tier>,
    key: KeyStrategy,
    custom_key: Option<KeyFn>,
    on_missing: OnMissingKey,
    exempt_ips: IpNetList,
    exempt_roles: Box<[String]>,
    pub(crate) response: Option<&'static (dyn Any + Send + Sync)>,
}

/// The stored form of the policy a limiter was built from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PolicyView {
    Route(RateLimitPolicy),
    Shared(GlobalRateLimitPolicy),
}

struct Tier {
    name: Option<Box<str>>,
    text: Box<str>,
    /// `None` for `unlimited`.
    count: Option<TierCount>,
}

/// How a limited tier counts.
// Tiers are built once per policy: the store stays inline, so that an in-memory check
// follows no extra pointer.
#[allow(clippy::large_enum_variant)]
enum TierCount {
    /// In this process.
    Local(MemoryStore),
    /// In the shared counters, with these parameters.
    Shared(SharedRate),
}

/// What a tier counting in the shared counters sends with each request.
#[derive(Debug, Clone, Copy)]
struct SharedRate {
    algorithm: Algorithm,
    amount: u64,
    capacity: u64,
    period: Duration,
}

/// A request the limiter's own checks did not settle: it must be counted.
enum Prepared<'s, 'f> {
    Done(LimitOutcome<'s>),
    Count { tier: &'s Tier, key: CounterKey<'f> },
}

/// How the shared rate-limit counters are doing: failures fail open (or closed), are
/// counted, and are logged once per outage rather than once per request.
#[derive(Debug, Default)]
pub(crate) struct CounterHealth {
    /// Refuse a request the counters could not count (`true`), or let it through uncounted.
    fail_closed: bool,
    pub(crate) errors: AtomicU64,
    failing: AtomicBool,
}

impl CounterHealth {
    pub(crate) fn new(fail_closed: bool) -> Self {
        Self {
            fail_closed,
            ..Self::default()
        }
    }

    fn report(&self, result: Result<(), &BackendError>) {
        match result {
            Ok(()) => {
                if self.failing.load(Ordering::Relaxed)
                    && self.failing.swap(false, Ordering::Relaxed)
                {
                    tracing::info!("waygate: shared rate-limit counters are back");
                }
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if !self.failing.swap(true, Ordering::Relaxed) {
                    let mode = if self.fail_closed {
                        "refusing"
                    } else {
                        "allowing"
                    };
                    tracing::error!(%error, "waygate: shared rate-limit counters failed; {mode} limited requests until they are back");
                }
            }
        }
    }
}

/// What a limiter decided.
#[derive(Debug)]
pub(crate) enum LimitOutcome<'a> {
    /// Not counted: an exempt IP or role, or a missing key with `on_missing_key = exempt`.
    Exempt,
    /// The tier is unlimited.
    Unlimited,
    /// Counted and allowed.
    Allowed {
        limit: &'a str,
        admission: Admission,
    },
    /// Refused.
    OverLimit(OverLimit<'a>),
}

/// A refused request, before it becomes a `429`.
#[derive(Debug)]
pub(crate) struct OverLimit<'a> {
    pub(crate) limit: &'a str,
    pub(crate) tier: Option<&'a str>,
    /// The counter's key (`waygate:ratelimit:{METHOD}:{path}:{key}`), empty when the key
    /// was missing.
    pub(crate) key: String,
    pub(crate) admission: Admission,
}

impl Limiter {
    /// Compiles a per-route policy; `key_fn` and `response` come from the route's attribute.
    pub(crate) fn route(
        policy: RateLimitPolicy,
        key_fn: Option<KeyFn>,
        response: Option<&'static (dyn Any + Send + Sync)>,
        shared: Counters,
    ) -> Result<Self, crate::EngineError> {
        let tiers = compile_tiers(
            &policy.limit,
            &policy.tiers,
            policy.algorithm,
            policy.burst,
            shared.is_some(),
        )?;
        Ok(Self {
            namespace: format!("{}:{}", policy.method, policy.path).into(),
            shared,
            key: policy.key_strategy,
            custom_key: key_fn,
            on_missing: policy
                .on_missing_key
                .unwrap_or_else(|| policy.key_strategy.default_on_missing()),
            exempt_ips: parse_ips(&policy.exempt_ips)?,
            exempt_roles: policy.exempt_roles.clone().into_boxed_slice(),
            tiers,
            response,
            policy: PolicyView::Route(policy),
        })
    }

    /// Compiles a global or per-service policy; `namespace` is `ALL:__global__` or
    /// `ALL:__svc_rl:{service}__`.
    pub(crate) fn shared(
        policy: GlobalRateLimitPolicy,
        namespace: &str,
        shared: Counters,
    ) -> Result<Self, crate::EngineError> {
        let tiers = compile_tiers(
            &policy.limit,
            &[],
            policy.algorithm,
            policy.burst,
            shared.is_some(),
        )?;
        Ok(Self {
            namespace: namespace.into(),
            shared,
            key: policy.key_strategy,
            custom_key: None,
            on_missing: policy
                .on_missing_key
                .unwrap_or_else(|| policy.key_strategy.default_on_missing()),
            exempt_ips: IpNetList::default(),
            exempt_roles: Box::default(),
            tiers,
            response: None,
            policy: PolicyView::Shared(policy),
        })
    }

    /// The routes spared by an enabled global or service policy; `None` when the policy is
    /// a route's, or is disabled.
    pub(crate) fn global_exemptions(&self) -> Option<&[String]> {
        match &self.policy {
            PolicyView::Shared(policy) if policy.enabled => Some(&policy.exempt_routes),
            _ => None,
        }
    }

    /// The function that derives the key from the request, for `key = custom(..)`.
    pub(crate) fn custom_key_fn(&self) -> Option<KeyFn> {
        self.custom_key
    }

    /// Whether the limiter keys clients by IP address.
    pub(crate) fn keys_by_ip(&self) -> bool {
        self.key == KeyStrategy::Ip
    }

    /// Whether the limiter counts in the shared counters (a request then awaits
    /// [`check_shared`](Self::check_shared)).
    pub(crate) fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The shared counters and the namespace of this limiter's, if it counts there.
    pub(crate) fn shared_counters(&self) -> Option<(&Arc<dyn SharedCounters>, &str)> {
        self.shared.as_ref().map(|c| (c, &*self.namespace))
    }

    /// Counts one request in memory and decides. A limiter on shared counters lets the
    /// request through uncounted here: callers use [`check_shared`](Self::check_shared) for it.
    pub(crate) fn check(&self, facts: &RequestFacts<'_>, now: Instant) -> LimitOutcome<'_> {
        let (tier, key) = match self.prepare(facts) {
            Prepared::Done(outcome) => return outcome,
            Prepared::Count { tier, key } => (tier, key),
        };
        let admission = match &tier.count {
            Some(TierCount::Local(store)) => store.check(key, now),
            _ => return LimitOutcome::Exempt,
        };
        self.decided(tier, key, admission)
    }

    /// Counts one request in the shared counters (one round trip) and decides; a failure
    /// of the counters lets the request through uncounted, or refuses it when `health`
    /// says to fail closed.
    pub(crate) async fn check_shared(
        &self,
        facts: &RequestFacts<'_>,
        now: Instant,
        health: &CounterHealth,
    ) -> LimitOutcome<'_> {
        let (tier, key) = match self.prepare(facts) {
            Prepared::Done(outcome) => return outcome,
            Prepared::Count { tier, key } => (tier, key),
        };
        let (counters, rate) = match (&tier.count, &self.shared) {
            (Some(TierCount::Local(store)), _) => {
                return self.decided(tier, key, store.check(key, now))
            }
            (Some(TierCount::Shared(rate)), Some(counters)) => (counters, *rate),
            _ => return LimitOutcome::Exempt,
        };
        let raw = raw_key(key);
        let request = CounterRequest {
            namespace: &self.namespace,
            key: &raw,
            algorithm: rate.algorithm,
            amount: rate.amount,
            capacity: rate.capacity,
            period: rate.period,
        };
        match counters.hit(&request).await {
            Ok(admission) => {
                health.report(Ok(()));
                self.decided(tier, key, admission)
            }
            Err(error) => {
                health.report(Err(&error));
                if !health.fail_closed {
                    return LimitOutcome::Exempt;
                }
                LimitOutcome::OverLimit(OverLimit {
                    limit: &tier.text,
                    tier: tier.name.as_deref(),
                    key: self.namespaced(key),
                    admission: Admission::counted(
                        false,
                        rate.capacity,
                        0,
                        FAIL_CLOSED_RETRY,
                        FAIL_CLOSED_RETRY,
                    ),
                })
            }
        }
    }

    /// Exemptions, the tier, the key and a missing key's fate: everything but the count.
    fn prepare<'s, 'f>(&'s self, facts: &RequestFacts<'f>) -> Prepared<'s, 'f> {
        let roles = facts.identity.map_or(&[][..], |i| &i.roles[..]);
        let exempt_ip = facts
            .client_ip
            .is_some_and(|ip| self.exempt_ips.contains(ip));
        if exempt_ip || roles.iter().any(|r| self.exempt_roles.contains(r)) {
            return Prepared::Done(LimitOutcome::Exempt);
        }
        let tier = self.tier(facts.identity.and_then(|i| i.plan.as_deref()));
        if tier.count.is_none() {
            return Prepared::Done(LimitOutcome::Unlimited);
        }
        let key = match self.key(facts) {
            Some(key) => key,
            None => match self.on_missing {
                OnMissingKey::Exempt => return Prepared::Done(LimitOutcome::Exempt),
                OnMissingKey::FallbackIp => ip_key(facts),
                OnMissingKey::Block => {
                    return Prepared::Done(LimitOutcome::OverLimit(OverLimit {
                        limit: &tier.text,
                        tier: tier.name.as_deref(),
                        key: String::new(),
                        admission: Admission::refused_now(),
                    }))
                }
            },
        };
        Prepared::Count { tier, key }
    }

    fn decided<'a>(
        &'a self,
        tier: &'a Tier,
        key: CounterKey<'_>,
        admission: Admission,
    ) -> LimitOutcome<'a> {
        if admission.allowed {
            return LimitOutcome::Allowed {
                limit: &tier.text,
                admission,
            };
        }
        LimitOutcome::OverLimit(OverLimit {
            limit: &tier.text,
            tier: tier.name.as_deref(),
            key: self.namespaced(key),
            admission,
        })
    }

    /// Drops the counters whose windows have expired, giving their memory back.
    pub(crate) fn evict_expired(&self, now: Instant) -> usize {
        self.tiers
            .iter()
            .filter_map(Tier::local)
            .map(|store| store.evict_expired(now))
            .sum()
    }

    /// Clears every counter of the policy.
    pub(crate) fn reset(&self) {
        for store in self.tiers.iter().filter_map(Tier::local) {
            store.reset();
        }
    }

    fn tier(&self, plan: Option<&str>) -> &Tier {
        let named =
            plan.and_then(|plan| self.tiers.iter().find(|t| t.name.as_deref() == Some(plan)));
        // An unknown (or absent) plan gets the first tier.
        named.unwrap_or(&self.tiers[0])
    }

    fn key<'a>(&self, facts: &RequestFacts<'a>) -> Option<CounterKey<'a>> {
        match self.key {
            KeyStrategy::Ip => Some(ip_key(facts)),
            KeyStrategy::User => facts
                .identity
                .and_then(|i| i.user_id.as_deref())
                .map(CounterKey::Text),
            KeyStrategy::ApiKey => facts.api_key.map(CounterKey::Text),
            KeyStrategy::Global => Some(CounterKey::Global),
            KeyStrategy::Custom => facts.custom_key.map(CounterKey::Text),
        }
    }

    fn namespaced(&self, key: CounterKey<'_>) -> String {
        format!("{COUNTER_PREFIX}{}:{}", self.namespace, raw_key(key))
    }
}

impl Tier {
    fn local(&self) -> Option<&MemoryStore> {
        match &self.count {
            Some(TierCount::Local(store)) => Some(store),
            _ => None,
        }
    }
}

/// A counter key as text: the IP, the text, or `global`.
fn raw_key(key: CounterKey<'_>) -> String {
    match key {
        CounterKey::Ip(ip) => ip.to_canonical().to_string(),
        CounterKey::Text(text) => text.to_owned(),
        CounterKey::Global => "global".to_owned(),
    }
}

fn ip_key<'a>(facts: &RequestFacts<'a>) -> CounterKey<'a> {
    match facts.client_ip {
        Some(ip) => CounterKey::Ip(ip),
        None => CounterKey::Text("unknown"),
    }
}

fn compile_tiers(
    limit: &str,
    tiers: &[crate::rate_limit::RateLimitTier],
    algorithm: Algorithm,
    burst: u32,
    shared: bool,
) -> Result<Vec<Tier>, crate::EngineError> {
    let tier = |name: Option<&str>, text: &str| -> Result<Tier, crate::EngineError> {
        let count = match Limit::parse(text)
            .map_err(|e| crate::EngineError::invalid("limit", e.to_string()))?
        {
            Limit::Unlimited => None,
            Limit::Limited(rate) if shared => {
                let amount = rate.amount().max(1);
                Some(TierCount::Shared(SharedRate {
                    algorithm,
                    amount,
                    capacity: amount.saturating_add(u64::from(burst)),
                    period: rate.period(),
                }))
            }
            Limit::Limited(rate) => {
                Some(TierCount::Local(MemoryStore::new(algorithm, rate, burst)))
            }
        };
        Ok(Tier {
            name: name.map(Into::into),
            text: text.trim().into(),
            count,
        })
    };
    if tiers.is_empty() {
        return Ok(vec![tier(None, limit)?]);
    }
    tiers
        .iter()
        .map(|t| tier(Some(&t.name), &t.limit))
        .collect()
}

fn parse_ips(entries: &[String]) -> Result<IpNetList, crate::EngineError> {
    IpNetList::parse(entries).map_err(|e| crate::EngineError::invalid("exempt_ips", e.to_string()))
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("policy", &self.policy)
            .field("tiers", &self.tiers.len())
            .finish_non_exhaustive()
    }
}

/// The key strategy a declared `#[rate_limit]` names, and its custom function.
pub(crate) fn key_meta(key: KeyMeta) -> (KeyStrategy, Option<KeyFn>) {
    match key {
        KeyMeta::Ip => (KeyStrategy::Ip, None),
        KeyMeta::User => (KeyStrategy::User, None),
        KeyMeta::ApiKey => (KeyStrategy::ApiKey, None),
        KeyMeta::Global => (KeyStrategy::Global, None),
        KeyMeta::Custom(f) => (KeyStrategy::Custom, Some(f)),
    }
}
