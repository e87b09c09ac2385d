//! Rate limiting through the layer and the gate: every key strategy, tiers, exemptions,
//! trusted proxies, runtime policy changes, the hit log and the 429 contract.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use tower::ServiceExt;
use waygate::prelude::*;
use waygate::rate_limit::{Algorithm, IpNetList, KeyStrategy};
use waygate::{HitQuery, Identity, PolicyChange, RateLimited};

#[route(GET, "/posts")]
#[rate_limit("2/minute")]
async fn posts() -> &'static str {
    "posts"
}

#[route(GET, "/search")]
#[rate_limit("2/minute", key = global)]
async fn search() -> &'static str {
    "search"
}

#[route(GET, "/me")]
#[rate_limit("2/minute", key = user)]
async fn me() -> &'static str {
    "me"
}

#[route(GET, "/strict")]
#[rate_limit("2/minute", key = user, on_missing_key = block)]
async fn strict() -> &'static str {
    "strict"
}

#[route(GET, "/fallback")]
#[rate_limit("1/minute", key = user, on_missing_key = fallback_ip)]
async fn fallback() -> &'static str {
    "fallback"
}

#[route(GET, "/data")]
#[rate_limit("1/minute", key = api_key)]
async fn data() -> &'static str {
    "data"
}

#[route(GET, "/reports")]
#[rate_limit({ free = "1/minute", pro = "3/minute", enterprise = "unlimited" }, key = user)]
async fn reports() -> &'static str {
    "reports"
}

#[route(GET, "/metrics")]
#[rate_limit("1/minute", exempt_ips = ["10.0.0.0/8"], exempt_roles = ["ops"])]
async fn metrics() -> &'static str {
    "metrics"
}

#[route(GET, "/burst")]
#[rate_limit("2/minute", burst = 1)]
async fn burst() -> &'static str {
    "burst"
}

#[route(GET, "/checkout")]
#[maintenance(reason = "upgrade")]
#[rate_limit("1/minute")]
async fn checkout() -> &'static str {
    "checkout"
}

fn tenant(parts: &http::request::Parts) -> Option<String> {
    parts
        .headers
        .get("x-tenant")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[route(GET, "/tenant")]
#[rate_limit("1/minute", key = custom(tenant))]
async fn by_tenant() -> &'static str {
    "tenant"
}

fn my_429(limited: RateLimited) -> impl axum::response::IntoResponse {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", limited.retry_after_seconds.to_string())],
        axum::Json(serde_json::json!({"ok": false, "retry_after": limited.retry_after_seconds})),
    )
}

#[route(GET, "/custom")]
#[rate_limit("1/minute", response = my_429)]
async fn custom() -> &'static str {
    "custom"
}

#[route(GET, "/gated")]
#[rate_limit("1/minute")]
async fn gated(gate: Gate) -> (Gate, &'static str) {
    (gate, "gated")
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![
            posts, search, me, strict, fallback, data, reports, metrics, burst, checkout,
            by_tenant, custom
        ])
        .layer(WaygateLayer::new(engine.clone()))
}

/// A request from `peer`, with optional headers and identity.
struct Call {
    uri: &'static str,
    peer: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    identity: Option<Identity>,
}

fn call(uri: &'static str) -> Call {
    Call {
        uri,
        peer: "203.0.113.7:5000",
        headers: Vec::new(),
        identity: None,
    }
}

