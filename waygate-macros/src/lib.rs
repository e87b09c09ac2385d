//! Attribute macros for [waygate](https://docs.rs/waygate): `#[route]` and the lifecycle
//! attributes. Use them through the `waygate` crate (`use waygate::prelude::*;`), which
//! re-exports them; this crate's generated code names the runtime's hidden `__private` module.
//!
//! The pipeline follows one file a stage: `parse` (the attribute grammar),
//! `validate` (what the values mean, and which attributes go together), `expand` (the code).
//! `relocate` handles lifecycle attributes written above `#[route]`.

mod args;
mod date;
mod error;
mod expand;
mod flag;
mod item;
mod kind;
mod openapi;
mod parse;
mod path;
mod rate;
mod relocate;
mod validate;

use kind::Kind;
use proc_macro::TokenStream;

/// Declares an axum handler's HTTP method and path, and registers the route with waygate.
///
/// ```
/// use axum::{extract::Path, Router};
/// use waygate::prelude::*;
///
/// #[route(GET, "/items/{id}")]
/// async fn get_item(Path(id): Path<u32>) -> String {
///     format!("item {id}")
/// }
///
/// let app: Router = Router::new().merge(routes![get_item]);
/// assert_eq!(get_item::KEY, "GET:/items/{id}");
/// ```
///
/// - The method is one of `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD`, `OPTIONS`, `TRACE`,
///   `CONNECT`; the path uses axum 0.8's syntax (`/items/{id}`, `/files/{*rest}`).
/// - The lifecycle attributes ([`macro@maintenance`], [`macro@disabled`],
///   [`macro@env_only`], [`macro@deprecated_route`], [`macro@force_active`],
///   [`macro@rate_limit`]) may be written above or below `#[route]`; both orders mean the same.
///   Below it, they need no import.
/// - The function stays as written. Next to it, `#[route]` adds a hidden struct of the same name
///   whose consts (`METHOD`, `PATH`, `KEY`, `METHOD_FILTER`, `META`) `routes![..]` reads, and
///   submits the route to waygate's registry, which seeds the engine at startup.
/// - It works on free, non-generic functions only (not on methods).
/// - Without arguments, above a `#[utoipa::path(..)]`, it reads the method and path from it
///   (`get` or `method(get)`, `path`, and `context_path` as a prefix), so they are written once:
///
/// ```
/// use waygate::prelude::*;
///
/// /// Lists the payments.
/// #[route]
/// #[utoipa::path(get, path = "/payments", responses((status = 200, description = "Payments")))]
/// async fn payments() -> &'static str { "[]" }
///
/// assert_eq!(payments::KEY, "GET:/payments");
/// ```
///
/// Every attribute is checked at compile time: unknown keys, wrong value types, methods,
/// paths, dates, rate strings, IP addresses, and attributes that cannot go together.
#[proc_macro_attribute]
pub fn route(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::route(args.into(), input.into()).into()
}

/// Starts the route in maintenance: requests get `503 MAINTENANCE_MODE` (or your response).
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/payments")]
/// #[maintenance(
///     reason = "DB migration",
///     start = "2026-12-01T02:00:00Z",
///     end = "2026-12-01T04:00:00Z",
///     response = maintenance_page,
/// )]
/// async fn get_payments() -> &'static str { "payments" }
///
/// fn maintenance_page(blocked: waygate::Blocked) -> axum::response::Html<String> {
///     axum::response::Html(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
/// }
/// ```
///
/// All keys are optional; the reason may also be given first without a key
/// (`#[maintenance("DB migration")]`). With `start` and `end` (RFC 3339 timestamps, both or
/// neither) the route is active until `start`, in maintenance in `[start, end)`, and active
/// again after. `response` is a factory — a function or closure, sync or async, taking a
/// [`Blocked`](https://docs.rs/waygate/latest/waygate/struct.Blocked.html) and returning
/// anything that implements `IntoResponse`.
///
/// A route has one initial status: `#[maintenance]` cannot be combined with
/// [`macro@disabled`], [`macro@env_only`], [`macro@deprecated_route`] or
/// [`macro@force_active`]. Needs [`macro@route`] on the same function.
#[proc_macro_attribute]
pub fn maintenance(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::Maintenance, args.into(), input.into()).into()
}

/// Starts the route disabled: requests get `503 ROUTE_DISABLED` (or your response).
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(POST, "/v1/orders")]
/// #[disabled(reason = "use /v2/orders", response = |_blocked: waygate::Blocked| async {
///     (axum::http::StatusCode::GONE, "use /v2/orders")
/// })]
/// async fn create_order_v1() -> &'static str { "created" }
///
/// #[route(GET, "/legacy")]
/// #[disabled]
/// async fn legacy() -> &'static str { "legacy" }
/// ```
///
/// Keys: `reason` (also accepted first without a key) and `response`, a factory as for
/// [`macro@maintenance`]. Operators can enable the route at runtime. Cannot be combined with
/// another status attribute or [`macro@force_active`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn disabled(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::Disabled, args.into(), input.into()).into()
}

