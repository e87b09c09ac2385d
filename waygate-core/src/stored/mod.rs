//! The stored format: every key name and sentinel waygate persists, in one place.
//!
//! A backend stores [`RouteState`](crate::model::RouteState) JSON under a string key. Route
//! keys are [`RouteKey`]s: `METHOD:/path/{template}` (`GET:/items/{id}`), or
//! `{service}:METHOD:/path` for a service registered with a Waygate Server, parsed and
//! printed by that one type. Everything else waygate keeps beside them — global maintenance,
//! rate-limit policies, per-service maintenance, revoked tokens — is a [`Sentinel`]: a state
//! whose key starts with [`SENTINEL_PREFIX`], so that every engine sharing a backend sees it
//! through the same three methods (`get_state`, `set_state`, `list_states`) and so that the
//! Python original reads the same file or Redis database. Sentinels are hidden from route
//! listings. A sentinel carries its value in `reason` ([`Sentinel::encode`],
//! [`Sentinel::decode`]); an empty `reason` is a removed record.
//!
//! | key | holds | written by |
//! |---|---|---|
//! | `__waygate:global__` | global maintenance (`GlobalMaintenanceConfig` JSON) | `enable_global_maintenance` |
//! | `__waygate:global_rl__` | the global rate-limit policy | `set_global_rate_limit` |
//! | `__waygate:rl:{METHOD}:{path}__` | a route's runtime rate-limit policy (`ALL` for every method, `svc:/path` for a service's route) | `set_rate_limit` |
//! | `__waygate:svc_rl:{service}__` | a service's rate-limit policy | `set_service_rate_limit` |
//! | `__waygate:svc_global:{service}__` | a service's maintenance | `enable_service_maintenance` |
//! | `__waygate:rl_off:{route key}__` | a declared policy deleted at runtime | `delete_rate_limit` |
//! | `__waygate:revoked:{token id}__` | a revoked admin token, until it would have expired (RFC 3339 in `reason`) | `revoke_token` |
//! | `__waygate:bypass_revoked__` | bypass tokens issued before this time (RFC 3339 in `reason`) are void | `revoke_bypass_tokens` |
//! | `__waygate:flag:{key}__` | a feature flag (`FeatureFlag` JSON) | `save_flag`, `set_flag_enabled` |
//! | `__waygate:segment:{key}__` | a flag segment (`Segment` JSON) | `save_segment` |
//!
//! A route's rollout share is its state's `rollout_percentage` (the Python original's field,
//! which it declares and never reads), written by `set_rollout_percentage`.
//!
//! Audit entries name the route they are about, `flag:{key}` or `segment:{key}` (as the
//! Python original writes them), or one of [`GLOBAL_AUDIT_PATH`],
//! [`GLOBAL_RL_AUDIT_PATH`], [`AUTH_AUDIT_PATH`], [`BYPASS_AUDIT_PATH`], the service
//! maintenance and service rate-limit sentinels above.
//!
//! Rate-limit counters live in a namespace per policy — `METHOD:path` for a route,
//! [`GLOBAL_NAMESPACE`] for the global policy, `ALL:__svc_rl:{service}__` for a service's
//! ([`service_namespace`]) — and a counter's stored key is [`COUNTER_PREFIX`] + namespace +
//! `:` + the client key.
//!
//! The Redis backend stores the same records under a configurable prefix (`waygate:` by
//! default), with the Python original's names: `state:{key}` (string), `route-index` (set),
//! `audit` and `audit:path:{key}` (lists, newest first), `ratelimit:hits` (list),
//! `rlpolicy:{METHOD:path}` (string) with `rl-policy-index` (set), `webhook:dedup:{id}`
//! (claimed jobs), `ratelimit:{namespace}|...` (counters), and the pub/sub channels
//! `changes` (state JSON on every write), `deletions` (the key of every delete),
//! `global_invalidate` and `rl-policy-change` (every policy set or delete).
//! The file backend keeps `states` and `audit` sections in one JSON document, and preserves
//! sections it does not know (`rl_policies`, `rate_limits`, ... of the Python original).

mod key;
mod sentinel;

pub use key::RouteKey;
pub use sentinel::{Sentinel, SENTINEL_PREFIX};

/// The audit path of maintenance bypass tokens issued and revoked.
pub const BYPASS_AUDIT_PATH: &str = "__bypass__";

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

/// Whether `c` is a character no stored text may hold and no terminal or page should be
/// handed raw: a C0 or C1 control (NUL, ESC, a newline, ...) or one that reorders or hides
/// text (the bidirectional embeddings, overrides and isolates U+202A..U+202E and
/// U+2066..U+2069, and the marks U+200E, U+200F, U+061C). The admin API refuses texts
/// holding one; the CLI escapes them when it prints.
///
/// ```
/// use waygate_core::stored::is_unsafe_char;
///
/// assert!(is_unsafe_char('\u{1b}'));
/// assert!(is_unsafe_char('\u{202e}'));
/// assert!(!is_unsafe_char('é'));
/// ```
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// The counter namespace of a service's rate-limit policy, as the Python original names it.
pub fn service_namespace(service: &str) -> String {
    format!("ALL:__svc_rl:{service}__")
}
