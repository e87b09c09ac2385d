//! The Redis backend with real engines: several instances on one Redis enforce each other's
//! changes and share fleet-wide rate limits, and a Redis that dies mid-run (a server this
//! test starts and kills itself) loses nothing, fails open and is resynced when it returns.
//! What engines on one Redis share without a request (claims, revocations, the subscription's
//! keepalive) is tested in `waygate-core/tests/redis_engines.rs`.
//!
//! Needs the test Redis at `WAYGATE_TEST_REDIS_URL` and `redis-server` on the `PATH`
//! (`scripts/test` checks both).

mod common;

use common::get;
use common::redis::{delete_prefix, delete_prefix_at, eventually, unique_prefix, url, RedisServer};
use http::StatusCode;
use std::time::Duration;
use waygate::backend::{Backend, BackendError, RedisBackend};
use waygate::prelude::*;
use waygate::rate_limit::Algorithm;
use waygate::{Actor, AuditQuery, EngineError, PolicyChange, RouteStatus};

#[route(GET, "/orders")]
async fn orders() -> &'static str {
    "orders"
}

#[route(GET, "/limited")]
#[rate_limit("10/minute", key = global)]
async fn limited() -> &'static str {
    "limited"
}

#[route(GET, "/free")]
async fn free() -> &'static str {
    "free"
}

/// One instance: an engine on its own connection to the Redis at `url`, under `prefix`.
struct Instance {
    engine: Engine,
    app: axum::Router,
}

async fn instance(url: &str, prefix: &str, fail_closed: bool) -> Instance {
    let backend = RedisBackend::new(url)
        .unwrap()
        .with_key_prefix(prefix)
        .with_response_timeout(Duration::from_millis(500));
    let engine = Engine::builder()
        .backend(backend)
        .rate_limit_fail_closed(fail_closed)
        .build();
    engine.start().await.unwrap();
    let app = axum::Router::new()
        .merge(routes![orders, limited, free])
        .layer(WaygateLayer::new(engine.clone()));
    Instance { engine, app }
}

async fn status(app: &axum::Router, path: &str) -> StatusCode {
    get(app, path).await.status
}

