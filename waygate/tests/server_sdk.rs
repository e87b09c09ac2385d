//! A Waygate Server and services attached to it with `WaygateSdk`, over real HTTP on
//! loopback: what is set on the server is enforced by the services (also what was set
//! before they connected), a restarted server gets the routes again, a service keeps
//! serving while the server is down, and service tokens stay inside their service.

use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use waygate::admin::Auth;
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::rate_limit::GlobalRateLimitPolicy;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;
use waygate::{Actor, RouteStatus};

const APP: &str = "payments-service";

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/api/payments")]
#[maintenance(reason = "Payment processor upgrade")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/api/orders")]
async fn orders() -> &'static str {
    "orders"
}

#[route(GET, "/api/legacy")]
#[disabled(reason = "use /api/orders")]
async fn legacy() -> &'static str {
    "legacy"
}

/// How long anything below may take to propagate before the test fails. Generous: the
/// tests wait for the change, they do not time it.
const PATIENCE: Duration = Duration::from_secs(15);

/// A running server: its address, and how to stop it.
struct Running {
    url: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops it (gracefully: the SDK streams end) and waits until it is gone.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("the server shuts down while SDK streams are open")
            .unwrap()
            .unwrap();
    }
}

async fn serve_server(server: WaygateServer, addr: &str) -> Running {
    let listener = TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        url: format!("http://{addr}"),
        addr,
        stop: Some(stop),
        task,
    }
}

fn server_on(backend: Arc<dyn Backend>, auth: bool) -> WaygateServer {
    let server = WaygateServer::with_shared_backend(backend).secret_key("test-secret");
    match auth {
        true => server.auth(Auth::single("admin", "secret")),
        false => server,
    }
}

/// A service attached to the server at `url`, serving on loopback.
struct Service {
    sdk: WaygateSdk,
    url: String,
}

