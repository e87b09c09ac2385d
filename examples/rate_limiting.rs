//! Rate limiting: per-IP, per-user, per-API-key, global and tiered limits, three window
//! algorithms, burst, exempt IPs, and a custom `429`.
//!
//! The axum port of the Python original's FastAPI "Rate limiting" example. Every
//! `#[rate_limit]` is enforced by [`WaygateLayer`], after the route's own state: a route in
//! maintenance answers `503` and never touches its quota. An allowed request gets
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); a
//! refused one gets `429` with `Retry-After` (whole seconds) and
//! `{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests", "limit": ..,
//! "retry_after_seconds": .., "reset_at": .., "path": ..}}`, unless the route has its own
//! `response = ..`.
//!
//! ```text
//! cargo run --example rate_limiting                            # http://127.0.0.1:8000
//! PORT=3000 cargo run --example rate_limiting                  # another port; PORT=0 picks a free one
//! TRUSTED_PROXIES=10.0.0.0/8 cargo run --example rate_limiting # behind a proxy, see below
//! ```
//!
//! Who is asking:
//!
//! - **IP**: the peer address of the connection (`waygate::serve::serve` hands it to the app,
//!   as `into_make_service_with_connect_info::<SocketAddr>()` does for `axum::serve`). `X-Forwarded-For` and
//!   `X-Real-IP` are believed only from the proxies listed in `TRUSTED_PROXIES` (IPs or CIDRs,
//!   comma-separated; none by default), so a client cannot pick a fresh IP per request. (The
//!   Python original trusts `X-Forwarded-For` from anyone.)
//! - **user, plan, roles**: the rate limiter reads the [`Identity`] that the app's own auth
//!   puts into the request extensions. This example's stand-in for auth, `demo_auth`, trusts
//!   three headers: `X-User-Id` (the user; without it the request is anonymous and the other
//!   two are ignored), `X-Plan` (the tier: `free`, `pro`, `enterprise`) and `X-Roles`
//!   (comma-separated, for `exempt_roles`, which no route here uses). Never trust such
//!   headers in a real app.
//! - **API key**: the `X-API-Key` header.
//!
//! `APP_ENV`, `WAYGATE_ENV` and `WAYGATE_BACKEND` configure the engine as in the other
//! examples; logs go to stderr (`RUST_LOG`, default `info`). Counters live in memory and
//! start empty on every run. The default algorithm is `sliding_window`; `burst` adds to the
//! capacity (the Python original ignores it). The fourth algorithm, `token_bucket`, is not
//! shown, as in the original.
//!
//! Expected behaviour (limits per minute):
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /public/posts` | `200` ×10 per IP, then `429` `RATE_LIMIT_EXCEEDED` | `#[rate_limit("10/minute")]`: key `ip` |
//! | `GET /fixed` | `200` ×5 per IP, then `429` | `algorithm = fixed_window` |
//! | `GET /sliding` | `200` ×5 per IP, then `429` | `algorithm = sliding_window` (the default) |
//! | `GET /moving` | `200` ×5 per IP, then `429` | `algorithm = moving_window` |
//! | `GET /burst` | `200` ×8 per IP (`X-RateLimit-Limit: 5/minute`, `Remaining: 7` first), then `429` | `"5/minute", burst = 3` |
//! | `GET /users/me` | `200` ×100 per `X-User-Id`, then `429`; anonymous: `200` `{"user_id": "anonymous"}`, never counted, no `X-RateLimit-*` | `key = user` (missing user: exempt) |
//! | `GET /users/strict` | as `/users/me`; anonymous: `429`, `Retry-After: 0` | `on_missing_key = block` |
//! | `GET /users/fallback` | as `/users/me`; anonymous: counted per IP | `on_missing_key = fallback_ip` |
//! | `GET /data` | `200` ×50 per `X-API-Key`, then `429`; without the header: per IP | `key = api_key` |
//! | `GET /search` | `200` ×5 in all, whoever asks, then `429` for everyone | `key = global` |
//! | `GET /reports` | per `X-User-Id`: `X-Plan: free` (or none, or unknown) ×10, `pro` ×100, `enterprise` never limited (`X-RateLimit-Limit: unlimited`); anonymous: never counted | tiers, `key = user` |
//! | `GET /internal/metrics` | `200` always from 127.0.0.1, 10.0.0.0/8, 192.168.0.0/16; ×10 per IP from elsewhere | `exempt_ips = [..]` |
//! | `GET /checkout` | `503` `MAINTENANCE_MODE` every time, never `429` | `#[maintenance]` runs first; quota untouched |
//! | `GET /posts` | `200` ×10 per IP, then `429` `{"ok": false, "retry_after": N}`, `Retry-After: N` | `response = my_429` |
//! | `GET /health` | `200` `{"status": "ok"}`, always | `#[force_active]`, no limit |
//!
//! ```text
//! curl -i http://127.0.0.1:8000/public/posts                       # X-RateLimit-Remaining: 9
//! for i in $(seq 6); do curl -si http://127.0.0.1:8000/fixed | head -1; done   # 5 × 200, then 429
//! for i in $(seq 9); do curl -si http://127.0.0.1:8000/burst | head -1; done   # 8 × 200, then 429
//! curl -i -H "X-User-Id: alice" http://127.0.0.1:8000/users/me      # per-user counter
//! curl -i http://127.0.0.1:8000/users/strict                       # 429: no user
//! curl -i -H "X-API-Key: mykey" http://127.0.0.1:8000/data          # per-API-key: 50/minute
//! curl -i http://127.0.0.1:8000/search                             # global counter: 5/minute
//! curl -i -H "X-User-Id: ann" -H "X-Plan: pro" http://127.0.0.1:8000/reports
//! curl -i -H "X-User-Id: bo" -H "X-Plan: enterprise" http://127.0.0.1:8000/reports
//! curl -i http://127.0.0.1:8000/internal/metrics                   # exempt from localhost
//! curl -i http://127.0.0.1:8000/checkout                           # 503, not 429
//! for i in $(seq 11); do curl -s http://127.0.0.1:8000/posts; echo; done       # ends in {"ok":false,..}
//! ```
//!
//! The admin REST API is nested at `/waygate` (user `admin`, password `secret`), so the Python
//! `waygate` CLI changes policies at runtime, persisted to the backend:
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8000/waygate
//! waygate login admin                              # password: secret
//! waygate rl list
//! waygate rl set GET:/public/posts 20/minute       # raise the limit live
//! waygate rl reset GET:/public/posts               # clear its counters
//! waygate rl hits                                  # blocked requests
//! waygate rl delete GET:/public/posts
//! ```
//!
//! The same changes are engine calls: `engine.set_rate_limit_policy(..)`,
//! `engine.reset_rate_limit(..)`, `engine.delete_rate_limit_policy(..)`,
//! `engine.rate_limit_hits(..)`. The dashboard's rate-limit tabs and the OpenAPI docs at
//! `/docs` are not ported yet.

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::prelude::*;
use waygate::rate_limit::IpNetList;
use waygate::{Identity, RateLimited};

