//! The stored format: every key name and sentinel waygate persists, in one place.
//!
//! A backend stores [`RouteState`](crate::model::RouteState) JSON under a string key. Route
//! keys are `METHOD:/path/{template}` (`GET:/items/{id}`), or `{service}:METHOD:/path` for a
//! service registered with a Waygate Server. Everything else waygate keeps beside them —
//! global maintenance, rate-limit policies, per-service maintenance, revoked tokens — is stored
//! as a *sentinel* state whose key starts with [`SENTINEL_PREFIX`], so that every engine
//! sharing a backend sees it through the same three methods (`get_state`, `set_state`,
//! `list_states`) and so that the Python original reads the same file or Redis database.
//! Sentinels are hidden from route listings.
//!
//! | key | holds | written by |
//! |---|---|---|
//! | [`GLOBAL_KEY`] | global maintenance (`GlobalMaintenanceConfig` JSON in `reason`) | `enable_global_maintenance` |
//! | [`GLOBAL_RL_KEY`] | the global rate-limit policy | `set_global_rate_limit` |
//! | [`ROUTE_RL_PREFIX`] `METHOD:path__` | a route's runtime rate-limit policy | `set_rate_limit` |
//! | [`SERVICE_RL_PREFIX`] `service__` | a service's rate-limit policy | `set_service_rate_limit` |
//! | [`SERVICE_MAINTENANCE_PREFIX`] `service` | a service's maintenance | `enable_service_maintenance` |
//! | [`POLICY_OFF_PREFIX`] `METHOD:path` | a declared policy deleted at runtime | `delete_rate_limit` |
//! | [`REVOKED_PREFIX`] `jti` | a revoked admin token, until it would have expired | `revoke_token` |
//!
//! Audit entries name the route they are about, or one of [`GLOBAL_AUDIT_PATH`],
//! [`GLOBAL_RL_AUDIT_PATH`], [`AUTH_AUDIT_PATH`] and the service sentinel above.
//!
//! Rate-limit counters live in a namespace per policy — `METHOD:path` for a route,
//! [`GLOBAL_NAMESPACE`] for the global policy, `ALL:__svc_rl:{service}__` for a service's —
//! and a counter's stored key is [`COUNTER_PREFIX`] + namespace + `:` + the client key.
//!
//! The Redis backend stores the same records under a configurable prefix (`waygate:` by
//! default), with the Python original's names: `state:{key}` (string), `route-index` (set),
//! `audit` and `audit:path:{key}` (lists, newest first), `ratelimit:hits` (list),
//! `rlpolicy:{METHOD:path}` (string) with `rl-policy-index` (set), `webhook:dedup:{id}`
//! (claimed jobs), `ratelimit:{namespace}|...` (counters), and the pub/sub channels
//! `changes` (state JSON on every write), `deletions` and `global_invalidate`.
//! The file backend keeps `states` and `audit` sections in one JSON document, and preserves
//! sections it does not know (`rl_policies`, `rate_limits`, ... of the Python original).

/// Keys starting with this prefix are waygate's own records, hidden from route listings.
pub const SENTINEL_PREFIX: &str = "__waygate:";

/// The key under which global maintenance is stored.
pub const GLOBAL_KEY: &str = "__waygate:global__";

/// The key under which the global rate-limit policy is stored.
pub const GLOBAL_RL_KEY: &str = "__waygate:global_rl__";

/// Per-route rate-limit policies are stored under this prefix + `METHOD:path` + `__`.
pub const ROUTE_RL_PREFIX: &str = "__waygate:rl:";

/// Per-service rate-limit policies are stored under this prefix + the service + `__`.
pub const SERVICE_RL_PREFIX: &str = "__waygate:svc_rl:";

/// Per-service maintenance is stored under this prefix + the service.
pub const SERVICE_MAINTENANCE_PREFIX: &str = "__waygate:svc_global:";

/// A revoked token is stored under this prefix + its id.
pub const REVOKED_PREFIX: &str = "__waygate:revoked:";

/// A route whose declared rate-limit policy was deleted at runtime is stored under this
/// prefix + its key: the policy stays off on every engine sharing the backend.
pub const POLICY_OFF_PREFIX: &str = "__waygate:rl_off:";

/// The audit path of global maintenance changes, as the Python original writes it.
pub const GLOBAL_AUDIT_PATH: &str = "__global__";

/// The audit path of global rate-limit policy changes, as the Python original writes it.
pub const GLOBAL_RL_AUDIT_PATH: &str = "__global_rl__";

/// The audit path of admin login lockouts.
pub const AUTH_AUDIT_PATH: &str = "__auth__";

/// The counter namespace of the global rate-limit policy.
pub const GLOBAL_NAMESPACE: &str = "ALL:__global__";

/// Every stored rate-limit counter key starts with this.
pub const COUNTER_PREFIX: &str = "waygate:ratelimit:";

/// How many audit entries the built-in backends keep (oldest dropped first).
pub const AUDIT_CAPACITY: usize = 1000;