/// Serves the route only in the listed environments; elsewhere it answers `404`, as if it
/// did not exist (or your response).
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/debug/state")]
/// #[env_only("dev", "staging")]
/// async fn debug_state() -> &'static str { "state" }
/// ```
///
/// Environment names are non-empty strings of ASCII letters, digits, `-`, `_` and `.`; at least
/// one is required. `response = factory` is optional, as for [`macro@maintenance`]. Cannot be
/// combined with another status attribute or [`macro@force_active`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn env_only(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::EnvOnly, args.into(), input.into()).into()
}

/// Exempts the route from every waygate check, including global maintenance; the route cannot
/// be changed at runtime. For health checks and the like.
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/health")]
/// #[force_active]
/// async fn health() -> &'static str { "ok" }
/// ```
///
/// Takes no arguments. Cannot be combined with any other lifecycle attribute, including
/// [`macro@rate_limit`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn force_active(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::ForceActive, args.into(), input.into()).into()
}

/// Marks the route deprecated: it keeps serving, and responses carry `Deprecation`, `Sunset`
/// and `Link: <..>; rel="successor-version"` headers.
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/v1/users")]
/// #[deprecated_route(
///     sunset = "Fri, 01 Jan 2027 00:00:00 GMT",
///     use_instead = "/v2/users",
///     since = "2026-06-01T00:00:00Z",
/// )]
/// async fn v1_users() -> &'static str { "users" }
/// ```
///
/// All keys are optional. `sunset` is an HTTP-date in IMF-fixdate form; `use_instead` the
/// successor's path or absolute URL; `since` (for `Deprecation: @<unix seconds>`) an RFC 3339
/// timestamp or an HTTP-date. Cannot be combined with another status attribute or
/// [`macro@force_active`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn deprecated_route(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::DeprecatedRoute, args.into(), input.into()).into()
}

/// Limits how often the route may be called; over the limit, requests get `429` (or your
/// response).
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/search")]
/// #[rate_limit("100/minute", algorithm = token_bucket, burst = 20, exempt_ips = ["10.0.0.0/8"])]
/// async fn search() -> &'static str { "results" }
///
/// #[route(GET, "/reports")]
/// #[rate_limit(
///     { free = "10/minute", pro = "100/minute", enterprise = "unlimited" },
///     exempt_roles = ["admin"],
///     on_missing_key = block,
/// )]
/// async fn reports() -> &'static str { "reports" }
///
/// #[route(POST, "/upload")]
/// #[rate_limit("5 per 2 hours", key = custom(tenant), response = too_many)]
/// async fn upload() -> &'static str { "uploaded" }
///
/// fn tenant(parts: &axum::http::request::Parts) -> Option<String> {
///     parts.headers.get("x-tenant")?.to_str().ok().map(str::to_owned)
/// }
///
/// async fn too_many(limited: waygate::RateLimited) -> (axum::http::StatusCode, String) {
///     (axum::http::StatusCode::TOO_MANY_REQUESTS, format!("retry in {}s", limited.retry_after_seconds))
/// }
/// ```
///
/// The first argument is the limit: a rate string — `<amount>/<period>` or
/// `<amount> per <period>` with an optional multiple (`"100/minute"`, `"10 per second"`,
/// `"5/2 hours"`), periods `second`, `minute`, `hour`, `day`, `month`, `year` (or plural),
/// case-insensitive — or `"unlimited"`, or a table of per-tier limits. Then, all optional:
///
/// | key | values | default |
/// |---|---|---|
/// | `algorithm` | `fixed_window`, `sliding_window`, `moving_window`, `token_bucket` | the limiter's default |
/// | `key` | `ip`, `user`, `api_key`, `global`, `custom(path::to::fn)` | `ip`; `user` with tiers |
/// | `burst` | extra requests on top of the limit | `0` |
/// | `exempt_ips` | IPv4/IPv6 addresses and CIDR blocks | none |
/// | `exempt_roles` | role names | none |
/// | `on_missing_key` | `exempt`, `fallback_ip`, `block` | per key strategy |
/// | `response` | a factory taking a [`RateLimited`](https://docs.rs/waygate/latest/waygate/struct.RateLimited.html) | the built-in `429` |
///
/// A `custom` key function has the signature
/// `fn(&axum::http::request::Parts) -> Option<String>`
/// (`None`: the key is missing). Combines with the status attributes, not with
/// [`macro@force_active`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn rate_limit(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::RateLimit, args.into(), input.into()).into()
}

