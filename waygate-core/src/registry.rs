//! The link-time route registry: what `#[route]` and its lifecycle attributes declare.
//!
//! Every annotated handler submits one [`RouteMeta`] at link time; the engine reads them when
//! it is built, so no route scanning happens at startup.
//!
//! **Registries:** by default routes are collected with `inventory`, which runs one small
//! constructor per route before `main`. With the `linkme` cargo feature they are placed in a
//! `linkme` distributed slice by the linker instead, and no code runs before `main`. The API
//! is the same either way; you never depend on either crate yourself.
//!
//! **Linker caveat:** a route lives in the registry only if its code is linked into the binary.
//! Routes in a library crate that the binary never names (no `use`, no call) are dropped by the
//! linker and are not registered. Naming the handler in `routes![..]` is enough.

use crate::rate_limit::{Algorithm, OnMissingKey};
use std::any::Any;
use std::fmt;

/// One route declared with `#[route]`, with the lifecycle its attributes gave it.
///
/// Built by the attribute macros; read it through [`registered_routes`].
#[non_exhaustive]
pub struct RouteMeta {
    /// The HTTP method, upper case (`"GET"`).
    pub method: &'static str,
    /// The path template as written in `#[route]` (`"/items/{id}"`).
    pub path: &'static str,
    /// `"{method}:{path}"`.
    pub key: &'static str,
    /// The handler function's name.
    pub handler: &'static str,
    /// The module the handler is declared in.
    pub module_path: &'static str,
    /// The state the attributes declare.
    pub initial: InitialStatus,
    /// `#[force_active]`: every check is skipped and every mutation refused.
    pub force_active: bool,
    /// `#[rate_limit(..)]`, when present.
    pub rate_limit: Option<RateLimitMeta>,
    /// The `response = ..` factory of the blocking attribute, type-erased; the axum adapter
    /// reads it back.
    pub response: Option<&'static (dyn Any + Send + Sync)>,
    /// `#[rollout(..)]`, when present.
    pub rollout: Option<RolloutMeta>,
    /// `#[feature_flag(..)]`, when present.
    pub feature_flag: Option<FeatureFlagMeta>,
}

impl RouteMeta {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        method: &'static str,
        path: &'static str,
        key: &'static str,
        handler: &'static str,
        module_path: &'static str,
        initial: InitialStatus,
        force_active: bool,
        rate_limit: Option<RateLimitMeta>,
        response: Option<&'static (dyn Any + Send + Sync)>,
    ) -> Self {
        Self {
            method,
            path,
            key,
            handler,
            module_path,
            initial,
            force_active,
            rate_limit,
            response,
            rollout: None,
            feature_flag: None,
        }
    }

    /// The declaration with `#[feature_flag(..)]`.
    #[doc(hidden)]
    pub const fn __with_feature_flag(self, gate: FeatureFlagMeta) -> Self {
        Self {
            feature_flag: Some(gate),
            ..self
        }
    }

    /// The declaration with `#[rollout(..)]` (what the macro appends to [`__new`](Self::__new)
    /// for a route that has one).
    #[doc(hidden)]
    pub const fn __with_rollout(self, rollout: RolloutMeta) -> Self {
        Self {
            rollout: Some(rollout),
            ..self
        }
    }
}

impl RouteMeta {
    /// Whether two declarations are the same handler's. (Declarations are consts, so two
    /// references to one may have different addresses.)
    pub fn is_same_route(&self, other: &RouteMeta) -> bool {
        self.key == other.key
            && self.handler == other.handler
            && self.module_path == other.module_path
    }
}

impl fmt::Debug for RouteMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteMeta")
            .field("key", &self.key)
            .field("handler", &self.handler)
            .field("module_path", &self.module_path)
            .field("initial", &self.initial)
            .field("force_active", &self.force_active)
            .field("rate_limit", &self.rate_limit)
            .field("response", &self.response.is_some())
            .field("rollout", &self.rollout)
            .finish()
    }
}

