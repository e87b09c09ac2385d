//! Starts each example's real binary on loopback and checks, row by row, the behaviour table
//! in its header, over HTTP.
//!
//! The harness, shared with `python_cli.rs`, is in `support/`: the client is a few lines of
//! HTTP/1.1 over `std::net::TcpStream` (GET, or any method with a JSON body for the admin API;
//! optional extra headers; `Connection: close`), so the tests need no HTTP client crate and no
//! async runtime.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use support::{Example, Reply};

/// How far the example's clock (its start-up wall time plus monotonic time) may be from ours.
const CLOCK_SLACK: TimeDelta = TimeDelta::milliseconds(100);

// ---------------------------------------------------------------------------------------------
// basic
// ---------------------------------------------------------------------------------------------

#[test]
fn basic_in_dev() {
    let app = Example::start("basic", &[("APP_ENV", "dev")]);
    check_basic(&app, "dev");
    app.stop();
}

#[test]
fn basic_in_production() {
    let app = Example::start("basic", &[("APP_ENV", "production")]);
    check_basic(&app, "production");
    app.stop();
}

fn check_basic(app: &Example, env: &str) {
    let health = app.expect("/health", 200);
    assert_eq!(health.json(), json!({"status": "ok", "env": env}));

    let payments = app.expect("/payments", 503);
    assert_eq!(payments.header("content-type"), Some("application/json"));
    assert_eq!(
        payments.json(),
        json!({"error": {
            "code": "MAINTENANCE_MODE",
            "message": "This endpoint is temporarily unavailable",
            "reason": "Scheduled database migration — back at 04:00 UTC",
            "path": "/payments",
        }})
    );
    assert_eq!(
        payments.header("retry-after"),
        None,
        "no window, no Retry-After"
    );

    if env == "dev" {
        let debug = app.expect("/debug", 200);
        assert_eq!(debug.json(), json!({"debug": true, "env": "dev"}));
    } else {
        let debug = app.expect("/debug", 404);
        assert_eq!(
            debug.body, "",
            "an env-gated route answers as if it did not exist"
        );
    }

    let old = app.expect("/old-endpoint", 503);
    assert_eq!(
        old.json(),
        json!({"error": {
            "code": "ROUTE_DISABLED",
            "message": "This endpoint has been disabled",
            "reason": "Use /v2/endpoint instead",
            "path": "/old-endpoint",
        }})
    );

    check_users(app);
    check_docs(app, env);
    check_admin(app);
    check_bypass(app, &admin_token(app));
    check_metrics(app);
}