async fn service(server_url: &str, login: bool) -> Service {
    let mut builder = WaygateSdk::builder(server_url, APP)
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400));
    if login {
        builder = builder.login("admin", "secret");
    }
    let sdk = builder.build().unwrap();
    sdk.start().await.unwrap();
    let app: Router = Router::new()
        .merge(routes![health, payments, orders, legacy])
        .layer(WaygateLayer::new(sdk.engine().clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Service { sdk, url }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn status(url: &str) -> StatusCode {
    client().get(url).send().await.unwrap().status()
}

/// Waits until `GET url` answers `want`.
async fn until_status(url: &str, want: StatusCode) {
    eventually(&format!("GET {url} answers {want}"), || async move {
        status(url).await == want
    })
    .await;
}

/// Polls `check` until it holds, failing after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A user's (`cli`) token.
async fn user_token(server: &str) -> String {
    login(server, json!({"username": "admin", "password": "secret"})).await
}

async fn login(server: &str, body: Value) -> String {
    let reply: Value = client()
        .post(format!("{server}/api/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["token"].as_str().unwrap().to_owned()
}

fn b64u(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_registers_and_enforces_what_the_server_sets() {
    let server = serve_server(
        server_on(Arc::new(MemoryBackend::new()), true),
        "127.0.0.1:0",
    )
    .await;
    let svc = service(&server.url, true).await;

    // Declared states, registered under the service's namespace.
    until_status(
        &format!("{}/api/payments", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(
        status(&format!("{}/api/orders", svc.url)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&format!("{}/api/legacy", svc.url)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let token = user_token(&server.url).await;
    let listed: Vec<Value> = client()
        .get(format!("{}/api/routes?service={APP}", server.url))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.iter().filter_map(|s| s["path"].as_str()).collect();
    for key in [
        "GET:/health",
        "GET:/api/payments",
        "GET:/api/orders",
        "GET:/api/legacy",
    ] {
        assert!(
            keys.contains(&format!("{APP}:{key}").as_str()),
            "{key} registered: {keys:?}"
        );
    }
    let services: Value = client()
        .get(format!("{}/api/services", server.url))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(services, json!([APP]));

    // A route change on the server.
    let admin = |path: String| {
        client()
            .post(format!("{}{path}", server.url))
            .header("x-waygate-token", &token)
    };
    let enabled = admin(format!(
        "/api/routes/{}/enable",
        b64u(&format!("{APP}:GET:/api/payments"))
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(enabled.status(), StatusCode::OK);
    until_status(&format!("{}/api/payments", svc.url), StatusCode::OK).await;
    // A bare path with the service prefix resolves to the single route.
    let disabled = admin(format!(
        "/api/routes/{}/disable",
        b64u(&format!("{APP}:/api/orders"))
    ))
    .json(&json!({"reason": "hotfix"}))
    .send()
    .await
    .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    until_status(
        &format!("{}/api/orders", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let body: Value = client()
        .get(format!("{}/api/orders", svc.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], "ROUTE_DISABLED");
    assert_eq!(body["error"]["reason"], "hotfix");

    // Global maintenance, exempting /health.
    let global = admin("/api/global/enable".into())
        .json(&json!({"reason": "deploy", "exempt_paths": ["/health"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(global.status(), StatusCode::OK);
    until_status(
        &format!("{}/api/payments", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(status(&format!("{}/health", svc.url)).await, StatusCode::OK);
    admin("/api/global/disable".into()).send().await.unwrap();
    until_status(&format!("{}/api/payments", svc.url), StatusCode::OK).await;

    // A per-route rate limit on one of the service's routes.
    let set = admin("/api/rate-limits".into())
        .json(
            &json!({"path": format!("{APP}:/api/payments"), "method": "GET", "limit": "2/minute"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::CREATED, "{:?}", set.text().await);
    let url = format!("{}/api/payments", svc.url);
    eventually("the route's limit is enforced", || {
        let url = url.clone();
        async move { status(&url).await == StatusCode::TOO_MANY_REQUESTS }
    })
    .await;

    // A change made in the service goes to the server, and comes back.
    svc.sdk
        .engine()
        .enable("GET:/api/orders", Actor::new("in-service"))
        .await
        .unwrap();
    let on_server = server_state(&server.url, &token, &format!("{APP}:GET:/api/orders")).await;
    assert_eq!(on_server["status"], "active");
    until_status(&format!("{}/api/orders", svc.url), StatusCode::OK).await;

    svc.sdk.shutdown().await;
    server.stop().await;
}

async fn server_state(server: &str, token: &str, key: &str) -> Value {
    client()
        .get(format!("{server}/api/routes/{}", b64u(key)))
        .header("x-waygate-token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_set_before_a_service_connected_applies_at_once() {
    let running = server_on(Arc::new(MemoryBackend::new()), false);
    let engine = running.engine().clone();
    let server = serve_server(running, "127.0.0.1:0").await;
    engine
        .enable_service_maintenance(
            APP,
            "migration",
            vec!["/health".into()],
            false,
            Actor::new("op"),
        )
        .await
        .unwrap();
    let mut global = GlobalRateLimitPolicy::new("3/minute");
    global.exempt_routes = vec!["/health".into()];
    engine
        .set_global_rate_limit(global, Actor::new("op"))
        .await
        .unwrap();

    let svc = service(&server.url, false).await;
    // `start` returned after the first synchronisation: enforced from the first request.
    assert_eq!(
        status(&format!("{}/api/orders", svc.url)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status(&format!("{}/health", svc.url)).await, StatusCode::OK);

    engine
        .disable_service_maintenance(APP, Actor::new("op"))
        .await
        .unwrap();
    until_status(&format!("{}/api/orders", svc.url), StatusCode::OK).await;
    // Blocked requests spent nothing; the one that passed spent one of 3/minute: two more
    // fit, then 429.
    let url = format!("{}/api/orders", svc.url);
    assert_eq!(status(&url).await, StatusCode::OK);
    assert_eq!(status(&url).await, StatusCode::OK);
    assert_eq!(status(&url).await, StatusCode::TOO_MANY_REQUESTS);

    // A per-service limit and a per-route limit, set while a second instance is not yet
    // attached: it enforces both from the start.
    engine
        .delete_global_rate_limit(Actor::new("op"))
        .await
        .unwrap();
    engine
        .set_service_rate_limit(
            APP,
            GlobalRateLimitPolicy::new("100/minute"),
            Actor::new("op"),
        )
        .await
        .unwrap();
    engine
        .set_rate_limit_policy(
            &format!("{APP}:GET:/api/legacy"),
            "1/minute",
            Default::default(),
            Actor::new("op"),
        )
        .await
        .unwrap();
    engine
        .enable(&format!("{APP}:GET:/api/legacy"), Actor::new("op"))
        .await
        .unwrap();
    let second = service(&server.url, false).await;
    let policies = second.sdk.engine().rate_limit_policies();
    assert!(
        policies
            .iter()
            .any(|p| p.path == "/api/legacy" && p.method == "GET" && p.limit == "1/minute"),
        "{policies:?}"
    );
    assert_eq!(
        second.sdk.engine().service_rate_limit(APP).map(|p| p.limit),
        Some("100/minute".to_owned())
    );
    assert_eq!(second.sdk.engine().global_rate_limit(), None);
    let legacy = format!("{}/api/legacy", second.url);
    assert_eq!(status(&legacy).await, StatusCode::OK);
    assert_eq!(status(&legacy).await, StatusCode::TOO_MANY_REQUESTS);
    // The first instance follows the same changes over its stream.
    eventually("the first instance drops the global limit", || {
        let engine = svc.sdk.engine().clone();
        async move { engine.global_rate_limit().is_none() && engine.rate_limit_policies().len() == 1 }
    })
    .await;

    svc.sdk.shutdown().await;
    second.sdk.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_gets_the_routes_again_and_the_cache_is_replaced() {
    let first = serve_server(
        server_on(Arc::new(MemoryBackend::new()), true),
        "127.0.0.1:0",
    )
    .await;
    let addr = first.addr;
    let svc = service(&first.url, true).await;
    let token = user_token(&first.url).await;
    client()
        .post(format!(
            "{}/api/routes/{}/disable",
            first.url,
            b64u(&format!("{APP}:GET:/api/orders"))
        ))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap();
    until_status(
        &format!("{}/api/orders", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let mut syncs = svc.sdk.backend().synchronisations();
    let before = *syncs.borrow_and_update();
    first.stop().await;

    // A new server on the same address, empty, with another signing secret: the service
    // logs in again, registers its routes again, and drops what the old server had said.
    let fresh = WaygateServer::new(MemoryBackend::new())
        .auth(Auth::single("admin", "secret"))
        .secret_key("another-secret");
    let second = serve_server(fresh, &addr.to_string()).await;
    tokio::time::timeout(PATIENCE, syncs.wait_for(|n| *n > before))
        .await
        .expect("the service synchronises with the new server")
        .unwrap();
    until_status(&format!("{}/api/orders", svc.url), StatusCode::OK).await;
    let token = user_token(&second.url).await;
    let listed: Vec<Value> = client()
        .get(format!("{}/api/routes?service={APP}", second.url))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 4, "every route registered again: {listed:?}");
    let payments = server_state(&second.url, &token, &format!("{APP}:GET:/api/payments")).await;
    assert_eq!(
        payments["status"], "maintenance",
        "registered with its declared state"
    );

    svc.sdk.shutdown().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_keeps_serving_while_the_server_is_down_and_resyncs() {
    // The backend outlives the server process (as a file or Redis would).
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let first = serve_server(server_on(backend.clone(), false), "127.0.0.1:0").await;
    let addr = first.addr;
    let svc = service(&first.url, false).await;
    let orders = format!("{}/api/orders", svc.url);
    client()
        .post(format!(
            "{}/api/routes/{}/disable",
            first.url,
            b64u(&format!("{APP}:GET:/api/orders"))
        ))
        .send()
        .await
        .unwrap();
    until_status(&orders, StatusCode::SERVICE_UNAVAILABLE).await;
    first.stop().await;
    eventually("the service sees the server gone", || {
        let connected = svc.sdk.backend().is_connected();
        async move { !connected }
    })
    .await;

    // A load loop while the server is down: every request answered from the last snapshot.
    let expected = [
        ("/health", StatusCode::OK),
        ("/api/payments", StatusCode::SERVICE_UNAVAILABLE),
        ("/api/orders", StatusCode::SERVICE_UNAVAILABLE),
        ("/api/legacy", StatusCode::SERVICE_UNAVAILABLE),
    ];
    let http = client();
    let mut failed = 0;
    for round in 0..250 {
        let (path, want) = expected[round % expected.len()];
        match http.get(format!("{}{path}", svc.url)).send().await {
            Ok(reply) if reply.status() == want => {}
            _ => failed += 1,
        }
    }
    assert_eq!(failed, 0, "requests failed while the server was down");

    // The server comes back on the same backend; a change made meanwhile is picked up by
    // the resync, without any event.
    let mut syncs = svc.sdk.backend().synchronisations();
    let before = *syncs.borrow_and_update();
    let again = server_on(backend.clone(), false);
    again.engine().start().await.unwrap();
    again
        .engine()
        .enable(&format!("{APP}:GET:/api/orders"), Actor::new("op"))
        .await
        .unwrap();
    let second = serve_server(again, &addr.to_string()).await;
    tokio::time::timeout(PATIENCE, syncs.wait_for(|n| *n > before))
        .await
        .expect("the service synchronises when the server is back")
        .unwrap();
    // The synchronisation brought it (the engine rebuilds its snapshot right after).
    until_status(&orders, StatusCode::OK).await;

    svc.sdk.shutdown().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_tokens_stay_inside_their_service() {
    let running = server_on(Arc::new(MemoryBackend::new()), true);
    let engine = running.engine().clone();
    let server = serve_server(running, "127.0.0.1:0").await;
    let svc = service(&server.url, true).await;
    engine
        .register_states(vec![{
            let mut state = waygate::RouteState::active("orders-service:GET:/api/cart");
            state.service = Some("orders-service".into());
            state
        }])
        .await
        .unwrap();
    let http = client();

    // No token: the SDK endpoints answer 401.
    let events = http
        .get(format!("{}/api/sdk/events", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::UNAUTHORIZED);
    let register = http
        .post(format!("{}/api/sdk/register", server.url))
        .json(&json!({"app_id": APP, "states": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::UNAUTHORIZED);

    let token = login(
        &server.url,
        json!({"username": "admin", "password": "secret", "platform": "sdk", "app_id": APP}),
    )
    .await;
    let with = |request: reqwest::RequestBuilder| request.header("x-waygate-token", &token);
    // Not the dashboard.
    let dashboard = with(http.get(format!("{}/", server.url)))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::FORBIDDEN);
    // Not another service's routes, nor global settings.
    let other = with(http.post(format!(
        "{}/api/routes/{}/disable",
        server.url,
        b64u("orders-service:GET:/api/cart")
    )))
    .send()
    .await
    .unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let register_other = with(http.post(format!("{}/api/sdk/register", server.url)))
        .json(&json!({"app_id": "orders-service", "states": [{"path": "orders-service:GET:/x", "service": "orders-service"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register_other.status(), StatusCode::FORBIDDEN);
    let stream_other = with(http.get(format!("{}/api/sdk/events", server.url)))
        .header("x-waygate-app-id", "orders-service")
        .send()
        .await
        .unwrap();
    assert_eq!(stream_other.status(), StatusCode::FORBIDDEN);
    let global = with(http.post(format!("{}/api/global/enable", server.url)))
        .send()
        .await
        .unwrap();
    assert_eq!(global.status(), StatusCode::FORBIDDEN);
    // Registering foreign keys under its own app id stores nothing foreign.
    let sneaky = with(http.post(format!("{}/api/sdk/register", server.url)))
        .json(&json!({"app_id": APP, "states": [
            {"path": "orders-service:GET:/api/cart", "service": "orders-service", "status": "disabled"},
            {"path": "__waygate:global__", "reason": "{\"enabled\":true}"}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.status(), StatusCode::OK);
    assert_eq!(
        engine.state("orders-service:GET:/api/cart").unwrap().status,
        RouteStatus::Active
    );
    assert!(!engine.global_maintenance().enabled);
    // Its own routes: yes.
    let own = with(http.post(format!(
        "{}/api/routes/{}/disable",
        server.url,
        b64u(&format!("{APP}:GET:/api/orders"))
    )))
    .send()
    .await
    .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    until_status(
        &format!("{}/api/orders", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;

    // The SDK's own login got such a token: global maintenance from inside the service is
    // refused, with the server's reason.
    let refused = svc
        .sdk
        .engine()
        .enable_global_maintenance("from a service", vec![], false, Actor::new("svc"))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("sdk"), "{refused}");

    svc.sdk.shutdown().await;
    server.stop().await;
}

#[cfg(feature = "redis")]
mod common;

/// Two server instances on one Redis (behind a load balancer, say): a service streaming from
/// one follows a change made on the other.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_redis_serve_one_fleet() {
    use waygate::backend::RedisBackend;
    let prefix = common::redis::unique_prefix();
    let backend = || -> Arc<dyn Backend> {
        Arc::new(
            RedisBackend::new(&common::redis::url())
                .unwrap()
                .with_key_prefix(&prefix),
        )
    };
    let a = serve_server(server_on(backend(), false), "127.0.0.1:0").await;
    let b = serve_server(server_on(backend(), false), "127.0.0.1:0").await;
    let svc = service(&a.url, false).await;
    let on_b = b.url.clone();
    eventually("server B knows the routes registered on A", || {
        let url = format!("{on_b}/api/routes?service={APP}");
        async move {
            let listed: Vec<Value> = client()
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            listed.len() == 4
        }
    })
    .await;
    let disabled = client()
        .post(format!(
            "{}/api/routes/{}/disable",
            b.url,
            b64u(&format!("{APP}:GET:/api/orders"))
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    until_status(
        &format!("{}/api/orders", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    client()
        .post(format!("{}/api/global/enable", b.url))
        .json(&json!({"exempt_paths": ["/health"]}))
        .send()
        .await
        .unwrap();
    until_status(
        &format!("{}/api/payments", svc.url),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    eventually("global maintenance reached the service", || {
        let engine = svc.sdk.engine().clone();
        async move { engine.global_maintenance().enabled }
    })
    .await;
    svc.sdk.shutdown().await;
    a.stop().await;
    b.stop().await;
    common::redis::delete_prefix(&prefix).await;
}

/// Refused by the server (no credentials given): the service serves its declared states and
/// retries with backoff, not in a tight loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_service_backs_off_and_fails_open() {
    let server = serve_server(
        server_on(Arc::new(MemoryBackend::new()), true),
        "127.0.0.1:0",
    )
    .await;
    let svc = service(&server.url, false).await;
    assert!(!svc.sdk.backend().is_connected());
    assert_eq!(
        status(&format!("{}/api/payments", svc.url)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        status(&format!("{}/api/orders", svc.url)).await,
        StatusCode::OK
    );
    // It keeps trying: three more failed attempts (an event, however busy the machine)...
    let mut failures = svc.sdk.backend().connection_failures();
    let before = *failures.borrow_and_update();
    let began = tokio::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(30),
        failures.wait_for(|n| *n >= before + 3),
    )
    .await
    .expect("the SDK keeps trying")
    .unwrap();
    // ...each after a backoff delay, never in a tight loop: 50 ms doubling to 400 ms, less
    // up to half of jitter, so the two delays between them last at least 25 + 25 ms (a
    // sleep never ends early; a tight loop would take a few milliseconds).
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(50),
        "three attempts in {took:?}: no backoff"
    );
    svc.sdk.shutdown().await;
    server.stop().await;
}

/// `POST api/sdk/audit` (what the Python SDK sends): stored with the service, under the
/// server's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_from_a_service_carry_the_service() {
    let running = server_on(Arc::new(MemoryBackend::new()), false);
    let engine = running.engine().clone();
    let server = serve_server(running, "127.0.0.1:0").await;
    let reply = client()
        .post(format!("{}/api/sdk/audit", server.url))
        .header("x-waygate-app-id", APP)
        .json(&json!({
            "id": "5b0b4a8e-8d43-4a8b-9a43-2f1f3f1f3f1f",
            "timestamp": "2026-12-01T10:00:00Z",
            "path": "GET:/api/orders",
            "action": "disable",
            "actor": "in-service",
            "platform": "sdk",
            "reason": "hotfix"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let log = engine
        .audit_log(&waygate::AuditQuery::latest(10))
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, format!("{APP}:GET:/api/orders"));
    assert_eq!(log[0].service.as_deref(), Some(APP));
    let bad = client()
        .post(format!("{}/api/sdk/audit", server.url))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

/// The OpenAPI filter works on an SDK engine as on an embedded one: a route disabled on the
/// server leaves the service's document.
#[cfg(feature = "openapi")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_follows_the_server() {
    let server = serve_server(
        server_on(Arc::new(MemoryBackend::new()), false),
        "127.0.0.1:0",
    )
    .await;
    let svc = service(&server.url, false).await;
    let docs = waygate::openapi::WaygateOpenApi::from_json(
        svc.sdk.engine().clone(),
        json!({
            "openapi": "3.1.0",
            "info": {"title": "svc", "version": "1"},
            "paths": {
                "/api/orders": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/api/payments": {"get": {"responses": {"200": {"description": "ok"}}}}
            }
        }),
    );
    assert!(docs.document()["paths"]["/api/orders"].is_object());
    client()
        .post(format!(
            "{}/api/routes/{}/disable",
            server.url,
            b64u(&format!("{APP}:GET:/api/orders"))
        ))
        .send()
        .await
        .unwrap();
    eventually("the disabled route leaves the document", || {
        let gone = docs.document()["paths"]["/api/orders"].is_null();
        async move { gone }
    })
    .await;
    assert_eq!(
        docs.document()["paths"]["/api/payments"]["get"]["x-waygate-status"],
        "maintenance"
    );
    svc.sdk.shutdown().await;
    server.stop().await;
}