/// The status a route starts in, from its lifecycle attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitialStatus {
    /// No lifecycle attribute.
    Active,
    /// `#[maintenance(reason, start, end)]`; the window is in unix seconds.
    Maintenance {
        /// Why.
        reason: &'static str,
        /// `(start, end)` in unix seconds, when both were given.
        window: Option<(i64, i64)>,
    },
    /// `#[disabled(reason)]`.
    Disabled {
        /// Why.
        reason: &'static str,
    },
    /// `#[env_only("dev", ..)]`.
    EnvOnly {
        /// The environments the route is served in.
        envs: &'static [&'static str],
    },
    /// `#[deprecated_route(sunset, use_instead, since)]`.
    Deprecated {
        /// `Sunset` header value (an HTTP-date).
        sunset: Option<&'static str>,
        /// The successor route, for the `Link` header.
        use_instead: Option<&'static str>,
        /// When the route was deprecated, in unix seconds (`Deprecation: @<unix>`).
        since: Option<i64>,
    },
}

/// `#[rate_limit(..)]` as declared; checked at compile time, enforced by the rate limiter.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RateLimitMeta {
    /// One limit for everyone (`"100/minute"`), or per-tier limits.
    pub limit: LimitMeta,
    /// The counting algorithm; `None` = the default ([`Algorithm::default`]).
    pub algorithm: Option<Algorithm>,
    /// How requests are grouped into counters.
    pub key: KeyMeta,
    /// Extra capacity on top of the limit.
    pub burst: u32,
    /// IPs and CIDRs that are never limited.
    pub exempt_ips: &'static [&'static str],
    /// Roles that are never limited.
    pub exempt_roles: &'static [&'static str],
    /// What a request without a key gets; `None` = the key strategy's default.
    pub on_missing_key: Option<OnMissingKey>,
    /// The `response = ..` factory for `429`s, type-erased.
    pub response: Option<&'static (dyn Any + Send + Sync)>,
}

impl RateLimitMeta {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        limit: LimitMeta,
        algorithm: Option<Algorithm>,
        key: KeyMeta,
        burst: u32,
        exempt_ips: &'static [&'static str],
        exempt_roles: &'static [&'static str],
        on_missing_key: Option<OnMissingKey>,
        response: Option<&'static (dyn Any + Send + Sync)>,
    ) -> Self {
        Self {
            limit,
            algorithm,
            key,
            burst,
            exempt_ips,
            exempt_roles,
            on_missing_key,
            response,
        }
    }
}

/// The limit of a `#[rate_limit]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitMeta {
    /// One limit, e.g. `"100/minute"` or `"unlimited"`.
    Single(&'static str),
    /// `(tier, limit)` pairs in declaration order; an unknown tier gets the first.
    Tiers(&'static [(&'static str, &'static str)]),
}

/// A `key = custom(..)` function: the rate-limit key of a request, `None` when it has none.
pub type KeyFn = fn(&http::request::Parts) -> Option<String>;

/// How a `#[rate_limit]` groups requests into counters.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum KeyMeta {
    /// Per client IP (the default).
    Ip,
    /// Per authenticated user.
    User,
    /// Per `X-API-Key`.
    ApiKey,
    /// One counter for everyone.
    Global,
    /// Per the value a function derives from the request (`None` = key missing).
    Custom(KeyFn),
}

impl fmt::Debug for KeyMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ip => "Ip",
            Self::User => "User",
            Self::ApiKey => "ApiKey",
            Self::Global => "Global",
            Self::Custom(_) => "Custom",
        })
    }
}

/// `#[feature_flag(NEW_CHECKOUT)]` as declared: the route is served to the requests for which
/// the boolean flag is `true`.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct FeatureFlagMeta {
    /// The flag's key.
    pub key: &'static str,
    /// The `response = ..` factory for requests the flag is off for, type-erased; without
    /// one they get the route's env-gated answer (`404`).
    pub response: Option<&'static (dyn Any + Send + Sync)>,
}

impl FeatureFlagMeta {
    #[doc(hidden)]
    pub const fn __new(
        key: &'static str,
        response: Option<&'static (dyn Any + Send + Sync)>,
    ) -> Self {
        Self { key, response }
    }
}

