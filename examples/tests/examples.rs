//! Starts each example's real binary on loopback and checks, row by row, the behaviour table
//! in its header, over HTTP.
//!
//! The client is a few lines of HTTP/1.1 over `std::net::TcpStream` (GET, or any method with
//! a JSON body for the admin API; optional extra headers; `Connection: close`), so the tests
//! need no HTTP client crate and no async runtime.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long an example may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
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
    check_admin(app);
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

    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.json()["username"], "admin");
    let token = login.json()["token"].as_str().unwrap().to_owned();
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

    let enabled = app.send(
        "POST",
        &format!("{payments}/enable"),
        &auth,
        Some(r#"{"reason": ""}"#),
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(enabled.json()["status"], "active");
    assert_eq!(app.expect("/payments", 200).json(), json!({"payments": []}));

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
// the checks do not interfere; the tests finish long before any one-minute window ends.

#[test]
fn rate_limiting_over_loopback() {
    let app = Example::start("rate_limiting", &[]);

    let health = app.expect("/health", 200);
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert_eq!(health.header("x-ratelimit-limit"), None, "no limit");

    check_ip_limit_headers(&app);
    check_fixed_window_429(&app);
    for (path, algorithm) in [("/sliding", "sliding_window"), ("/moving", "moving_window")] {
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
    for user in ["u1", "u2", "u3", "u4", "u5"] {
        let reply = app.expect_with("/search", &[("x-user-id", user)], 200);
        assert_eq!(reply.json(), json!({"results": []}));
    }
    let shared = app.expect_with("/search", &[("x-user-id", "u6")], 429);
    assert_eq!(shared.code(), "RATE_LIMIT_EXCEEDED");
    app.expect("/search", 429);

    check_user_keys(&app);

    // API key, then the IP when there is none.
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
    assert_eq!(app.statuses("/internal/metrics", &client, 10), [200; 10]);
    app.expect_with("/internal/metrics", &client, 429);
    let internal = [("x-forwarded-for", "10.1.2.3")];
    assert_eq!(app.statuses("/internal/metrics", &internal, 12), [200; 12]);
    app.stop();
}

// ---------------------------------------------------------------------------------------------
// Running an example
// ---------------------------------------------------------------------------------------------

/// A running example binary. Dropping it kills the process, so a failed assertion leaks
/// nothing; a failing test also prints the example's log.
struct Example {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    /// The example's stderr (its tracing log).
    log: Arc<Mutex<String>>,
    /// Reads stdout after the `listening on` line; returns what else the example printed.
    stdout: Option<thread::JoinHandle<Vec<String>>>,
}

impl Example {
    /// Starts the example on an ephemeral port, with `env` on top of a clean environment
    /// (no `APP_ENV`, `WAYGATE_*`, `SCHEDULE_*` or `TRUSTED_PROXIES` from the caller; memory
    /// backend).
    fn start(name: &'static str, env: &[(&str, &str)]) -> Self {
        let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut command = Command::new(&binary);
        for var in [
            "APP_ENV",
            "WAYGATE_ENV",
            "WAYGATE_FILE_PATH",
            "SCHEDULE_DELAY_SECS",
            "SCHEDULE_DURATION_SECS",
            "TRUSTED_PROXIES",
        ] {
            command.env_remove(var);
        }
        command
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("WAYGATE_BACKEND", "memory")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });

        let stdout = child.stdout.take().expect("stdout is piped");
        let (first_line, first_line_rx) = mpsc::channel();
        let stdout = thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = first_line.send(lines.next());
            lines.collect()
        });

        let mut example = Self {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            stdout: Some(stdout),
        };
        let line = match first_line_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Some(line)) => line,
            Ok(None) => panic!("{name} exited without printing its address"),
            Err(_) => panic!("{name} printed nothing within {STARTUP_TIMEOUT:?}"),
        };
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("{name}'s first line is not `listening on ..`: {line:?}"));
        example.addr = addr
            .parse()
            .unwrap_or_else(|e| panic!("{name} printed a bad address ({e}): {line:?}"));
        assert!(example.addr.ip().is_loopback(), "{name} listens on {addr}");
        assert_ne!(example.addr.port(), 0);
        example
    }

    /// `GET path`.
    fn get(&self, path: &str) -> Reply {
        get(self.addr, path, &[])
    }

    /// `GET path`, which must answer `status`.
    fn expect(&self, path: &str, status: u16) -> Reply {
        self.expect_with(path, &[], status)
    }

    /// `GET path` with extra request headers, which must answer `status`.
    fn expect_with(&self, path: &str, headers: &[(&str, &str)], status: u16) -> Reply {
        let reply = get(self.addr, path, headers);
        assert_eq!(
            reply.status, status,
            "{} GET {path} {headers:?}: {reply:?}",
            self.name
        );
        reply
    }

    /// `method path` with `headers` and a JSON `body`.
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        send(self.addr, method, path, headers, body)
    }

    /// The statuses of `n` requests `GET path` with `headers`, one after the other.
    fn statuses(&self, path: &str, headers: &[(&str, &str)], n: usize) -> Vec<u16> {
        (0..n)
            .map(|_| get(self.addr, path, headers).status)
            .collect()
    }

    /// `GET path` until `done(reply)`, a few times a second, failing at `deadline`.
    fn poll(&self, path: &str, done: impl Fn(&Reply) -> bool, deadline: DateTime<Utc>) -> Reply {
        loop {
            let reply = self.get(path);
            if done(&reply) {
                return reply;
            }
            assert!(
                Utc::now() < deadline,
                "{} GET {path}: still {reply:?} at the deadline",
                self.name
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks the example to shut down as a user would (SIGTERM), checks that it exits cleanly,
    /// and that it printed nothing to stdout but its address.
    fn stop(mut self) {
        #[cfg(not(unix))]
        {
            self.child.kill().expect("kill the example");
            self.child.wait().expect("wait for the example");
        }
        #[cfg(unix)]
        {
            let sent = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {}", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            let status = loop {
                if let Some(status) = self.child.try_wait().expect("wait for the example") {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not shut down on SIGTERM",
                    self.name
                );
                thread::sleep(Duration::from_millis(20));
            };
            assert!(status.success(), "{} exited with {status}", self.name);
        }
        // The process is gone, so its stdout is closed and the reader finishes.
        let reader = self.stdout.take().expect("stop is called once");
        let extra = reader.join().expect("the stdout reader");
        assert!(
            extra.is_empty(),
            "{} printed more to stdout: {extra:?}",
            self.name
        );
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        // Already exited after `stop`; otherwise a test failed half-way.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("--- {} log ---\n{log}", self.name);
        }
    }
}