impl Call {
    fn from(mut self, peer: &'static str) -> Self {
        self.peer = peer;
        self
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    async fn send(self, app: &Router) -> common::Reply {
        let mut request = Request::get(self.uri);
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        let peer: SocketAddr = self.peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(identity) = self.identity {
            request.extensions_mut().insert(identity);
        }
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        common::Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

async fn statuses(app: &Router, n: usize, make: impl Fn() -> Call) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(make().send(app).await.status.as_u16());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn ip_limit_blocks_with_the_upstream_429() {
    let engine = Engine::new();
    let app = app(&engine);
    let first = call("/posts").send(&app).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2/minute"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let reset: i64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > engine.now().timestamp());
    assert_eq!(
        call("/posts")
            .send(&app)
            .await
            .header("x-ratelimit-remaining"),
        Some("0")
    );

    let blocked = call("/posts").send(&app).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let error = &blocked.json()["error"];
    assert_eq!(error["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(error["message"], "Too many requests");
    assert_eq!(error["limit"], "2/minute");
    assert_eq!(error["path"], "/posts");
    let retry = error["retry_after_seconds"].as_u64().unwrap();
    assert!(retry > 0 && retry <= 60, "{retry}");
    assert!(error["reset_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(
        blocked.header("retry-after"),
        Some(retry.to_string().as_str())
    );
    assert_eq!(blocked.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(blocked.header("x-ratelimit-limit"), Some("2/minute"));

    // Another client has its own counter.
    assert_eq!(
        call("/posts")
            .from("198.51.100.1:1")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(start_paused = true)]
async fn global_key_shares_one_counter() {
    let app = app(&Engine::new());
    assert_eq!(
        call("/search")
            .from("198.51.100.1:1")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call("/search")
            .from("198.51.100.2:1")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    let third = call("/search").from("198.51.100.3:1").send(&app).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(start_paused = true)]
async fn user_key_and_each_on_missing_key() {
    let app = app(&Engine::new());
    let alice = || call("/me").identity(Identity::user("alice"));
    assert_eq!(statuses(&app, 3, alice).await, [200, 200, 429]);
    assert_eq!(
        call("/me")
            .identity(Identity::user("bob"))
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    // Missing user: exempt by default, never counted.
    assert_eq!(statuses(&app, 5, || call("/me")).await, [200; 5]);
    // on_missing_key = block
    let reply = call("/strict").send(&app).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("0"));
    // on_missing_key = fallback_ip: counted per IP.
    assert_eq!(statuses(&app, 2, || call("/fallback")).await, [200, 429]);
    assert_eq!(
        call("/fallback")
            .from("198.51.100.9:1")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(start_paused = true)]
async fn api_key_and_its_ip_fallback() {
    let app = app(&Engine::new());
    let keyed = || call("/data").header("x-api-key", "k1");
    assert_eq!(statuses(&app, 2, keyed).await, [200, 429]);
    assert_eq!(
        call("/data")
            .header("x-api-key", "k2")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    // No key: falls back to the IP.
    assert_eq!(
        statuses(&app, 2, || call("/data").from("198.51.100.5:1")).await,
        [200, 429]
    );
}

#[tokio::test(start_paused = true)]
async fn custom_key_function() {
    let app = app(&Engine::new());
    assert_eq!(
        statuses(&app, 2, || call("/tenant").header("x-tenant", "a")).await,
        [200, 429]
    );
    assert_eq!(
        call("/tenant")
            .header("x-tenant", "b")
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    // No tenant: missing key, exempt by default for custom keys.
    assert_eq!(statuses(&app, 3, || call("/tenant")).await, [200; 3]);
}

#[tokio::test(start_paused = true)]
async fn tiers_pick_the_plan_and_unknown_plans_get_the_first() {
    let app = app(&Engine::new());
    let free = || call("/reports").identity(Identity::user("u1").plan("free"));
    assert_eq!(statuses(&app, 2, free).await, [200, 429]);
    let pro = || call("/reports").identity(Identity::user("u2").plan("pro"));
    assert_eq!(statuses(&app, 4, pro).await, [200, 200, 200, 429]);
    let enterprise = || call("/reports").identity(Identity::user("u3").plan("enterprise"));
    assert_eq!(statuses(&app, 10, enterprise).await, [200; 10]);
    let reply = enterprise().send(&app).await;
    assert_eq!(reply.header("x-ratelimit-limit"), Some("unlimited"));
    let unknown = || call("/reports").identity(Identity::user("u4").plan("platinum"));
    assert_eq!(statuses(&app, 2, unknown).await, [200, 429]);
}

#[tokio::test(start_paused = true)]
async fn exempt_ips_and_roles_are_never_counted() {
    let app = app(&Engine::new());
    assert_eq!(
        statuses(&app, 5, || call("/metrics").from("10.1.2.3:80")).await,
        [200; 5]
    );
    let ops = || call("/metrics").identity(Identity::user("x").roles(["ops"]));
    assert_eq!(statuses(&app, 5, ops).await, [200; 5]);
    assert_eq!(statuses(&app, 2, || call("/metrics")).await, [200, 429]);
}

#[tokio::test(start_paused = true)]
async fn burst_adds_capacity() {
    let app = app(&Engine::new());
    assert_eq!(
        statuses(&app, 4, || call("/burst")).await,
        [200, 200, 200, 429]
    );
}

#[tokio::test(start_paused = true)]
async fn blocked_routes_never_consume_quota() {
    let engine = Engine::new();
    let app = app(&engine);
    assert_eq!(statuses(&app, 5, || call("/checkout")).await, [503; 5]);
    engine.enable("GET:/checkout", "ops").await.unwrap();
    assert_eq!(statuses(&app, 2, || call("/checkout")).await, [200, 429]);
}

#[tokio::test(start_paused = true)]
async fn window_expiry_restores_the_quota() {
    let app = app(&Engine::new());
    assert_eq!(statuses(&app, 3, || call("/posts")).await, [200, 200, 429]);
    tokio::time::advance(std::time::Duration::from_secs(121)).await;
    assert_eq!(call("/posts").send(&app).await.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn spoofed_forwarded_for_is_ignored_unless_the_peer_is_trusted() {
    let untrusted = app(&Engine::new());
    let spoofed = |ip: &'static str| call("/posts").header("x-forwarded-for", ip);
    assert_eq!(
        spoofed("1.1.1.1").send(&untrusted).await.status,
        StatusCode::OK
    );
    assert_eq!(
        spoofed("2.2.2.2").send(&untrusted).await.status,
        StatusCode::OK
    );
    assert_eq!(
        spoofed("3.3.3.3").send(&untrusted).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "one peer, one counter, whatever the header says"
    );

    let proxies = IpNetList::parse(["10.0.0.0/8"]).unwrap();
    let engine = Engine::builder().trusted_proxies(proxies).build();
    let trusted = app(&engine);
    let via_proxy = |ip: &'static str| {
        call("/posts")
            .from("10.0.0.2:443")
            .header("x-forwarded-for", ip)
    };
    assert_eq!(
        statuses(&trusted, 2, || via_proxy("1.1.1.1")).await,
        [200, 200]
    );
    assert_eq!(
        via_proxy("1.1.1.1").send(&trusted).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        via_proxy("2.2.2.2, 10.0.0.9").send(&trusted).await.status,
        StatusCode::OK
    );
}

#[tokio::test(start_paused = true)]
async fn custom_429_factory_per_route_and_layer_default() {
    let engine = Engine::new();
    let app = app(&engine);
    call("/custom").send(&app).await;
    let reply = call("/custom").send(&app).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.json()["ok"], false);
    let retry = reply.json()["retry_after"].as_u64().unwrap();
    assert_eq!(
        reply.header("retry-after"),
        Some(retry.to_string().as_str())
    );

    let with_default =
        Router::new()
            .merge(routes![posts])
            .layer(WaygateLayer::new(engine.clone()).responses(
                waygate::Responses::new().rate_limited(|l: RateLimited| async move {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        format!("slow down: {}", l.limit),
                    )
                }),
            ));
    let replies = [
        call("/posts")
            .from("198.51.100.77:1")
            .send(&with_default)
            .await,
        call("/posts")
            .from("198.51.100.77:1")
            .send(&with_default)
            .await,
        call("/posts")
            .from("198.51.100.77:1")
            .send(&with_default)
            .await,
    ];
    assert_eq!(replies[2].body, "slow down: 2/minute");
}

#[tokio::test(start_paused = true)]
async fn runtime_policy_set_reset_delete_and_audit() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let app = app(&engine);
    assert_eq!(statuses(&app, 3, || call("/posts")).await, [200, 200, 429]);

    let policy = engine
        .set_rate_limit_policy(
            "GET:/posts",
            "4/minute",
            PolicyChange::new().algorithm(Algorithm::FixedWindow),
            "alice",
        )
        .await
        .unwrap();
    assert_eq!(
        (policy.limit.as_str(), policy.algorithm),
        ("4/minute", Algorithm::FixedWindow)
    );
    assert_eq!(
        statuses(&app, 5, || call("/posts")).await,
        [200, 200, 200, 200, 429],
        "fresh counters"
    );

    engine
        .reset_rate_limit("GET:/posts", "alice")
        .await
        .unwrap();
    assert_eq!(call("/posts").send(&app).await.status, StatusCode::OK);
    assert_eq!(
        call("/search").send(&app).await.status,
        StatusCode::OK,
        "other routes untouched"
    );

    engine
        .delete_rate_limit_policy("GET:/posts", "alice")
        .await
        .unwrap();
    assert_eq!(statuses(&app, 6, || call("/posts")).await, [200; 6]);
    assert!(engine
        .rate_limit_policies()
        .iter()
        .all(|p| p.path != "/posts"));

    let log = engine
        .audit_log(&waygate::AuditQuery::latest(10).route("GET:/posts"))
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["rl_policy_deleted", "rl_reset", "rl_policy_updated"]
    );
    assert_eq!(log[2].reason, "4/minute \u{b7} fixed_window \u{b7} ip");

    let error = engine
        .set_rate_limit_policy("GET:/posts", "ten a minute", PolicyChange::new(), "alice")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("100/minute"), "{error}");
    let error = engine
        .set_rate_limit_policy("GET:/nowhere", "1/minute", PolicyChange::new(), "alice")
        .await
        .unwrap_err();
    assert!(matches!(error, waygate::EngineError::NotFound { .. }));
}

#[tokio::test(start_paused = true)]
async fn persisted_policies_win_over_attributes_on_restart() {
    let backend: std::sync::Arc<dyn waygate::backend::Backend> =
        std::sync::Arc::new(waygate::backend::MemoryBackend::new());
    let first = Engine::builder().shared_backend(backend.clone()).build();
    first.start().await.unwrap();
    first
        .set_rate_limit_policy(
            "GET:/posts",
            "5/minute",
            PolicyChange::new().key_strategy(KeyStrategy::Global),
            "ops",
        )
        .await
        .unwrap();
    first.shutdown().await;

    let second = Engine::builder().shared_backend(backend).build();
    second.start().await.unwrap();
    let policy = second
        .rate_limit_policies()
        .into_iter()
        .find(|p| p.path == "/posts")
        .unwrap();
    assert_eq!(
        (policy.limit.as_str(), policy.key_strategy),
        ("5/minute", KeyStrategy::Global)
    );
}

#[tokio::test(start_paused = true)]
async fn hits_are_logged_newest_first_and_filtered_by_route() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let app = app(&engine);
    statuses(&app, 3, || call("/posts")).await;
    statuses(&app, 3, || call("/search")).await;
    let hits = engine.rate_limit_hits(&HitQuery::latest(10)).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].path, "/search", "newest first");
    assert_eq!(hits[1].path, "/posts");
    assert_eq!(hits[1].method, "GET");
    assert_eq!(hits[1].limit, "2/minute");
    assert_eq!(hits[1].key, "waygate:ratelimit:GET:/posts:203.0.113.7");
    let posts = engine
        .rate_limit_hits(&HitQuery::latest(10).route("/posts"))
        .await
        .unwrap();
    assert_eq!(posts.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn global_policy_applies_to_every_route_but_exempt_ones() {
    let engine = Engine::new();
    let app = app(&engine);
    let mut policy = waygate::rate_limit::GlobalRateLimitPolicy::new("3/minute");
    policy.exempt_routes = vec!["/search".into()];
    engine.set_global_rate_limit(policy, "ops").await.unwrap();
    assert_eq!(call("/me").send(&app).await.status, StatusCode::OK);
    assert_eq!(call("/data").send(&app).await.status, StatusCode::OK);
    assert_eq!(call("/tenant").send(&app).await.status, StatusCode::OK);
    assert_eq!(
        call("/me").send(&app).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call("/search").send(&app).await.status,
        StatusCode::OK,
        "exempt"
    );

    engine
        .set_global_rate_limit_enabled(false, "ops")
        .await
        .unwrap();
    assert_eq!(call("/me").send(&app).await.status, StatusCode::OK);
    engine.delete_global_rate_limit("ops").await.unwrap();
    assert!(engine.global_rate_limit().is_none());
}

#[tokio::test(start_paused = true)]
async fn the_gate_shares_the_layers_counter() {
    let engine = Engine::new();
    let gate_only: Router = Router::new()
        .merge(routes![gated])
        .with_state(engine.clone());
    let layered: Router = Router::new()
        .merge(routes![gated])
        .with_state(engine.clone())
        .layer(WaygateLayer::new(engine.clone()));
    assert_eq!(
        call("/gated")
            .from("198.51.100.40:1")
            .send(&layered)
            .await
            .status,
        StatusCode::OK,
        "with both the layer and the gate, a request is counted once"
    );
    let first = call("/gated").send(&gate_only).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        call("/gated").send(&gate_only).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call("/gated").send(&layered).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn service_policy_limits_the_routes_of_that_service() {
    let backend: std::sync::Arc<dyn waygate::backend::Backend> =
        std::sync::Arc::new(waygate::backend::MemoryBackend::new());
    let mut state = waygate::RouteState::active("GET:/search");
    state.service = Some("pay".into());
    backend.set_state(&state).await.unwrap();
    let engine = Engine::builder().shared_backend(backend).build();
    engine.start().await.unwrap();
    let app = app(&engine);

    let policy = waygate::rate_limit::GlobalRateLimitPolicy::new("1/minute");
    engine
        .set_service_rate_limit("pay", policy, "ops")
        .await
        .unwrap();
    assert_eq!(engine.service_rate_limit("pay").unwrap().limit, "1/minute");
    assert_eq!(statuses(&app, 2, || call("/search")).await, [200, 429]);
    assert_eq!(
        statuses(&app, 2, || call("/posts")).await,
        [200, 200],
        "other services untouched"
    );

    engine
        .set_service_rate_limit_enabled("pay", false, "ops")
        .await
        .unwrap();
    assert_eq!(call("/search").send(&app).await.status, StatusCode::OK);
    engine
        .delete_service_rate_limit("pay", "ops")
        .await
        .unwrap();
    assert!(engine.service_rate_limit("pay").is_none());
    let log = engine
        .audit_log(&waygate::AuditQuery::latest(5).route("__waygate:svc_rl:pay__"))
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["svc_rl_deleted", "svc_rl_disabled", "svc_rl_set"]);
}

#[cfg(feature = "file")]
#[tokio::test]
async fn policies_survive_a_restart_on_the_file_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let open = || waygate::backend::FileBackend::open(&path).unwrap();
    let first = Engine::builder().backend(open()).build();
    first.start().await.unwrap();
    first
        .set_rate_limit_policy("GET:/posts", "7/hour", PolicyChange::new().burst(2), "ops")
        .await
        .unwrap();
    let mut global = waygate::rate_limit::GlobalRateLimitPolicy::new("100/minute");
    global.exempt_routes = vec!["/search".into()];
    first
        .set_global_rate_limit(global.clone(), "ops")
        .await
        .unwrap();
    first.shutdown().await;

    let second = Engine::builder().backend(open()).build();
    second.start().await.unwrap();
    let posts = second
        .rate_limit_policies()
        .into_iter()
        .find(|p| p.path == "/posts")
        .unwrap();
    assert_eq!((posts.limit.as_str(), posts.burst), ("7/hour", 2));
    assert_eq!(second.global_rate_limit(), Some(global));
    second.shutdown().await;
}