impl fmt::Debug for FeatureFlagMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureFlagMeta")
            .field("key", &self.key)
            .field("response", &self.response.is_some())
            .finish()
    }
}

/// `#[rollout(percent = .., key = ..)]` as declared: the share of clients the route starts
/// served to. The percentage is the route's initial `rollout_percentage`, changed at runtime
/// like any state; the key says what identifies a client.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct RolloutMeta {
    /// 0 to 100 (checked at compile time).
    pub percent: u8,
    /// What a client is bucketed by.
    pub key: RolloutKeyMeta,
    /// The `response = ..` factory for clients outside the rollout, type-erased; without
    /// one they get the route's env-gated answer (`404`).
    pub response: Option<&'static (dyn Any + Send + Sync)>,
}

impl RolloutMeta {
    #[doc(hidden)]
    pub const fn __new(
        percent: u8,
        key: RolloutKeyMeta,
        response: Option<&'static (dyn Any + Send + Sync)>,
    ) -> Self {
        Self {
            percent,
            key,
            response,
        }
    }
}

impl fmt::Debug for RolloutMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RolloutMeta")
            .field("percent", &self.percent)
            .field("key", &self.key)
            .field("response", &self.response.is_some())
            .finish()
    }
}

/// What a `#[rollout]` buckets clients by.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum RolloutKeyMeta {
    /// The authenticated user, else the client IP (the default).
    UserThenIp,
    /// The authenticated user only: requests without one are outside the rollout.
    User,
    /// The client IP.
    Ip,
    /// The `X-API-Key` header: requests without one are outside the rollout.
    ApiKey,
    /// The value a function derives from the request (`None`: outside the rollout).
    Custom(KeyFn),
}

impl fmt::Debug for RolloutKeyMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UserThenIp => "UserThenIp",
            Self::User => "User",
            Self::Ip => "Ip",
            Self::ApiKey => "ApiKey",
            Self::Custom(_) => "Custom",
        })
    }
}

/// What the macros submit to the `inventory` registry.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[derive(Debug)]
pub struct Registration(pub &'static RouteMeta);

#[cfg(not(feature = "linkme"))]
inventory::collect!(Registration);

/// The `linkme` registry: one element per `#[route]`, placed by the linker.
///
/// Named for the crate: the linker section is named after the slice, and two slices of one
/// name in a binary would collide.
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[linkme::distributed_slice]
pub static WAYGATE_ROUTES: [&'static RouteMeta];

/// Registers one route: what `#[route]` expands to, as `__private::submit_route! { META }`.
/// The runtime owns it so the macro crate need not know which registry is compiled in.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __waygate_submit_route {
    ($meta:expr) => {
        $crate::__private::inventory::submit! { $crate::__private::Registration($meta) }
    };
}

/// Registers one route: what `#[route]` expands to, as `__private::submit_route! { META }`.
/// The runtime owns it so the macro crate need not know which registry is compiled in.
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[macro_export]
macro_rules! __waygate_submit_route {
    ($meta:expr) => {
        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::WAYGATE_ROUTES)]
            #[linkme(crate = $crate::__private::linkme)]
            static ROUTE: &'static $crate::__private::RouteMeta = $meta;
        };
    };
}

/// Every route registered by `#[route]` in this binary, in no particular order.
pub fn registered_routes() -> impl Iterator<Item = &'static RouteMeta> {
    #[cfg(not(feature = "linkme"))]
    let routes = inventory::iter::<Registration>.into_iter().map(|r| r.0);
    #[cfg(feature = "linkme")]
    let routes = WAYGATE_ROUTES.iter().copied();
    routes
}

/// Fails compilation when two routes in one `routes![..]` share a method and path (axum
/// would panic at startup, actix would shadow one). Called by the adapters' `routes!`.
#[doc(hidden)]
pub const fn assert_unique_keys(keys: &[&str]) {
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() {
            if str_eq(keys[i], keys[j]) {
                panic!(
                    "routes![..] mounts the same method and path twice; each route may appear once"
                );
            }
            j += 1;
        }
        i += 1;
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