/// The identity `demo_auth` found, if any.
type MaybeIdentity = Option<Extension<Identity>>;

// ---------------------------------------------------------------------------------------------
// 1. Basic IP-based limiting (the default key)
// ---------------------------------------------------------------------------------------------

/// 10 requests a minute per IP address.
#[route(GET, "/public/posts")]
#[rate_limit("10/minute")]
async fn list_posts() -> Json<Value> {
    Json(json!({"posts": ["hello", "world"]}))
}

// ---------------------------------------------------------------------------------------------
// 2. Algorithms
// ---------------------------------------------------------------------------------------------

/// Fixed window: the counter resets hard when the window (opened by the key's first request)
/// ends, so up to twice the limit can pass around the boundary.
#[route(GET, "/fixed")]
#[rate_limit("5/minute", algorithm = fixed_window)]
async fn fixed_window_route() -> Json<Value> {
    Json(json!({"algorithm": "fixed_window"}))
}

/// Sliding window: the previous window's count, weighted by how much of it is still within
/// the last minute, smooths out boundary bursts. The default algorithm.
#[route(GET, "/sliding")]
#[rate_limit("5/minute", algorithm = sliding_window)]
async fn sliding_window_route() -> Json<Value> {
    Json(json!({"algorithm": "sliding_window"}))
}