#[tokio::test]
async fn a_change_through_one_instance_is_enforced_by_the_other() {
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix, false).await;
    let b = instance(&url(), &prefix, false).await;
    assert_eq!(status(&b.app, "/orders").await, StatusCode::OK);

    a.engine
        .disable("GET:/orders", "hotfix", Actor::new("alice"))
        .await
        .unwrap();
    eventually("B refuses the route A disabled", async || {
        status(&b.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;

    b.engine
        .enable_global_maintenance("deploy", vec!["/free".into()], false, "bob")
        .await
        .unwrap();
    eventually("A enforces the global maintenance B enabled", async || {
        status(&a.app, "/limited").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert_eq!(status(&a.app, "/free").await, StatusCode::OK);
    b.engine.disable_global_maintenance("bob").await.unwrap();

    // A deletion travels too: the route's policy, removed on B, stops limiting on A.
    a.engine
        .set_rate_limit_policy("GET:/free", "1/minute", PolicyChange::new(), "alice")
        .await
        .unwrap();
    eventually("B applies the policy A set", async || {
        b.engine
            .rate_limit_policies()
            .iter()
            .any(|p| p.path == "/free")
    })
    .await;
    b.engine
        .delete_rate_limit_policy("GET:/free", "bob")
        .await
        .unwrap();
    eventually("A drops the policy B deleted", async || {
        !a.engine
            .rate_limit_policies()
            .iter()
            .any(|p| p.path == "/free")
    })
    .await;

    let audit = b.engine.audit_log(&AuditQuery::latest(100)).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.path == "GET:/orders" && e.actor == "alice"));
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    delete_prefix(&prefix).await;
}

#[tokio::test]
async fn a_fleet_wide_limit_holds_across_instances() {
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix, false).await;
    let b = instance(&url(), &prefix, false).await;
    let mut allowed = 0;
    for n in 0..30 {
        let app = if n % 2 == 0 { &a.app } else { &b.app };
        let reply = get(app, "/limited").await;
        match reply.status {
            StatusCode::OK => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(reply.code(), "RATE_LIMIT_EXCEEDED");
                assert!(reply.header("retry-after").is_some());
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(allowed, 10, "10/minute is ten a minute for the whole fleet");
    // The blocked requests of both instances are in one shared log.
    eventually("both instances' hits are in the shared log", async || {
        let hits = a
            .engine
            .rate_limit_hits(&AuditQuery::latest(100))
            .await
            .unwrap();
        hits.len() == 20
    })
    .await;
    assert_eq!(a.engine.rate_limit_storage_errors(), 0);

    // A reset on one instance clears the counters for every instance.
    b.engine
        .reset_rate_limit("GET:/limited", "bob")
        .await
        .unwrap();
    assert_eq!(status(&a.app, "/limited").await, StatusCode::OK);
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    delete_prefix(&prefix).await;
}

#[tokio::test]
async fn every_algorithm_counts_for_the_fleet() {
    for algorithm in [
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::MovingWindow,
        Algorithm::TokenBucket,
    ] {
        let prefix = unique_prefix();
        let a = instance(&url(), &prefix, false).await;
        let b = instance(&url(), &prefix, false).await;
        a.engine
            .set_rate_limit_policy(
                "GET:/orders",
                "4/hour",
                PolicyChange::new().algorithm(algorithm).burst(1),
                "alice",
            )
            .await
            .unwrap();
        eventually("B has the policy", async || {
            b.engine
                .rate_limit_policies()
                .iter()
                .any(|p| p.path == "/orders")
        })
        .await;
        let mut remaining = Vec::new();
        let mut allowed = 0;
        for n in 0..8 {
            let app = if n % 2 == 0 { &a.app } else { &b.app };
            let reply = get(app, "/orders").await;
            if reply.status == StatusCode::OK {
                allowed += 1;
                remaining.push(reply.header("x-ratelimit-remaining").unwrap().to_owned());
            } else {
                assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{algorithm:?}");
            }
        }
        assert_eq!(allowed, 5, "{algorithm:?}: 4/hour plus a burst of 1");
        assert_eq!(remaining, ["4", "3", "2", "1", "0"], "{algorithm:?}");
        a.engine.shutdown().await;
        b.engine.shutdown().await;
        delete_prefix(&prefix).await;
    }
}

#[tokio::test]
async fn routes_without_limits_do_not_touch_redis_for_a_request() {
    let server = RedisServer::start();
    let prefix = unique_prefix();
    let a = instance(&server.url(), &prefix, false).await;
    drop(server);
    // Redis is gone: the snapshot still answers, and nothing was counted as an error.
    for _ in 0..20 {
        assert_eq!(status(&a.app, "/free").await, StatusCode::OK);
    }
    assert_eq!(a.engine.rate_limit_storage_errors(), 0);
    a.engine.shutdown().await;
}

#[tokio::test]
async fn a_killed_redis_fails_open_loses_nothing_and_is_resynced() {
    let mut server = RedisServer::start();
    let prefix = unique_prefix();
    let a = instance(&server.url(), &prefix, false).await;
    let b = instance(&server.url(), &prefix, false).await;
    a.engine
        .disable("GET:/orders", "before the kill", Actor::new("alice"))
        .await
        .unwrap();
    eventually("B sees the disable", async || {
        status(&b.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;

    server.kill();
    // Requests keep being served under the last snapshot; limited ones fail open.
    for _ in 0..20 {
        assert_eq!(status(&a.app, "/free").await, StatusCode::OK);
        assert_eq!(status(&b.app, "/limited").await, StatusCode::OK);
        assert_eq!(
            status(&b.app, "/orders").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert!(b.engine.rate_limit_storage_errors() >= 20);
    // A mutation is refused with a typed error (the admin API answers 503 with it) and
    // changes nothing locally.
    let refused = a
        .engine
        .enable("GET:/orders", Actor::new("alice"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, EngineError::Backend(BackendError::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(
        a.engine.state("GET:/orders").unwrap().status,
        RouteStatus::Disabled
    );

    server.restart();
    // What was written before the kill is intact.
    let check = RedisBackend::new(&server.url())
        .unwrap()
        .with_key_prefix(&prefix);
    let stored = check.get_state("GET:/orders").await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.reason.as_str()),
        (RouteStatus::Disabled, "before the kill")
    );
    let audit = check.audit_log(&AuditQuery::latest(10)).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.path == "GET:/orders" && e.reason == "before the kill"));

    // A change made as soon as Redis is back — before B has resubscribed — reaches B by
    // its full resync.
    let mut enabled = stored.clone();
    enabled.status = RouteStatus::Active;
    enabled.reason = String::new();
    check.set_state(&enabled).await.unwrap();
    eventually(
        "B resyncs the change made while it was disconnected",
        async || status(&b.app, "/orders").await == StatusCode::OK,
    )
    .await;
    eventually("A resyncs it too", async || {
        status(&a.app, "/orders").await == StatusCode::OK
    })
    .await;
    // Limited requests are counted again.
    let errors = b.engine.rate_limit_storage_errors();
    eventually("the counters answer again", async || {
        status(&b.app, "/limited").await;
        b.engine.rate_limit_storage_errors() == errors
    })
    .await;
    // And mutations work again.
    a.engine
        .disable("GET:/orders", "after the restart", Actor::new("alice"))
        .await
        .unwrap();
    eventually("B sees the new disable", async || {
        status(&b.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    delete_prefix_at(&server.url(), &prefix).await;
}

#[tokio::test]
async fn a_dropped_subscription_resyncs_what_was_missed() {
    // A server of its own: cutting pub/sub connections must not disturb other tests.
    let server = RedisServer::start();
    let prefix = unique_prefix();
    let a = instance(&server.url(), &prefix, false).await;
    let b = instance(&server.url(), &prefix, false).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    eventually("both instances are subscribed", async || {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut conn)
            .await
            .unwrap();
        list.lines().count() == 2
    })
    .await;
    // Cut both subscriptions, then change the state at once, while they are down.
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(killed, 2);
    let writer = RedisBackend::new(&server.url())
        .unwrap()
        .with_key_prefix(&prefix);
    let mut state = writer.get_state("GET:/orders").await.unwrap().unwrap();
    state.status = RouteStatus::Disabled;
    writer.set_state(&state).await.unwrap();
    for (name, instance) in [("A", &a), ("B", &b)] {
        eventually(&format!("{name} resyncs after resubscribing"), async || {
            status(&instance.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
        })
        .await;
    }
    a.engine.shutdown().await;
    b.engine.shutdown().await;
}

#[tokio::test]
async fn fail_closed_refuses_limited_requests_while_redis_is_down() {
    let mut server = RedisServer::start();
    let prefix = unique_prefix();
    let a = instance(&server.url(), &prefix, true).await;
    assert_eq!(status(&a.app, "/limited").await, StatusCode::OK);
    server.kill();
    let reply = get(&a.app, "/limited").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("1"));
    // Routes without limits are not affected.
    assert_eq!(status(&a.app, "/free").await, StatusCode::OK);
    assert_eq!(a.engine.rate_limit_storage_errors(), 1);
    a.engine.shutdown().await;
}

#[tokio::test]
async fn an_engine_starting_while_redis_is_down_serves_declared_states_and_loads_later() {
    let mut server = RedisServer::start();
    let prefix = unique_prefix();
    let seeded = instance(&server.url(), &prefix, false).await;
    seeded
        .engine
        .disable("GET:/orders", "stored", Actor::new("alice"))
        .await
        .unwrap();
    seeded.engine.shutdown().await;
    server.kill();

    let backend = RedisBackend::new(&server.url())
        .unwrap()
        .with_key_prefix(&prefix);
    let engine = Engine::builder().backend(backend).build();
    assert!(
        engine.start().await.is_err(),
        "start reports the unreachable Redis"
    );
    let app = axum::Router::new()
        .merge(routes![orders])
        .layer(WaygateLayer::new(engine.clone()));
    assert_eq!(
        status(&app, "/orders").await,
        StatusCode::OK,
        "declared state"
    );
    server.restart();
    eventually(
        "the stored state is loaded once Redis is back",
        async || status(&app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    engine.shutdown().await;
}

#[tokio::test]
async fn a_maintenance_window_shared_by_two_instances_is_ended_once() {
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix, false).await;
    let b = instance(&url(), &prefix, false).await;
    let now = a.engine.now();
    let window =
        waygate::MaintenanceWindow::new(now, now + chrono::Duration::milliseconds(600), "short");
    a.engine
        .schedule_maintenance("GET:/orders", window.clone(), "alice")
        .await
        .unwrap();
    eventually("B enforces the window", async || {
        status(&b.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    for (name, instance) in [("A", &a), ("B", &b)] {
        eventually(&format!("{name} is active after the window"), async || {
            instance.engine.state("GET:/orders").unwrap().status == RouteStatus::Active
        })
        .await;
    }
    // The end of the window is claimed once in the backend (the job's id names the route and
    // the window): the claim is held, so no instance can still end it — nothing to wait for.
    let job = format!(
        "window-end:GET:/orders:{}:{}",
        window.start.timestamp_millis(),
        window.end.timestamp_millis()
    );
    let ttl = Duration::from_secs(60);
    assert!(
        !a.engine.backend().claim_once(&job, ttl).await.unwrap(),
        "the end of the window is claimed"
    );
    let audit = a
        .engine
        .audit_log(&AuditQuery::latest(20).route("GET:/orders"))
        .await
        .unwrap();
    let ends = audit.iter().filter(|e| e.actor == "scheduler").count();
    assert_eq!(ends, 1, "one instance ends the window: {audit:?}");
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    delete_prefix(&prefix).await;
}

/// `method uri` with a JSON body and headers, through `app`.
#[cfg(feature = "admin")]
async fn send_json(
    app: &axum::Router,
    method: http::Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> common::Reply {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
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

#[cfg(feature = "admin")]
#[tokio::test]
async fn the_admin_api_answers_503_to_a_mutation_while_redis_is_down() {
    use waygate::admin::{Auth, WaygateAdmin};
    let mut server = RedisServer::start();
    let prefix = unique_prefix();
    let a = instance(&server.url(), &prefix, false).await;
    let admin = WaygateAdmin::new(a.engine.clone())
        .auth(Auth::single("admin", "secret"))
        .nest_in(axum::Router::new(), "/waygate");
    let login = send_json(
        &admin,
        http::Method::POST,
        "/waygate/api/auth/login",
        &[],
        r#"{"username": "admin", "password": "secret"}"#,
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let headers = [("x-waygate-token", token.as_str())];
    server.kill();
    // `b64u("GET:/orders")`.
    let refused = send_json(
        &admin,
        http::Method::POST,
        "/waygate/api/routes/R0VUOi9vcmRlcnM/disable",
        &headers,
        r#"{"reason": "while down"}"#,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{}",
        refused.body
    );
    assert_eq!(
        status(&a.app, "/orders").await,
        StatusCode::OK,
        "nothing changed"
    );
    server.restart();
    let done = send_json(
        &admin,
        http::Method::POST,
        "/waygate/api/routes/R0VUOi9vcmRlcnM/disable",
        &headers,
        r#"{"reason": "back"}"#,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    a.engine.shutdown().await;
}

#[tokio::test]
async fn a_declared_policy_deleted_on_one_instance_is_off_on_every_instance() {
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix, false).await;
    let b = instance(&url(), &prefix, false).await;
    let declared = |e: &Engine| e.rate_limit_policies().iter().any(|p| p.path == "/limited");
    assert!(declared(&a.engine) && declared(&b.engine));
    a.engine
        .delete_rate_limit_policy("GET:/limited", "alice")
        .await
        .unwrap();
    eventually("B drops the declared policy A deleted", async || {
        !declared(&b.engine)
    })
    .await;
    for _ in 0..15 {
        assert_eq!(status(&b.app, "/limited").await, StatusCode::OK);
    }
    // A restarted instance keeps it off too; setting a policy again brings a limit back.
    let c = instance(&url(), &prefix, false).await;
    assert!(!declared(&c.engine));
    c.engine
        .set_rate_limit_policy("GET:/limited", "1/minute", PolicyChange::new(), "carol")
        .await
        .unwrap();
    eventually("A applies the new policy", async || declared(&a.engine)).await;
    let d = instance(&url(), &prefix, false).await;
    assert!(
        declared(&d.engine),
        "the deletion is forgotten once a policy is set"
    );
    for engine in [&a.engine, &b.engine, &c.engine, &d.engine] {
        engine.shutdown().await;
    }
    delete_prefix(&prefix).await;
}

/// Bypass tokens: issued by one instance, honoured by the other (same secret key), and
/// revoked on one, refused by both; rollout percentages travel like any state.
#[cfg(feature = "admin")]
#[tokio::test]
async fn bypass_tokens_and_rollouts_hold_across_instances() {
    use waygate::admin::BypassVerifier;
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix, false).await;
    let b = instance(&url(), &prefix, false).await;
    let verifier_a = BypassVerifier::new(a.engine.clone(), "fleet-secret");
    let verifier_b = BypassVerifier::new(b.engine.clone(), "fleet-secret");
    verifier_a.install();
    verifier_b.install();
    a.engine
        .disable("GET:/orders", "hotfix", Actor::new("alice"))
        .await
        .unwrap();
    eventually("B refuses the route A disabled", async || {
        status(&b.app, "/orders").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let token = verifier_a.issue(Duration::from_secs(600)).token;
    let with_token = |app: axum::Router, token: String| async move {
        let request = http::Request::get("/orders")
            .header("x-waygate-bypass", token)
            .body(axum::body::Body::empty())
            .unwrap();
        tower::ServiceExt::oneshot(app, request)
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        with_token(b.app.clone(), token.clone()).await,
        StatusCode::OK
    );

    a.engine.revoke_bypass_tokens("alice").await.unwrap();
    assert_eq!(
        with_token(a.app.clone(), token.clone()).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    eventually("B refuses the token A revoked", async || {
        with_token(b.app.clone(), token.clone()).await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;

    a.engine
        .set_rollout_percentage("GET:/free", 0, "alice")
        .await
        .unwrap();
    eventually("B applies the rollout A set", async || {
        status(&b.app, "/free").await == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(b.engine.state("GET:/free").unwrap().rollout_percentage, 0);
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    delete_prefix(&prefix).await;
}