/// A bypass token from the admin lets a tester through maintenance.
fn check_bypass(app: &Example, token: &str) {
    let issued = app.send(
        "POST",
        "/waygate/api/bypass",
        &[("x-waygate-token", token)],
        Some(r#"{"ttl_seconds": 600, "reason": "QA"}"#),
    );
    assert_eq!(issued.status, 200, "{issued:?}");
    let bypass = issued.json()["token"].as_str().unwrap().to_owned();
    let through = app.send(
        "GET",
        "/old-endpoint",
        &[("x-waygate-bypass", &bypass)],
        None,
    );
    assert_eq!(through.status, 200, "{through:?}");
    let wrong = app.send(
        "GET",
        "/old-endpoint",
        &[("x-waygate-bypass", "wrong")],
        None,
    );
    assert_eq!(wrong.status, 503, "a wrong token: as without one");
}

/// `/metrics` in the Prometheus text format, with the routes' status.
fn check_metrics(app: &Example) {
    let metrics = app.expect("/metrics", 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &metrics.body;
    assert!(
        text.contains("# TYPE waygate_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("waygate_route_status{route=\"GET:/old-endpoint\",status=\"disabled\"} 1"),
        "{text}"
    );
    assert!(text.contains("waygate_backend_errors_total 0"), "{text}");
}

/// `/openapi.json` as the routes stand, and Swagger UI at `/docs` with the banner script.
fn check_docs(app: &Example, env: &str) {
    let doc = app.expect("/openapi.json", 200).json();
    assert_eq!(doc["info"]["title"], "waygate — Basic Example");
    assert_eq!(
        doc["info"]["x-waygate-global-maintenance"],
        json!({"enabled": false})
    );
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.contains_key("/old-endpoint"), "disabled: hidden");
    assert_eq!(paths.contains_key("/debug"), env == "dev", "env-gated");
    let payments = &doc["paths"]["/payments"]["get"];
    assert_eq!(payments["x-waygate-status"], "maintenance");
    assert_eq!(
        payments["x-waygate-reason"],
        "Scheduled database migration — back at 04:00 UTC"
    );
    assert!(payments["summary"].as_str().unwrap().starts_with("🔧 "));
    let v1 = &doc["paths"]["/v1/users"]["get"];
    assert_eq!(v1["deprecated"], true);
    assert_eq!(v1["x-waygate-successor"], "/v2/users");
    assert!(doc["paths"]["/health"]["get"]
        .get("x-waygate-status")
        .is_none());

    let docs = app.expect("/docs", 200);
    assert_eq!(
        docs.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(docs.body.contains("data-openapi-url=\"/openapi.json\""));
    assert!(docs.body.contains("POLL_INTERVAL_MS"));
    assert!(docs.body.contains("waygate-global-banner"));
    let bundle = app.expect("/docs/swagger-ui-bundle.js", 200);
    assert!(
        bundle.body.len() > 100_000,
        "Swagger UI is served from the binary"
    );
}

/// The admin REST API under `/waygate`, as the Python CLI uses it: log in, list the routes,
/// disable a route (it answers 503), enable it (200).
fn check_admin(app: &Example) {
    let unauthorized = app.send("GET", "/waygate/api/routes", &[], None);
    assert_eq!(unauthorized.status, 401, "{unauthorized:?}");
    assert_eq!(
        unauthorized.json(),
        json!({"error": "Authentication required. Use POST /api/auth/login to obtain a token."})
    );
    let wrong = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "wrong"}"#),
    );
    assert_eq!(wrong.status, 401, "{wrong:?}");

    let token = admin_token(app);
    let auth = [
        ("X-Waygate-Token", token.as_str()),
        ("X-Waygate-Platform", "cli"),
    ];

    let routes = app.send("GET", "/waygate/api/routes", &auth, None);
    assert_eq!(routes.status, 200, "{routes:?}");
    let keys: Vec<String> = routes
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    for key in [
        "GET:/health",
        "GET:/payments",
        "GET:/debug",
        "GET:/old-endpoint",
        "GET:/v1/users",
        "GET:/v2/users",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }

    // `b64u("GET:/payments")`, as the CLI puts a route key in a URL.
    let payments = "/waygate/api/routes/R0VUOi9wYXltZW50cw";
    let disabled = app.send(
        "POST",
        &format!("{payments}/disable"),
        &auth,
        Some(r#"{"reason": "hotfix"}"#),
    );
    assert_eq!(disabled.status, 200, "{disabled:?}");
    assert_eq!(disabled.json()["status"], "disabled");
    let blocked = app.expect("/payments", 503);
    assert_eq!(blocked.code(), "ROUTE_DISABLED");
    assert_eq!(blocked.json()["error"]["reason"], "hotfix");
    let doc = app.expect("/openapi.json", 200).json();
    assert!(
        doc["paths"].get("/payments").is_none(),
        "the document follows the disable without a restart"
    );

    let enabled = app.send(
        "POST",
        &format!("{payments}/enable"),
        &auth,
        Some(r#"{"reason": ""}"#),
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(enabled.json()["status"], "active");
    assert_eq!(app.expect("/payments", 200).json(), json!({"payments": []}));
    let doc = app.expect("/openapi.json", 200).json();
    let payments = &doc["paths"]["/payments"]["get"];
    assert!(payments.get("x-waygate-status").is_none(), "{payments}");

    let audit = app.send("GET", "/waygate/api/audit?limit=2", &auth, None);
    assert_eq!(audit.status, 200, "{audit:?}");
    let audit = audit.json();
    let actions: Vec<(&str, &str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap();
            (field("action"), field("actor"), field("platform"))
        })
        .collect();
    assert_eq!(
        actions,
        [("enable", "admin", "cli"), ("disable", "admin", "cli")],
        "newest first, by the token's user"
    );
}

/// `/v1/users` is served with the deprecation headers, `/v2/users` without.
fn check_users(app: &Example) {
    let users = json!({"users": [{"id": 1, "name": "Alice"}]});
    let v1 = app.expect("/v1/users", 200);
    assert_eq!(v1.json(), users);
    assert_eq!(v1.header("deprecation"), Some("true"));
    assert_eq!(v1.header("sunset"), Some("Fri, 01 Jan 2027 00:00:00 GMT"));
    assert_eq!(
        v1.header("link"),
        Some(r#"</v2/users>; rel="successor-version""#)
    );

    let v2 = app.expect("/v2/users", 200);
    assert_eq!(v2.json(), users);
    assert_eq!(v2.header("deprecation"), None);
    assert_eq!(v2.header("sunset"), None);
    assert_eq!(v2.header("link"), None);
}

// ---------------------------------------------------------------------------------------------
// dependency_injection
// ---------------------------------------------------------------------------------------------

#[test]
fn dependency_injection_in_dev() {
    let app = Example::start("dependency_injection", &[("APP_ENV", "dev")]);
    check_dependency_injection(&app, "dev");
    app.stop();
}

#[test]
fn dependency_injection_in_staging() {
    let app = Example::start("dependency_injection", &[("APP_ENV", "staging")]);
    check_dependency_injection(&app, "staging");
    app.stop();
}

#[test]
fn dependency_injection_in_production() {
    let app = Example::start("dependency_injection", &[("APP_ENV", "production")]);
    check_dependency_injection(&app, "production");
    app.stop();
}

fn check_dependency_injection(app: &Example, env: &str) {
    let payments = app.expect("/payments", 503);
    assert_eq!(payments.header("content-type"), Some("application/json"));
    assert_eq!(
        payments.json(),
        json!({"error": {
            "code": "MAINTENANCE_MODE",
            "message": "This endpoint is temporarily unavailable",
            "reason": "Scheduled DB migration",
            "path": "/payments",
        }})
    );

    let old = app.expect("/old-endpoint", 503);
    assert_eq!(old.code(), "ROUTE_DISABLED");
    assert_eq!(old.json()["error"]["reason"], "Use /v2/endpoint instead");
    assert_eq!(old.json()["error"]["path"], "/old-endpoint");

    if env == "production" {
        let debug = app.expect("/debug", 404);
        assert_eq!(
            debug.body, "",
            "an env-gated route answers as if it did not exist"
        );
    } else {
        let debug = app.expect("/debug", 200);
        assert_eq!(debug.json(), json!({"env": env}));
    }

    check_users(app);

    let users = app.expect("/users", 200);
    assert_eq!(users.json(), json!({"users": [{"id": 1, "name": "Alice"}]}));

    let health = app.expect("/health", 200);
    assert_eq!(health.json(), json!({"status": "ok", "env": env}));
}

// ---------------------------------------------------------------------------------------------
// scheduled_maintenance
// ---------------------------------------------------------------------------------------------

#[test]
fn scheduled_maintenance_window_starts_and_ends_by_itself() {
    let app = Example::start(
        "scheduled_maintenance",
        &[
            ("SCHEDULE_DELAY_SECS", "1"),
            ("SCHEDULE_DURATION_SECS", "2"),
        ],
    );
    let orders = json!({"orders": [{"id": 1, "total": 49.99}, {"id": 2, "total": 129.0}]});

    assert_eq!(app.expect("/health", 200).json(), json!({"status": "ok"}));
    assert_eq!(app.expect("/orders", 200).json(), orders);
    let route = orders_status(&app.expect("/admin/status", 200));
    assert_eq!(route["status"], "active");
    assert_eq!(route["window"], Value::Null);

    // Schedule: a window from 1 s to 3 s from now.
    let asked = Utc::now();
    let scheduled = app.expect("/admin/schedule", 200).json();
    let answered = Utc::now();
    assert_eq!(scheduled["scheduled"], true);
    assert_eq!(
        scheduled["message"],
        "GET /orders will enter maintenance in 1 seconds for 2 seconds"
    );
    let start = timestamp(&scheduled["start"]);
    let end = timestamp(&scheduled["end"]);
    assert_eq!(end - start, TimeDelta::seconds(2));
    assert!(
        start >= asked + TimeDelta::seconds(1) - CLOCK_SLACK
            && start <= answered + TimeDelta::seconds(1) + CLOCK_SLACK,
        "the window starts 1 s after the request: {start} (asked at {asked})"
    );

    // Until `start`, the route is served.
    let before = app.get("/orders");
    if Utc::now() + CLOCK_SLACK < start {
        assert_eq!(
            before.status, 200,
            "served until the window starts: {before:?}"
        );
    }

    // During the window: 503, with Retry-After in seconds and the end in the body.
    let blocked = app.poll(
        "/orders",
        |reply| reply.status == 503,
        end + TimeDelta::seconds(5),
    );
    assert!(
        Utc::now() + CLOCK_SLACK >= start,
        "blocked before the window started"
    );
    assert_eq!(blocked.code(), "MAINTENANCE_MODE");
    assert_eq!(
        blocked.json()["error"]["reason"],
        "Automated order system upgrade"
    );
    assert_eq!(blocked.json()["error"]["path"], "/orders");
    assert_eq!(timestamp(&blocked.json()["error"]["retry_after"]), end);
    let retry_after: i64 = blocked
        .header("retry-after")
        .expect("Retry-After during a window")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((0..=2).contains(&retry_after), "Retry-After: {retry_after}");

    let during = app.expect("/admin/status", 200);
    if Utc::now() + CLOCK_SLACK < end {
        let route = orders_status(&during);
        assert_eq!(route["status"], "maintenance");
        assert_eq!(route["reason"], "Automated order system upgrade");
        assert_eq!(timestamp(&route["window"]["start"]), start);
        assert_eq!(timestamp(&route["window"]["end"]), end);
    }
    assert_eq!(app.expect("/health", 200).json(), json!({"status": "ok"}));

    // After `end`: served again, and the state says so.
    let served = app.poll(
        "/orders",
        |reply| reply.status == 200,
        end + TimeDelta::seconds(5),
    );
    assert!(
        Utc::now() + CLOCK_SLACK >= end,
        "served again before the window ended"
    );
    assert_eq!(served.json(), orders);
    let after = app.poll(
        "/admin/status",
        |reply| orders_status(reply)["status"] == "active",
        end + TimeDelta::seconds(5),
    );
    assert_eq!(orders_status(&after)["reason"], "");
    assert_eq!(orders_status(&after)["window"], Value::Null);
    app.stop();
}

/// The `GET:/orders` entry of an `/admin/status` reply.
fn orders_status(reply: &Reply) -> Value {
    let json = reply.json();
    let routes = json["routes"].as_array().expect("`routes` is a list");
    routes
        .iter()
        .find(|route| route["path"] == "GET:/orders")
        .unwrap_or_else(|| panic!("no GET:/orders in {json}"))
        .clone()
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text}"))
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// global_maintenance
// ---------------------------------------------------------------------------------------------

#[test]
fn global_maintenance_blocks_everything_but_health_and_lifts() {
    let app = Example::start("global_maintenance", &[]);
    let payments = json!({"payments": [{"id": 1, "amount": 99.99}]});
    let orders = json!({"orders": [{"id": 1, "total": 49.99}]});
    let off = json!({
        "enabled": false,
        "reason": "",
        "exempt_paths": [],
        "include_force_active": false,
    });

    assert_eq!(app.expect("/payments", 200).json(), payments);
    assert_eq!(app.expect("/orders", 200).json(), orders);
    assert_eq!(app.expect("/health", 200).json(), json!({"status": "ok"}));
    assert_eq!(app.expect("/admin/status", 200).json(), off);

    let on = app.expect("/admin/on", 200);
    assert_eq!(on.json(), json!({"global_maintenance": "enabled"}));
    for path in ["/payments", "/orders"] {
        let blocked = app.expect(path, 503);
        assert_eq!(
            blocked.json(),
            json!({"error": {
                "code": "MAINTENANCE_MODE",
                "message": "This endpoint is temporarily unavailable",
                "reason": "Emergency infrastructure patch",
                "path": path,
            }})
        );
    }
    assert_eq!(app.expect("/health", 200).json(), json!({"status": "ok"}));
    assert_eq!(
        app.expect("/admin/status", 200).json(),
        json!({
            "enabled": true,
            "reason": "Emergency infrastructure patch",
            "exempt_paths": ["/health"],
            "include_force_active": false,
        })
    );

    let lifted = app.expect("/admin/off", 200);
    assert_eq!(lifted.json(), json!({"global_maintenance": "disabled"}));
    assert_eq!(app.expect("/payments", 200).json(), payments);
    assert_eq!(app.expect("/orders", 200).json(), orders);
    let status = app.expect("/admin/status", 200).json();
    assert_eq!(status["enabled"], false);
    app.stop();
}

// ---------------------------------------------------------------------------------------------
// custom_responses
// ---------------------------------------------------------------------------------------------

#[test]
fn custom_responses_per_route_then_layer_default() {
    let app = Example::start("custom_responses", &[]);

    let payments = app.expect("/payments", 503);
    assert_eq!(
        payments.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(payments.body.starts_with("<!DOCTYPE html>"), "{payments:?}");
    assert!(
        payments.body.contains("<h1>We'll be right back</h1>"),
        "{payments:?}"
    );
    assert!(
        payments
            .body
            .contains("<p>Database migration — back at 04:00 UTC</p>"),
        "{payments:?}"
    );
    assert!(
        !payments.body.contains("Expected back"),
        "no window, no return time"
    );

    let orders = app.expect("/orders", 302);
    assert_eq!(orders.header("location"), Some("/status"));

    let legacy = app.expect("/legacy", 503);
    assert_eq!(
        legacy.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(legacy.body, "Gone. Retired. Use /v2/orders instead.");

    for (path, reason) in [
        ("/inventory", "Stock sync in progress"),
        ("/reports", "Report generation paused for system upgrade"),
    ] {
        let reply = app.expect(path, 503);
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            reply.body,
            format!("<h1>Unavailable</h1><p>{reason}</p><a href='/status'>Status</a>")
        );
    }

    assert_eq!(
        app.expect("/status", 200).json(),
        json!({"operational": true, "message": "Some services are under maintenance."})
    );
    assert_eq!(app.expect("/health", 200).json(), json!({"status": "ok"}));

    // The admin API is mounted, with its own JSON errors (no custom page).
    let unauthorized = app.send("GET", "/waygate/api/routes", &[], None);
    assert_eq!(unauthorized.status, 401, "{unauthorized:?}");
    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
    app.stop();
}

// ---------------------------------------------------------------------------------------------
// rate_limiting
// ---------------------------------------------------------------------------------------------

// Every request of these tests comes from 127.0.0.1, so all the per-IP routes count one
// client. Each route has its own counters, and each check below touches its route only, so
// the checks do not interfere. Sliding windows (the default algorithm) are the clock's
// minutes: each check that counts against one starts clear of a minute's end
// (`clear_of_the_minute_end`), so its requests fall in one window.

/// Waits, if need be, until the clock's minute has at least 5 s left. A sliding window is
/// aligned to the clock's minutes: requests that straddle a minute's end see the earlier ones
/// weighted down (one more may be allowed), and a refusal just before it waits under a second
/// (`Retry-After: 0`, truncated as the Python original does).
fn clear_of_the_minute_end() {
    let left_ms = 60_000 - Utc::now().timestamp_millis().rem_euclid(60_000);
    if left_ms < 5_000 {
        std::thread::sleep(std::time::Duration::from_millis(
            left_ms.unsigned_abs() + 50,
        ));
    }
}

#[test]
fn rate_limiting_over_loopback() {
    let app = Example::start("rate_limiting", &[]);

    let health = app.expect("/health", 200);
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert_eq!(health.header("x-ratelimit-limit"), None, "no limit");

    check_ip_limit_headers(&app);
    check_fixed_window_429(&app);
    for (path, algorithm) in [("/sliding", "sliding_window"), ("/moving", "moving_window")] {
        clear_of_the_minute_end();
        let first = app.expect(path, 200);
        assert_eq!(first.json(), json!({"algorithm": algorithm}));
        assert_eq!(first.header("x-ratelimit-remaining"), Some("4"));
        assert_eq!(
            app.statuses(path, &[], 5),
            [200, 200, 200, 200, 429],
            "{path}"
        );
    }

    // Burst: capacity 5 + 3.
    clear_of_the_minute_end();
    let first = app.expect("/burst", 200);
    assert_eq!(first.json(), json!({"base": "5/minute", "burst": 3}));
    assert_eq!(first.header("x-ratelimit-limit"), Some("5/minute"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("7"));
    assert_eq!(
        app.statuses("/burst", &[], 8),
        [200, 200, 200, 200, 200, 200, 200, 429],
        "8 requests in all, then 429"
    );

    // Global: one counter, whoever asks.
    clear_of_the_minute_end();
    for user in ["u1", "u2", "u3", "u4", "u5"] {
        let reply = app.expect_with("/search", &[("x-user-id", user)], 200);
        assert_eq!(reply.json(), json!({"results": []}));
    }
    let shared = app.expect_with("/search", &[("x-user-id", "u6")], 429);
    assert_eq!(shared.code(), "RATE_LIMIT_EXCEEDED");
    app.expect("/search", 429);

    check_user_keys(&app);

    // API key, then the IP when there is none.
    clear_of_the_minute_end();
    for (key, remaining) in [("k1", "49"), ("k1", "48"), ("k2", "49")] {
        let reply = app.expect_with("/data", &[("x-api-key", key)], 200);
        assert_eq!(reply.json(), json!({"api_key": key, "data": [1, 2, 3]}));
        assert_eq!(reply.header("x-ratelimit-limit"), Some("50/minute"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some(remaining));
    }
    let keyless = app.expect("/data", 200);
    assert_eq!(
        keyless.json(),
        json!({"api_key": "none", "data": [1, 2, 3]})
    );
    assert_eq!(keyless.header("x-ratelimit-remaining"), Some("49"));
    let keyless = app.expect("/data", 200);
    assert_eq!(keyless.header("x-ratelimit-remaining"), Some("48"));

    check_tiers(&app);

    // Exempt IP: 127.0.0.1 is never counted.
    for _ in 0..15 {
        let metrics = app.expect("/internal/metrics", 200);
        assert_eq!(metrics.json(), json!({"metrics": {"requests": 42}}));
        assert_eq!(metrics.header("x-ratelimit-limit"), None, "not counted");
    }

    // Maintenance first: more requests than the limit, and never a 429.
    for _ in 0..21 {
        let checkout = app.expect("/checkout", 503);
        assert_eq!(
            checkout.json(),
            json!({"error": {
                "code": "MAINTENANCE_MODE",
                "message": "This endpoint is temporarily unavailable",
                "reason": "Payment processor upgrade — back in 30 minutes",
                "path": "/checkout",
            }})
        );
    }

    // The route's own 429.
    clear_of_the_minute_end();
    for _ in 0..10 {
        assert_eq!(app.expect("/posts", 200).json(), json!({"posts": []}));
    }
    let custom = app.expect("/posts", 429);
    assert_eq!(custom.header("content-type"), Some("application/json"));
    let retry = custom.json()["retry_after"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retry_after: {custom:?}"));
    assert!((1..=60).contains(&retry), "{custom:?}");
    assert_eq!(custom.json(), json!({"ok": false, "retry_after": retry}));
    assert_eq!(
        custom.header("retry-after"),
        Some(retry.to_string().as_str())
    );
    app.stop();
}

/// `/public/posts`: the `X-RateLimit-*` countdown, the `429`, and a forged
/// `X-Forwarded-For` that changes nothing (no proxy is trusted).
fn check_ip_limit_headers(app: &Example) {
    clear_of_the_minute_end();
    let before = Utc::now().timestamp();
    let first = app.expect("/public/posts", 200);
    assert_eq!(first.json(), json!({"posts": ["hello", "world"]}));
    assert_eq!(first.header("x-ratelimit-limit"), Some("10/minute"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("9"));
    let reset: i64 = first
        .header("x-ratelimit-reset")
        .expect("X-RateLimit-Reset")
        .parse()
        .expect("X-RateLimit-Reset is Unix seconds");
    assert!(
        (before..=Utc::now().timestamp() + 61).contains(&reset),
        "X-RateLimit-Reset: {reset}, now {before}"
    );
    for remaining in (0..9).rev() {
        let reply = app.expect("/public/posts", 200);
        let header = reply.header("x-ratelimit-remaining");
        assert_eq!(header, Some(remaining.to_string().as_str()), "{reply:?}");
    }
    let blocked = app.expect("/public/posts", 429);
    assert_eq!(blocked.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(blocked.json()["error"]["limit"], "10/minute");
    let forged = [("x-forwarded-for", "203.0.113.9")];
    let spoofed = app.expect_with("/public/posts", &forged, 429);
    assert_eq!(spoofed.code(), "RATE_LIMIT_EXCEEDED");
}

/// `/fixed`: five allowed, then the built-in `429`, field by field.
fn check_fixed_window_429(app: &Example) {
    assert_eq!(app.statuses("/fixed", &[], 5), [200; 5]);
    let asked = Utc::now();
    let blocked = app.expect("/fixed", 429);
    assert_eq!(blocked.header("content-type"), Some("application/json"));
    let body = blocked.json();
    let error = &body["error"];
    let mut fields: Vec<_> = error
        .as_object()
        .unwrap_or_else(|| panic!("no error object: {blocked:?}"))
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "code",
            "limit",
            "message",
            "path",
            "reset_at",
            "retry_after_seconds"
        ]
    );
    assert_eq!(error["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(error["message"], "Too many requests");
    assert_eq!(error["limit"], "5/minute");
    assert_eq!(error["path"], "/fixed");
    let retry = error["retry_after_seconds"]
        .as_u64()
        .unwrap_or_else(|| panic!("retry_after_seconds is not a number: {blocked:?}"));
    assert!((1..=60).contains(&retry), "retry_after_seconds: {retry}");
    // The window opened at the first request, just before `asked`.
    let reset_at = timestamp(&error["reset_at"]);
    assert!(
        reset_at > asked && reset_at <= asked + TimeDelta::seconds(60) + CLOCK_SLACK,
        "reset_at {reset_at}, asked at {asked}"
    );
    assert_eq!(
        blocked.header("retry-after"),
        Some(retry.to_string().as_str())
    );
    assert_eq!(blocked.header("x-ratelimit-limit"), Some("5/minute"));
    assert_eq!(blocked.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        blocked.header("x-ratelimit-reset"),
        Some(reset_at.timestamp().to_string().as_str())
    );
}

/// `/users/*`: a counter per user, and the three ways to treat an anonymous request.
fn check_user_keys(app: &Example) {
    clear_of_the_minute_end();
    let alice = [("x-user-id", "alice")];
    let bob = [("x-user-id", "bob")];

    // Anonymous: exempt, never counted.
    for _ in 0..3 {
        let anonymous = app.expect("/users/me", 200);
        assert_eq!(anonymous.json(), json!({"user_id": "anonymous"}));
        assert_eq!(anonymous.header("x-ratelimit-limit"), None, "not counted");
    }
    for (user, remaining) in [(&alice, "99"), (&bob, "99"), (&alice, "98")] {
        let reply = app.expect_with("/users/me", user, 200);
        assert_eq!(reply.json(), json!({"user_id": user[0].1}));
        assert_eq!(reply.header("x-ratelimit-limit"), Some("100/minute"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some(remaining));
    }

    // Anonymous: blocked.
    let strict = app.expect("/users/strict", 429);
    assert_eq!(strict.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(strict.json()["error"]["retry_after_seconds"], 0);
    assert_eq!(strict.header("retry-after"), Some("0"));
    let allowed = app.expect_with("/users/strict", &alice, 200);
    assert_eq!(allowed.json(), json!({"user_id": "alice"}));
    assert_eq!(allowed.header("x-ratelimit-remaining"), Some("99"));

    // Anonymous: counted per IP.
    for remaining in ["99", "98"] {
        let anonymous = app.expect("/users/fallback", 200);
        assert_eq!(anonymous.json(), json!({"user_id": "anonymous"}));
        assert_eq!(anonymous.header("x-ratelimit-remaining"), Some(remaining));
    }
    let user = app.expect_with("/users/fallback", &alice, 200);
    assert_eq!(user.header("x-ratelimit-remaining"), Some("99"));
}

/// `/reports`: a counter per user, its size set by the user's plan.
fn check_tiers(app: &Example) {
    clear_of_the_minute_end();
    let anonymous = app.expect("/reports", 200);
    assert_eq!(anonymous.json(), json!({"plan": "free", "reports": []}));
    assert_eq!(anonymous.header("x-ratelimit-limit"), None, "not counted");

    let free = [("x-user-id", "f1"), ("x-plan", "free")];
    let first = app.expect_with("/reports", &free, 200);
    assert_eq!(first.json(), json!({"plan": "free", "reports": []}));
    assert_eq!(first.header("x-ratelimit-limit"), Some("10/minute"));
    assert_eq!(app.statuses("/reports", &free, 9), [200; 9]);
    let blocked = app.expect_with("/reports", &free, 429);
    assert_eq!(blocked.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(blocked.json()["error"]["limit"], "10/minute");

    // Another free user has a counter of their own; no plan means free.
    let other = app.expect_with("/reports", &[("x-user-id", "f2"), ("x-plan", "free")], 200);
    assert_eq!(other.header("x-ratelimit-remaining"), Some("9"));
    let no_plan = app.expect_with("/reports", &[("x-user-id", "n1")], 200);
    assert_eq!(no_plan.header("x-ratelimit-limit"), Some("10/minute"));

    let pro = [("x-user-id", "p1"), ("x-plan", "pro")];
    assert_eq!(app.statuses("/reports", &pro, 14), [200; 14]);
    let fifteenth = app.expect_with("/reports", &pro, 200);
    assert_eq!(fifteenth.json(), json!({"plan": "pro", "reports": []}));
    assert_eq!(fifteenth.header("x-ratelimit-limit"), Some("100/minute"));
    assert_eq!(fifteenth.header("x-ratelimit-remaining"), Some("85"));

    let enterprise = [("x-user-id", "e1"), ("x-plan", "enterprise")];
    assert_eq!(app.statuses("/reports", &enterprise, 14), [200; 14]);
    let fifteenth = app.expect_with("/reports", &enterprise, 200);
    assert_eq!(
        fifteenth.json(),
        json!({"plan": "enterprise", "reports": []})
    );
    assert_eq!(fifteenth.header("x-ratelimit-limit"), Some("unlimited"));
}

#[test]
fn rate_limiting_behind_a_trusted_proxy() {
    // The test client plays the proxy: `X-Forwarded-For` names the client.
    let app = Example::start("rate_limiting", &[("TRUSTED_PROXIES", "127.0.0.1")]);
    clear_of_the_minute_end();
    let client = [("x-forwarded-for", "203.0.113.1")];
    assert_eq!(app.statuses("/public/posts", &client, 10), [200; 10]);
    app.expect_with("/public/posts", &client, 429);
    let other = [("x-forwarded-for", "203.0.113.2")];
    let reply = app.expect_with("/public/posts", &other, 200);
    assert_eq!(reply.header("x-ratelimit-remaining"), Some("9"));
    // Without the header, the proxy itself is the client.
    let direct = app.expect("/public/posts", 200);
    assert_eq!(direct.header("x-ratelimit-remaining"), Some("9"));

    // Exemptions apply to the client, not the proxy in front of it.
    clear_of_the_minute_end();
    assert_eq!(app.statuses("/internal/metrics", &client, 10), [200; 10]);
    app.expect_with("/internal/metrics", &client, 429);
    let internal = [("x-forwarded-for", "10.1.2.3")];
    assert_eq!(app.statuses("/internal/metrics", &internal, 12), [200; 12]);
    app.stop();
}

// ---------------------------------------------------------------------------------------------
// custom_backend_sqlite, and two instances of basic on one Redis
// ---------------------------------------------------------------------------------------------

/// `method path` with `body` on an example's admin API, logged in as `admin` / `secret` with
/// the headers the CLI sends.
fn admin_send(app: &Example, method: &str, path: &str, body: Option<&str>) -> Reply {
    let token = admin_token(app);
    let headers = [
        ("X-Waygate-Token", token.as_str()),
        ("X-Waygate-Platform", "cli"),
    ];
    app.send(method, path, &headers, body)
}

/// Disables a route (its key in base64url, as the CLI puts it in the URL) through the admin
/// API, as `waygate disable KEY --reason hotfix` does.
fn admin_disable(app: &Example, encoded_key: &str) {
    let path = format!("/waygate/api/routes/{encoded_key}/disable");
    let disabled = admin_send(app, "POST", &path, Some(r#"{"reason": "hotfix"}"#));
    assert_eq!(disabled.status, 200, "{disabled:?}");
}

/// A file name in the temp directory no other run uses.
fn temp_path(name: &str) -> std::path::PathBuf {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    std::env::temp_dir().join(format!("waygate-{}-{nanos}-{name}", std::process::id()))
}

#[test]
fn custom_backend_sqlite_keeps_state_and_audit_across_a_restart() {
    let db = temp_path("state.db");
    let db_text = db.to_str().unwrap().to_owned();
    let env = [("WAYGATE_SQLITE_PATH", db_text.as_str())];

    let app = Example::start("custom_backend_sqlite", &env);
    let health = app.expect("/health", 200);
    assert_eq!(health.json(), json!({"status": "ok", "backend": "sqlite"}));
    assert_eq!(app.expect("/payments", 503).code(), "MAINTENANCE_MODE");
    assert_eq!(app.expect("/legacy", 503).code(), "ROUTE_DISABLED");
    app.expect("/orders", 200);
    // `b64u("GET:/orders")`.
    admin_disable(&app, "R0VUOi9vcmRlcnM");
    assert_eq!(app.expect("/orders", 503).code(), "ROUTE_DISABLED");
    app.stop();

    let app = Example::start("custom_backend_sqlite", &env);
    let blocked = app.expect("/orders", 503);
    assert_eq!(
        blocked.json()["error"]["reason"],
        "hotfix",
        "the state survived"
    );
    let audit = admin_send(&app, "GET", "/waygate/api/audit?limit=5", None);
    assert_eq!(audit.status, 200, "{audit:?}");
    let entries = audit.json();
    let first = &entries.as_array().unwrap()[0];
    assert_eq!(
        (
            first["path"].as_str(),
            first["action"].as_str(),
            first["reason"].as_str()
        ),
        (Some("GET:/orders"), Some("disable"), Some("hotfix")),
        "the audit log survived: {entries}"
    );
    app.stop();
    let _ = std::fs::remove_file(&db);
}

/// A `redis-server` of the test's own on a free port; killed when dropped.
struct RedisServer {
    port: u16,
    child: std::process::Child,
}

impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { port, child }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_basic_instances_on_one_redis_enforce_each_other_s_changes() {
    let redis = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let env = [
        ("WAYGATE_BACKEND", "redis"),
        ("WAYGATE_REDIS_URL", url.as_str()),
    ];
    let a = Example::start("basic", &env);
    let b = Example::start("basic", &env);
    b.expect("/v2/users", 200);

    // Disabled through A's admin API (as `waygate disable` does) ...
    admin_disable(&a, "R0VUOi92Mi91c2Vycw");
    // ... and refused by B.
    let deadline = Utc::now() + TimeDelta::seconds(10);
    let blocked = b.poll("/v2/users", |r| r.status == 503, deadline);
    assert_eq!(blocked.code(), "ROUTE_DISABLED");
    // B's audit log is the shared one.
    let audit = admin_send(&b, "GET", "/waygate/api/audit?limit=1", None);
    assert_eq!(audit.json()[0]["path"], "GET:/v2/users");
    a.stop();
    b.stop();
}

// ---------------------------------------------------------------------------------------------
// webhooks
// ---------------------------------------------------------------------------------------------

/// Logs in to the example's admin API as `admin`; the token.
fn admin_token(app: &Example) -> String {
    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.json()["username"], "admin");
    login.json()["token"].as_str().unwrap().to_owned()
}

#[test]
fn webhooks_reach_all_three_receivers_on_each_change() {
    let app = Example::start("webhooks", &[]);
    assert_eq!(
        app.expect("/health", 200).json(),
        json!({"status": "ok", "env": "dev"})
    );
    assert_eq!(app.expect("/payments", 503).code(), "MAINTENANCE_MODE");
    assert_eq!(app.expect("/orders", 200).json(), json!({"orders": []}));
    assert_eq!(app.expect("/legacy", 503).code(), "ROUTE_DISABLED");
    assert!(app
        .expect("/webhook-log", 200)
        .body
        .contains("No events yet"));
    assert_eq!(app.expect("/webhook-log.json", 200).json(), json!([]));
    // An unsigned post to the Slack receiver is refused.
    let forged = app.send("POST", "/webhooks/slack", &[], Some("{}"));
    assert_eq!(forged.status, 401, "{forged:?}");

    let token = admin_token(&app);
    let auth = [
        ("X-Waygate-Token", token.as_str()),
        ("X-Waygate-Platform", "cli"),
    ];
    // `b64u("GET:/payments")` and `b64u("GET:/orders")`.
    let payments = "/waygate/api/routes/R0VUOi9wYXltZW50cw";
    let orders = "/waygate/api/routes/R0VUOi9vcmRlcnM";
    let steps = [
        (
            format!("{payments}/disable"),
            r#"{"reason": "hotfix"}"#,
            "disable",
        ),
        (format!("{payments}/enable"), r#"{"reason": ""}"#, "enable"),
        (
            format!("{orders}/maintenance"),
            r#"{"reason": "stock sync"}"#,
            "maintenance_on",
        ),
        (format!("{orders}/enable"), r#"{"reason": ""}"#, "enable"),
    ];
    for (i, (path, body, event)) in steps.iter().enumerate() {
        let reply = app.send("POST", path, &auth, Some(body));
        assert_eq!(reply.status, 200, "{reply:?}");
        let log = app.poll(
            "/webhook-log.json",
            |r| r.json().as_array().unwrap().len() >= 3 * (i + 1),
            Utc::now() + TimeDelta::seconds(10),
        );
        let log = log.json();
        let newest: Vec<&Value> = log.as_array().unwrap()[..3].iter().collect();
        let mut receivers: Vec<&str> = newest
            .iter()
            .map(|e| e["receiver"].as_str().unwrap())
            .collect();
        receivers.sort();
        assert_eq!(receivers, ["custom", "generic", "slack"], "{log:#}");
        for entry in newest {
            let payload = &entry["payload"];
            match entry["receiver"].as_str().unwrap() {
                "generic" => assert_eq!(payload["event"], *event, "{payload}"),
                "custom" => {
                    assert_eq!(payload["source"], "waygate");
                    assert_eq!(payload["event"], *event);
                }
                _ => {
                    let text = payload["attachments"][0]["text"].as_str().unwrap();
                    assert!(
                        text.starts_with(&format!("*{}*", event.to_uppercase())),
                        "{text}"
                    );
                }
            }
        }
    }
    let log = app.expect("/webhook-log.json", 200).json();
    assert_eq!(
        log.as_array().unwrap().len(),
        12,
        "one event per change and receiver"
    );
    let generic = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["receiver"] == "generic" && e["payload"]["event"] == "maintenance_on")
        .unwrap();
    assert_eq!(generic["payload"]["path"], "GET:/orders");
    assert_eq!(generic["payload"]["reason"], "stock sync");
    assert_eq!(generic["payload"]["state"]["status"], "maintenance");
    let page = app.expect("/webhook-log", 200).body;
    assert!(
        page.contains("Showing last 12 of up to 50 events"),
        "{page}"
    );
    assert!(app.expect("/docs", 200).body.contains("POLL_INTERVAL_MS"));
    app.stop();
}

/// A token from the server at its root (a Waygate Server's admin API is not nested).
fn server_token(server: &Example) -> String {
    let login = server.send(
        "POST",
        "/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
    login.json()["token"].as_str().unwrap().to_owned()
}

/// A service token for `service` (`POST api/tokens`), made with the admin's token.
fn service_token(server: &Example, service: &str) -> String {
    let admin = server_token(server);
    let issued = server.send(
        "POST",
        "/api/tokens",
        &[("x-waygate-token", admin.as_str())],
        Some(&format!(r#"{{"service": "{service}"}}"#)),
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    issued.json()["token"].as_str().unwrap().to_owned()
}

fn soon() -> DateTime<Utc> {
    Utc::now() + chrono::TimeDelta::seconds(20)
}

#[test]
fn waygate_server_and_an_attached_service() {
    let server = Example::start_args("waygate_server", &["server"], &[]);
    assert_eq!(server.expect("/health", 200).json()["status"], "ok");
    let url = format!("http://{}", server.addr);
    // The service logs in with a service token, not a password.
    let token = service_token(&server, "payments-service");
    let service = Example::start_args(
        "waygate_server",
        &["service"],
        &[("WAYGATE_SERVER_URL", &url), ("WAYGATE_TOKEN", &token)],
    );
    // The behaviour table.
    assert_eq!(
        service.expect("/health", 200).json(),
        json!({"status": "ok", "service": "payments-service"})
    );
    assert_eq!(
        service.expect("/api/payments", 503).code(),
        "MAINTENANCE_MODE"
    );
    service.expect("/api/orders", 200);
    assert_eq!(service.expect("/api/legacy", 503).code(), "ROUTE_DISABLED");
    let v1 = service.expect("/api/v1/products", 200);
    assert_eq!(v1.header("deprecation"), Some("true"));
    assert_eq!(v1.header("sunset"), Some("Sat, 01 Jan 2028 00:00:00 GMT"));
    assert!(v1.header("link").unwrap().contains("/api/v2/products"));
    service.expect("/api/v2/products", 200);

    // The server holds the service's routes; a change there is enforced by the service.
    let token = server_token(&server);
    let auth = [("x-waygate-token", token.as_str())];
    let routes = server.send("GET", "/api/routes?service=payments-service", &auth, None);
    assert_eq!(routes.status, 200);
    assert_eq!(routes.json().as_array().unwrap().len(), 6, "{routes:?}");
    assert_eq!(
        server.send("GET", "/api/services", &auth, None).json(),
        json!(["payments-service"])
    );
    let enabled = server.send(
        "POST",
        "/api/routes/cGF5bWVudHMtc2VydmljZTovYXBpL3BheW1lbnRz/enable",
        &auth,
        None,
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    service.poll("/api/payments", |r| r.status == 200, soon());
    // No token: the server refuses; the dashboard sends people to its login page.
    assert_eq!(server.send("GET", "/api/routes", &[], None).status, 401);
    service.stop();
    server.stop();
}

#[test]
fn multi_service_two_services_on_one_server() {
    let server = Example::start_args("multi_service", &["server"], &[]);
    let url = format!("http://{}", server.addr);
    let (pay, order) = (
        service_token(&server, "payments-service"),
        service_token(&server, "orders-service"),
    );
    let payments = Example::start_args(
        "multi_service",
        &["payments"],
        &[("WAYGATE_SERVER_URL", &url), ("WAYGATE_TOKEN", &pay)],
    );
    let orders = Example::start_args(
        "multi_service",
        &["orders"],
        &[("WAYGATE_SERVER_URL", &url), ("WAYGATE_TOKEN", &order)],
    );
    payments.expect("/health", 200);
    assert_eq!(
        payments.expect("/api/payments", 503).code(),
        "MAINTENANCE_MODE"
    );
    payments.expect("/api/refunds", 200);
    assert!(payments
        .expect("/api/v1/invoices", 200)
        .header("link")
        .unwrap()
        .contains("/api/v2/invoices"));
    payments.expect("/api/v2/invoices", 200);
    orders.expect("/health", 200);
    orders.expect("/api/orders", 200);
    assert_eq!(
        orders.expect("/api/shipments", 503).code(),
        "ROUTE_DISABLED"
    );
    orders.expect("/api/cart", 200);
    // Each service registered its own routes only.
    let token = server_token(&server);
    let auth = [("x-waygate-token", token.as_str())];
    assert_eq!(
        server.send("GET", "/api/services", &auth, None).json(),
        json!(["orders-service", "payments-service"])
    );
    let paths = |service: &str| -> Vec<String> {
        let reply = server.send(
            "GET",
            &format!("/api/routes?service={service}"),
            &auth,
            None,
        );
        let mut paths: Vec<String> = reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap().to_owned())
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(
        paths("orders-service"),
        [
            "orders-service:GET:/api/cart",
            "orders-service:GET:/api/orders",
            "orders-service:GET:/api/shipments",
            "orders-service:GET:/health"
        ]
    );
    assert_eq!(paths("payments-service").len(), 5);

    // One service's maintenance leaves the other alone.
    let on = server.send(
        "POST",
        "/api/services/orders-service/maintenance/enable",
        &auth,
        Some(r#"{"reason": "DB migration", "exempt_paths": ["/health"]}"#),
    );
    assert_eq!(on.status, 200, "{on:?}");
    orders.poll("/api/orders", |r| r.status == 503, soon());
    orders.expect("/health", 200);
    payments.expect("/api/refunds", 200);
    server.send(
        "POST",
        "/api/services/orders-service/maintenance/disable",
        &auth,
        None,
    );
    orders.poll("/api/orders", |r| r.status == 200, soon());
    // Global maintenance reaches both.
    server.send(
        "POST",
        "/api/global/enable",
        &auth,
        Some(r#"{"reason": "emergency", "exempt_paths": ["/health"]}"#),
    );
    orders.poll("/api/cart", |r| r.status == 503, soon());
    payments.poll("/api/refunds", |r| r.status == 503, soon());
    payments.expect("/health", 200);
    server.send("POST", "/api/global/disable", &auth, None);
    payments.poll("/api/refunds", |r| r.status == 200, soon());
    // A bare path within a service.
    let disabled = server.send(
        "POST",
        "/api/routes/b3JkZXJzLXNlcnZpY2U6L2FwaS9jYXJ0/disable",
        &auth,
        Some(r#"{"reason": "redesign"}"#),
    );
    assert_eq!(disabled.status, 200, "{disabled:?}");
    orders.poll("/api/cart", |r| r.status == 503, soon());
    payments.stop();
    orders.stop();
    server.stop();
}

#[test]
fn feature_flags_serve_each_user_their_variation() {
    let app = Example::start("feature_flags", &[]);
    // Individual targets, and a 20 % rollout by user id, bucketed as the Python original.
    assert_eq!(
        app.expect("/checkout?user_id=beta_tester_1", 200).json(),
        json!({"user_id": "beta_tester_1", "new_checkout": true, "flow": "v2"})
    );
    let mut on = 0;
    for n in 0..100 {
        let user = format!("user_{n}");
        let reply = app.expect(&format!("/checkout?user_id={user}"), 200).json();
        let want = waygate::flags::bucket("new-checkout", "user", &user) < 20_000;
        assert_eq!(reply["new_checkout"], want, "{user}");
        on += usize::from(want);
    }
    assert!((5..=40).contains(&on), "{on} of 100 in a 20 % rollout");
    // The route behind the flag: served to exactly those users.
    for user in ["beta_tester_1".to_owned()]
        .into_iter()
        .chain((0..100).map(|n| format!("user_{n}")))
    {
        let on =
            app.expect(&format!("/checkout?user_id={user}"), 200).json()["new_checkout"] == true;
        let v2 = app.get(&format!("/checkout/v2?user_id={user}"));
        match on {
            true => assert_eq!(v2.json(), json!({"user_id": user, "flow": "v2"})),
            false => assert_eq!(v2.status, 404, "{user}: {v2:?}"),
        }
    }
    // Rules on email, plan, country; the JSON bundle.
    assert_eq!(
        app.expect("/theme?user_id=u1&email=ada@acme.com", 200)
            .json(),
        json!({"user_id": "u1", "theme": "dark"})
    );
    assert_eq!(
        app.expect("/theme?user_id=u1&email=ada@example.com", 200)
            .json()["theme"],
        "light"
    );
    assert_eq!(
        app.expect("/search?user_id=u1&plan=enterprise", 200).json(),
        json!({"user_id": "u1", "plan": "enterprise", "page_size": 50, "results": []})
    );
    assert_eq!(
        app.expect("/search?user_id=u1", 200).json()["page_size"],
        10
    );
    assert_eq!(
        app.expect("/pricing?user_id=u1&country=GB", 200).json(),
        json!({"user_id": "u1", "country": "GB", "discount_rate": 0.15, "price_usd": 85.0})
    );
    assert_eq!(
        app.expect("/pricing?user_id=u1&country=DE", 200).json()["discount_rate"],
        0.1
    );
    assert_eq!(
        app.expect("/pricing?user_id=u1", 200).json()["discount_rate"],
        0.0
    );
    assert_eq!(
        app.expect("/config?user_id=u1", 200).json()["config"],
        json!({"sidebar": false, "analytics": false, "export_formats": ["csv"], "max_widgets": 5})
    );

    // The kill switch, through the admin API: off for everyone, targets included.
    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let auth = [("x-waygate-token", token.as_str())];
    let disabled = app.send(
        "POST",
        "/waygate/api/flags/new-checkout/disable",
        &auth,
        None,
    );
    assert_eq!(disabled.status, 200, "{disabled:?}");
    assert_eq!(
        app.expect("/checkout?user_id=beta_tester_1", 200).json()["new_checkout"],
        false
    );
    assert_eq!(app.get("/checkout/v2?user_id=beta_tester_1").status, 404);
    let flags = app.send("GET", "/waygate/api/flags", &auth, None).json();
    assert_eq!(flags.as_array().unwrap().len(), 5);
    app.stop();
}