/// Moving window: the strictest, it remembers every request's time.
#[route(GET, "/moving")]
#[rate_limit("5/minute", algorithm = moving_window)]
async fn moving_window_route() -> Json<Value> {
    Json(json!({"algorithm": "moving_window"}))
}

// ---------------------------------------------------------------------------------------------
// 3. Burst
// ---------------------------------------------------------------------------------------------

/// 5 a minute plus a burst of 3: 8 requests before the first `429`.
#[route(GET, "/burst")]
#[rate_limit("5/minute", burst = 3)]
async fn burst_route() -> Json<Value> {
    Json(json!({"base": "5/minute", "burst": 3}))
}

// ---------------------------------------------------------------------------------------------
// 4. Per-user limiting (the user comes from `demo_auth`)
// ---------------------------------------------------------------------------------------------

/// 100 requests a minute per user; anonymous requests pass, uncounted.
#[route(GET, "/users/me")]
#[rate_limit("100/minute", key = user)]
async fn get_current_user(identity: MaybeIdentity) -> Json<Value> {
    Json(json!({"user_id": user_id(&identity)}))
}

/// The same limit, but anonymous requests get `429`.
#[route(GET, "/users/strict")]
#[rate_limit("100/minute", key = user, on_missing_key = block)]
async fn get_user_strict(identity: MaybeIdentity) -> Json<Value> {
    Json(json!({"user_id": user_id(&identity)}))
}

/// The same limit; anonymous requests are counted per IP.
#[route(GET, "/users/fallback")]
#[rate_limit("100/minute", key = user, on_missing_key = fallback_ip)]
async fn get_user_fallback(identity: MaybeIdentity) -> Json<Value> {
    Json(json!({"user_id": user_id(&identity)}))
}

fn user_id(identity: &MaybeIdentity) -> &str {
    identity
        .as_ref()
        .and_then(|Extension(identity)| identity.user_id.as_deref())
        .unwrap_or("anonymous")
}

// ---------------------------------------------------------------------------------------------
// 5. Per-API-key limiting
// ---------------------------------------------------------------------------------------------

/// 50 requests a minute per `X-API-Key`; without the header, per IP.
#[route(GET, "/data")]
#[rate_limit("50/minute", key = api_key)]
async fn get_data(headers: HeaderMap) -> Json<Value> {
    let api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    Json(json!({"api_key": api_key, "data": [1, 2, 3]}))
}

// ---------------------------------------------------------------------------------------------
// 6. Global counter: every caller shares one bucket
// ---------------------------------------------------------------------------------------------

/// 5 requests a minute in all, whoever makes them: protects an expensive endpoint from
/// aggregate load.
#[route(GET, "/search")]
#[rate_limit("5/minute", key = global)]
async fn search() -> Json<Value> {
    Json(json!({"results": []}))
}

// ---------------------------------------------------------------------------------------------
// 7. Tiers: a rate per plan (the plan comes from `demo_auth`)
// ---------------------------------------------------------------------------------------------

/// free: 10 a minute, pro: 100, enterprise: never limited. A missing or unknown plan gets
/// the first tier, `free`.
#[route(GET, "/reports")]
#[rate_limit({ free = "10/minute", pro = "100/minute", enterprise = "unlimited" }, key = user)]
async fn get_reports(identity: MaybeIdentity) -> Json<Value> {
    let plan = identity
        .as_ref()
        .and_then(|Extension(identity)| identity.plan.as_deref())
        .unwrap_or("free");
    Json(json!({"plan": plan, "reports": []}))
}