/// Serves the route to a share of its clients: a percentage rollout. The others get the
/// route's env-gated answer (`404`, as if the route did not exist) or your response.
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/v2/search")]
/// #[rollout(percent = 25)]
/// async fn search_v2() -> &'static str { "new results" }
///
/// #[route(GET, "/beta/reports")]
/// #[rollout(percent = 10, key = custom(tenant), response = not_yet)]
/// async fn beta_reports() -> &'static str { "reports" }
///
/// fn tenant(parts: &axum::http::request::Parts) -> Option<String> {
///     parts.headers.get("x-tenant")?.to_str().ok().map(str::to_owned)
/// }
///
/// fn not_yet(_: waygate::Blocked) -> (axum::http::StatusCode, &'static str) {
///     (axum::http::StatusCode::FORBIDDEN, "not available for your account yet")
/// }
/// ```
///
/// | key | values | default |
/// |---|---|---|
/// | `percent` | a whole number from 0 to 100 (required) | |
/// | `key` | `user`, `ip`, `api_key`, `custom(path::to::fn)` | the user, else the client IP |
/// | `response` | a factory taking a [`Blocked`](https://docs.rs/waygate/latest/waygate/struct.Blocked.html) | the env-gated `404` |
///
/// The percentage is the route's initial `rollout_percentage` (the Python original's field),
/// changed at runtime with `POST api/routes/{key}/rollout` or `waygate rollout ROUTE 50`.
/// Bucketing is deterministic ([`waygate::rollout`](https://docs.rs/waygate/latest/waygate/rollout/)):
/// a client gets the same answer on every request and instance, and raising the percentage
/// only adds clients. A client without the key (no user and no IP, no `X-API-Key`, or a
/// custom function answering `None`) is outside the rollout. Combines with the status
/// attributes and [`macro@rate_limit`], not with [`macro@force_active`]; needs
/// [`macro@route`].
#[proc_macro_attribute]
pub fn rollout(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::Rollout, args.into(), input.into()).into()
}

/// Serves the route only to requests for which a boolean feature flag is `true`; the others
/// get the route's env-gated answer (`404`) or the `response = ..` factory.
///
/// ```
/// use waygate::flags::BoolFlag;
/// use waygate::prelude::*;
///
/// #[flag(key = "new-checkout", default = false)]
/// static NEW_CHECKOUT: BoolFlag;
///
/// #[route(GET, "/checkout/v2")]
/// #[feature_flag(NEW_CHECKOUT)]
/// async fn checkout_v2() -> &'static str {
///     "the new checkout"
/// }
///
/// // A flag defined only on the server: by key.
/// #[route(GET, "/beta/search")]
/// #[feature_flag("beta-search", response = |_: waygate::Blocked| "not for you yet")]
/// async fn beta_search() -> &'static str {
///     "results"
/// }
/// # let _: axum::Router = axum::Router::new().merge(routes![checkout_v2, beta_search]);
/// ```
///
/// - The flag is a `BoolFlag` static declared with [`macro@flag`] (naming anything else is a
///   type error), or a key as a string literal for flags that exist only in the store.
/// - The request's evaluation context comes from
///   [`EngineBuilder::flag_context`](https://docs.rs/waygate/latest/waygate/struct.EngineBuilder.html#method.flag_context),
///   by default the context the app put in the request's extensions, else the authenticated
///   user, else the client address. An unknown flag is off.
/// - It goes with the lifecycle attributes and [`macro@rollout`] (a request must pass both), not
///   with [`macro@force_active`]; needs [`macro@route`].
#[proc_macro_attribute]
pub fn feature_flag(args: TokenStream, input: TokenStream) -> TokenStream {
    relocate::lifecycle(Kind::FeatureFlag, args.into(), input.into()).into()
}

/// Declares a feature flag in code: a typed handle, registered at link time like routes.
///
/// ```
/// use waygate::flags::{BoolFlag, EvaluationContext, IntFlag};
/// use waygate::prelude::*;
///
/// #[flag(key = "new-checkout", default = false, description = "The redesigned checkout")]
/// static NEW_CHECKOUT: BoolFlag;
///
/// #[flag(key = "search-page-size", default = 10)]
/// static PAGE_SIZE: IntFlag;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let engine = Engine::new();
/// engine.start().await.unwrap(); // creates both flags with their defaults
/// let ctx = EvaluationContext::new("user-42");
/// assert!(!NEW_CHECKOUT.get(&ctx)); // a bool: no key to mistype, no type to mismatch
/// assert_eq!(PAGE_SIZE.get(&ctx), 10);
/// assert_eq!(NEW_CHECKOUT.key(), "new-checkout");
/// # }
/// ```
///
/// - The type is `BoolFlag`, `StringFlag`, `IntFlag`, `FloatFlag` or `JsonFlag<T>` (any serde
///   type `T`); `default` is of that type (a literal, or any constant expression; for
///   `JsonFlag<T>`, any expression of type `T`). `key` follows the store's rule (no `/`,
///   spaces or control characters); `description` is optional. All are checked at compile time.
/// - At [`Engine::start`](https://docs.rs/waygate/latest/waygate/struct.Engine.html#method.start)
///   a declared flag the store does not hold is created with its default (stored flags win),
///   and two declarations of one key — across modules or crates — fail the start, naming
///   both.
/// - `NAME.get(&ctx)` reads the flags of the engine started last in the process (the default
///   before one started); `NAME.get_in(&engine.flags(), &ctx)` reads a given one.
#[proc_macro_attribute]
pub fn flag(args: TokenStream, input: TokenStream) -> TokenStream {
    flag::expand(args.into(), input.into()).into()
}
