//! Sentinels: waygate's own records, stored as route states beside the routes.

use super::RouteKey;
use crate::model::RouteState;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// Every sentinel key starts with this; such states are hidden from route listings.
pub const SENTINEL_PREFIX: &str = "__waygate:";

/// Every sentinel key (but the two fixed ones) ends with this.
const SUFFIX: &str = "__";

/// One of waygate's own records, stored as a [`RouteState`] under its key (its `Display`)
/// so that every engine sharing a backend sees it through the same three methods.
///
/// A record carries its value in the state's `reason`: JSON for configurations and
/// policies, an RFC 3339 time for revocations. An empty `reason` means the record was
/// removed (that is how the SDK stream says so).
///
/// ```
/// use waygate_core::stored::Sentinel;
///
/// let key = Sentinel::ServiceMaintenance("pay").to_string();
/// assert_eq!(key, "__waygate:svc_global:pay__");
/// assert_eq!(Sentinel::parse(&key), Some(Sentinel::ServiceMaintenance("pay")));
/// assert_eq!(Sentinel::parse("GET:/x"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sentinel<'a> {
    /// `__waygate:global__`: global maintenance (`GlobalMaintenanceConfig` JSON).
    GlobalMaintenance,
    /// `__waygate:global_rl__`: the global rate-limit policy (`GlobalRateLimitPolicy` JSON).
    GlobalRateLimit,
    /// `__waygate:rl:{METHOD}:{path}__`: a route's runtime rate-limit policy
    /// (`RateLimitPolicy` JSON), by the policy's method and path.
    RouteRateLimit {
        /// The policy's method (`ALL` for every method).
        method: &'a str,
        /// The policy's path (`svc:/path` for a service's route).
        path: &'a str,
    },
    /// `__waygate:svc_rl:{service}__`: a service's rate-limit policy.
    ServiceRateLimit(&'a str),
    /// `__waygate:svc_global:{service}__`: a service's maintenance.
    ServiceMaintenance(&'a str),
    /// `__waygate:rl_off:{route key}__`: a declared policy deleted at runtime (stays off).
    PolicyOff(&'a str),
    /// `__waygate:revoked:{token id}__`: a revoked admin token, until the RFC 3339 time in
    /// `reason` (when it would have expired anyway).
    RevokedToken(&'a str),
    /// `__waygate:bypass_revoked__`: maintenance bypass tokens issued before the RFC 3339
    /// time in `reason` are void.
    BypassRevoked,
    /// `__waygate:flag:{key}__`: a feature flag (`FeatureFlag` JSON).
    Flag(&'a str),
    /// `__waygate:segment:{key}__`: a flag segment (`Segment` JSON).
    Segment(&'a str),
}

/// The name after [`SENTINEL_PREFIX`] of each kind that carries one.
const GLOBAL: &str = "global";
const GLOBAL_RL: &str = "global_rl";
const BYPASS_REVOKED: &str = "bypass_revoked";
const ROUTE_RL: &str = "rl:";
const SERVICE_RL: &str = "svc_rl:";
const SERVICE_MAINTENANCE: &str = "svc_global:";
const POLICY_OFF: &str = "rl_off:";
const REVOKED: &str = "revoked:";
const FLAG: &str = "flag:";
const SEGMENT: &str = "segment:";

impl<'a> Sentinel<'a> {
    /// Whether `key` is a sentinel's (any of waygate's own records, known to this version
    /// or not).
    pub fn is_sentinel(key: &str) -> bool {
        key.starts_with(SENTINEL_PREFIX)
    }

    /// Reads a sentinel key; `None` for a route key or a sentinel this version does not
    /// know.
    pub fn parse(key: &'a str) -> Option<Self> {
        let name = key.strip_prefix(SENTINEL_PREFIX)?.strip_suffix(SUFFIX)?;
        let named = |prefix: &str| name.strip_prefix(prefix).filter(|rest| !rest.is_empty());
        Some(match name {
            GLOBAL => Self::GlobalMaintenance,
            GLOBAL_RL => Self::GlobalRateLimit,
            BYPASS_REVOKED => Self::BypassRevoked,
            _ => {
                if let Some(rest) = named(ROUTE_RL) {
                    let (method, path) = rest.split_once(':')?;
                    Self::RouteRateLimit { method, path }
                } else if let Some(service) = named(SERVICE_RL) {
                    Self::ServiceRateLimit(service)
                } else if let Some(service) = named(SERVICE_MAINTENANCE) {
                    Self::ServiceMaintenance(service)
                } else if let Some(key) = named(POLICY_OFF) {
                    Self::PolicyOff(key)
                } else if let Some(id) = named(REVOKED) {
                    Self::RevokedToken(id)
                } else if let Some(key) = named(FLAG) {
                    Self::Flag(key)
                } else if let Some(key) = named(SEGMENT) {
                    Self::Segment(key)
                } else {
                    return None;
                }
            }
        })
    }

    /// The sentinel of a route's runtime policy.
    pub fn route_rate_limit(key: RouteKey<'_>) -> String {
        let (method, path) = key.policy_parts();
        Sentinel::RouteRateLimit {
            method,
            path: &path,
        }
        .to_string()
    }

    /// The service a record belongs to (stored as the state's `service`).
    pub fn service(&self) -> Option<&'a str> {
        match *self {
            Self::ServiceRateLimit(service) | Self::ServiceMaintenance(service) => Some(service),
            _ => None,
        }
    }

    /// The record as a state whose `reason` is `reason` as it is (an RFC 3339 time, say).
    pub fn record(&self, reason: impl Into<String>) -> RouteState {
        let mut state = RouteState::active(self.to_string());
        state.service = self.service().map(str::to_owned);
        state.reason = reason.into();
        state
    }

    /// The record carrying `value` as JSON; `None` gives the removed record (an empty
    /// `reason`).
    pub fn encode<T: Serialize + ?Sized>(
        &self,
        value: Option<&T>,
    ) -> Result<RouteState, serde_json::Error> {
        let reason = match value {
            Some(value) => serde_json::to_string(value)?,
            None => String::new(),
        };
        Ok(self.record(reason))
    }

    /// The value a record carries; `None` when it is the removed record (an empty
    /// `reason`).
    pub fn decode<T: DeserializeOwned>(state: &RouteState) -> Result<Option<T>, serde_json::Error> {
        match state.reason.trim() {
            "" => Ok(None),
            reason => serde_json::from_str(reason).map(Some),
        }
    }
}

impl fmt::Display for Sentinel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SENTINEL_PREFIX)?;
        match self {
            Self::GlobalMaintenance => f.write_str(GLOBAL)?,
            Self::GlobalRateLimit => f.write_str(GLOBAL_RL)?,
            Self::BypassRevoked => f.write_str(BYPASS_REVOKED)?,
            Self::RouteRateLimit { method, path } => {
                write!(f, "{ROUTE_RL}{}:{path}", method.to_ascii_uppercase())?;
            }
            Self::ServiceRateLimit(service) => write!(f, "{SERVICE_RL}{service}")?,
            Self::ServiceMaintenance(service) => write!(f, "{SERVICE_MAINTENANCE}{service}")?,
            Self::PolicyOff(key) => write!(f, "{POLICY_OFF}{key}")?,
            Self::RevokedToken(id) => write!(f, "{REVOKED}{id}")?,
            Self::Flag(key) => write!(f, "{FLAG}{key}")?,
            Self::Segment(key) => write!(f, "{SEGMENT}{key}")?,
        }
        f.write_str(SUFFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GlobalMaintenanceConfig;

    /// One of each kind, with the key the Python original and older versions wrote.
    const EVERY_KIND: [(Sentinel<'static>, &str); 8] = [
        (Sentinel::GlobalMaintenance, "__waygate:global__"),
        (Sentinel::GlobalRateLimit, "__waygate:global_rl__"),
        (
            Sentinel::RouteRateLimit {
                method: "GET",
                path: "pay:/x/{id}",
            },
            "__waygate:rl:GET:pay:/x/{id}__",
        ),
        (Sentinel::ServiceRateLimit("pay"), "__waygate:svc_rl:pay__"),
        (
            Sentinel::ServiceMaintenance("pay"),
            "__waygate:svc_global:pay__",
        ),
        (Sentinel::PolicyOff("GET:/x"), "__waygate:rl_off:GET:/x__"),
        (Sentinel::RevokedToken("abc"), "__waygate:revoked:abc__"),
        (Sentinel::BypassRevoked, "__waygate:bypass_revoked__"),
    ];

    #[test]
    fn every_kind_has_its_stored_key_and_reads_back() {
        for (sentinel, key) in EVERY_KIND {
            assert_eq!(sentinel.to_string(), key);
            assert_eq!(Sentinel::parse(key), Some(sentinel), "{key}");
            assert!(Sentinel::is_sentinel(key));
        }
        assert_eq!(
            Sentinel::route_rate_limit(RouteKey::bare("/x")),
            "__waygate:rl:ALL:/x__"
        );
    }

    #[test]
    fn what_is_not_a_known_sentinel() {
        for key in [
            "GET:/x",
            "__waygate:global",
            "__waygate:svc_rl:__",
            "__waygate:rl:x__",
            "__waygate:future:x__",
        ] {
            assert_eq!(Sentinel::parse(key), None, "{key}");
        }
    }

    #[test]
    fn values_round_trip_and_an_empty_reason_is_a_removal() {
        let config = GlobalMaintenanceConfig {
            enabled: true,
            reason: "upgrade".into(),
            ..Default::default()
        };
        let sentinel = Sentinel::ServiceMaintenance("pay");
        let state = sentinel.encode(Some(&config)).unwrap();
        assert_eq!(state.path, "__waygate:svc_global:pay__");
        assert_eq!(state.service.as_deref(), Some("pay"));
        let back: Option<GlobalMaintenanceConfig> = Sentinel::decode(&state).unwrap();
        assert_eq!(back, Some(config));
        let removed = sentinel.encode::<GlobalMaintenanceConfig>(None).unwrap();
        assert_eq!(removed.reason, "");
        let back: Option<GlobalMaintenanceConfig> = Sentinel::decode(&removed).unwrap();
        assert_eq!(back, None);
        let mut junk = removed;
        junk.reason = "{".into();
        assert!(Sentinel::decode::<GlobalMaintenanceConfig>(&junk).is_err());
    }
}