/// Where cargo puts the example binaries, after building them (once per test run).
///
/// Test binaries live in `<target>/<profile>/deps/`, examples in
/// `<target>/<profile>/examples/`; building with the same target dir and profile is cheap when
/// `cargo test` has already built them.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binaries live in <target>/<profile>/deps");
        let target_dir = profile_dir.parent().expect("<target>/<profile>");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev",
            Some(other) => other,
            None => panic!("unexpected test binary path {}", exe.display()),
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "--profile", profile])
            .args([
                "--manifest-path",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            ])
            .arg("--target-dir")
            .arg(target_dir)
            .status()
            .expect("run cargo");
        assert!(status.success(), "cargo build --examples failed: {status}");
        profile_dir.join("examples")
    })
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

/// A response, read whole.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }

    /// The `error.code` of a waygate error body.
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {self:?}"))
            .to_owned()
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} {:?}", self.status, self.headers, self.body)
    }
}

/// `GET path` with extra `headers`, on a fresh connection.
fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("send GET {path}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read the reply to GET {path}: {e}"));
    parse(&raw).unwrap_or_else(|e| {
        panic!(
            "GET {path}: malformed reply ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `method path` with extra `headers` and a JSON `body`, on a fresh connection.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("send {method} {path}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read the reply to {method} {path}: {e}"));
    parse(&raw).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: malformed reply ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse(raw: &[u8]) -> Result<Reply, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        ["HTTP/1.1", code, ..] => code.parse().map_err(|_| "bad status code")?,
        _ => return Err(format!("bad status line {status_line:?}")),
    };
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').ok_or("bad header line")?;
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let mut reply = Reply {
        status,
        headers,
        body: String::new(),
    };
    let rest = &raw[end + 4..];
    let body = if reply.header("transfer-encoding") == Some("chunked") {
        dechunk(rest)?
    } else if let Some(length) = reply.header("content-length") {
        let length: usize = length.parse().map_err(|_| "bad content-length")?;
        if rest.len() != length {
            return Err(format!("content-length {length}, got {} bytes", rest.len()));
        }
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    reply.body = String::from_utf8(body).map_err(|e| e.to_string())?;
    Ok(reply)
}

/// Decodes a chunked body.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("unterminated chunk size")?;
        let size = std::str::from_utf8(&raw[..line_end]).map_err(|e| e.to_string())?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| format!("bad chunk size {size:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if raw.len() < size + 2 {
            return Err("truncated chunk".to_owned());
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