// ---------------------------------------------------------------------------------------------
// 8. Exempt IPs: monitoring agents and internal services bypass the limit
// ---------------------------------------------------------------------------------------------

/// 10 requests a minute, except from localhost and the RFC 1918 ranges.
#[route(GET, "/internal/metrics")]
#[rate_limit("10/minute", exempt_ips = ["127.0.0.1", "10.0.0.0/8", "192.168.0.0/16"])]
async fn internal_metrics() -> Json<Value> {
    Json(json!({"metrics": {"requests": 42}}))
}

// ---------------------------------------------------------------------------------------------
// 9. Maintenance before the rate limit: quota is never consumed
// ---------------------------------------------------------------------------------------------

/// `503` while in maintenance, however often it is called; once enabled, the full quota of
/// 20 a minute is there.
#[route(GET, "/checkout")]
#[maintenance(reason = "Payment processor upgrade — back in 30 minutes")]
#[rate_limit("20/minute")]
async fn checkout() -> Json<Value> {
    Json(json!({"checkout": "ok"}))
}

// ---------------------------------------------------------------------------------------------
// 10. A custom 429
// ---------------------------------------------------------------------------------------------

/// The route's own response for a refused request.
fn my_429(limited: RateLimited) -> impl IntoResponse {
    let seconds = limited.retry_after_seconds;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds.to_string())],
        Json(json!({"ok": false, "retry_after": seconds})),
    )
}

/// 10 requests a minute per IP, refused with `my_429`.
#[route(GET, "/posts")]
#[rate_limit("10/minute", response = my_429)]
async fn list_posts_custom() -> Json<Value> {
    Json(json!({"posts": []}))
}

/// Always 200: use it to check that the server is up.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

// ---------------------------------------------------------------------------------------------
// A stand-in for authentication
// ---------------------------------------------------------------------------------------------

/// Puts an [`Identity`] into the request from `X-User-Id`, `X-Plan` and `X-Roles`; a real app
/// would read a verified session or token here.
async fn demo_auth(mut request: Request, next: Next) -> Response {
    if let Some(identity) = identity_from(request.headers()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

fn identity_from(headers: &HeaderMap) -> Option<Identity> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let mut identity = Identity::user(get("x-user-id")?);
    if let Some(plan) = get("x-plan") {
        identity = identity.plan(plan);
    }
    if let Some(roles) = get("x-roles") {
        identity = identity.roles(roles.split(',').map(str::trim).filter(|r| !r.is_empty()));
    }
    Some(identity)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let mut engine = engine_builder();
    if let Some(proxies) = trusted_proxies()? {
        engine = engine.trusted_proxies(proxies);
    }
    let engine = engine.build_from_env()?;
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    // The admin REST API under `/waygate` (admin / secret): `waygate rl ...` from the CLI.
    let admin = WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret"));

    // Layers run outside-in from the last one added: `demo_auth` first, so that the
    // `Identity` is in place when `WaygateLayer` applies the limits. Both go on after the
    // routes, so that they see which route each request matched.
    let app = admin
        .nest_in(
            Router::new().merge(routes![
                list_posts,
                fixed_window_route,
                sliding_window_route,
                moving_window_route,
                burst_route,
                get_current_user,
                get_user_strict,
                get_user_fallback,
                get_data,
                search,
                get_reports,
                internal_metrics,
                checkout,
                list_posts_custom,
                health
            ]),
            "/waygate",
        )
        .layer(WaygateLayer::new(engine.clone()))
        .layer(middleware::from_fn(demo_auth));

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // `ConnectInfo` gives the rate limiter each request's peer address.
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}

/// `TRUSTED_PROXIES`: comma-separated IPs or CIDRs, if set.
fn trusted_proxies() -> Result<Option<IpNetList>, String> {
    let Ok(list) = std::env::var("TRUSTED_PROXIES") else {
        return Ok(None);
    };
    let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
    IpNetList::parse(entries)
        .map(Some)
        .map_err(|error| format!("TRUSTED_PROXIES={list:?}: {error}"))
}
