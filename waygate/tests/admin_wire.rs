//! The admin REST API over a real connection on loopback, where it used to differ from the
//! Python original in ways a client notices (issue 12, wire behaviour): each test sends what
//! the Python CLI or a plain HTTP client sends and reads the bytes that come back.

mod common;

use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use common::loopback::{request, serve, serve_with_peer, Reply, Server};
use http::StatusCode;
use serde_json::{json, Value};
use waygate::admin::{Auth, WaygateAdmin};
use waygate::prelude::*;

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/orders")]
async fn list_orders() -> &'static str {
    "orders"
}

#[route(POST, "/orders")]
async fn create_order() -> &'static str {
    "created"
}

#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug() -> &'static str {
    "debug"
}

fn b64u(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The app, the admin at `/waygate` (`admin`/`secret`), served on loopback, and a token.
struct App {
    server: Server,
    token: String,
}

impl App {
    async fn start() -> Self {
        Self::serve(false).await
    }

    /// With `peer`, served with `ConnectInfo` (the peer address known).
    async fn serve(peer: bool) -> Self {
        let engine = Engine::new();
        engine.start().await.unwrap();
        let admin = WaygateAdmin::new(engine.clone())
            .auth(Auth::single("admin", "secret"))
            .secret_key("test-secret");
        let app = Router::new()
            .merge(routes![payments, list_orders, create_order, debug])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine));
        let server = match peer {
            true => serve_with_peer(app).await,
            false => serve(app).await,
        };
        let login = request(
            server.addr,
            "POST",
            "/waygate/api/auth/login",
            &[("content-type", "application/json")],
            Some(br#"{"username": "admin", "password": "secret"}"#),
        )
        .await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        let token = login.json()["token"].as_str().unwrap().to_owned();
        Self { server, token }
    }

    /// `method /waygate{path}` with the token, as the Python CLI sends it.
    async fn send(&self, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
        let mut headers = vec![
            ("x-waygate-token", self.token.as_str()),
            ("x-waygate-platform", "cli"),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        request(
            self.server.addr,
            method,
            &format!("/waygate{path}"),
            &headers,
            body,
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body.to_string().as_bytes()))
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    /// What the app itself answers `GET path`.
    async fn serves(&self, path: &str) -> StatusCode {
        request(self.server.addr, "GET", path, &[], None)
            .await
            .status
    }
}

/// Item 1: resetting the counters of a registered route that has no policy is not an
/// error (there is nothing to reset), under one method or several; only an unregistered
/// route is `404`.
#[tokio::test]
async fn resetting_a_route_without_a_policy_is_200() {
    let app = App::start().await;
    let reset = |path: &str, query: &str| format!("/api/rate-limits/{}/reset{query}", b64u(path));
    let reply = app.send("DELETE", &reset("/payments", ""), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json(), json!({"ok": true, "path": "/payments"}));
    let reply = app
        .send("DELETE", &reset("/payments", "?method=GET"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    // `/orders` is served under GET and POST, neither with a policy.
    let reply = app.send("DELETE", &reset("/orders", ""), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    // One of them with a policy: reset, the other skipped.
    let set = app
        .post(
            "/api/rate-limits",
            json!({"path": "/orders", "method": "POST", "limit": "5/minute"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{set:?}");
    let reply = app.send("DELETE", &reset("/orders", ""), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

    let reply = app.send("DELETE", &reset("/nope", ""), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{reply:?}");
    assert!(reply.json()["error"].as_str().unwrap().contains("/nope"));
    let reply = app
        .send("DELETE", &reset("/payments", "?method=POST"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{reply:?}");
}

/// Item 2: turning global maintenance off answers and stores the Python original's
/// default configuration: no stale reason or exempt paths for `global status` to show.
#[tokio::test]
async fn global_disable_resets_the_configuration() {
    let app = App::start().await;
    let on = app
        .post(
            "/api/global/enable",
            json!({"reason": "upgrade", "exempt_paths": ["/health"], "include_force_active": true}),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK);
    assert_eq!(on.json()["reason"], "upgrade");
    let off = app.send("POST", "/api/global/disable", None).await;
    let expected =
        json!({"enabled": false, "reason": "", "exempt_paths": [], "include_force_active": false});
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(off.json(), expected);
    assert_eq!(app.get("/api/global").await.json(), expected);
    // The audit log keeps what it was.
    let audit = app.get("/api/audit?route=__global__").await.json();
    assert_eq!(audit[0]["action"], "global_maintenance_off");
    assert_eq!(audit[1]["reason"], "upgrade");
}

/// Item 3: enabling an env-gated route clears its environments: its JSON is the
/// declared-active shape.
#[tokio::test]
async fn enable_after_env_gate_is_the_declared_active_shape() {
    let app = App::start().await;
    let key = b64u("GET:/payments");
    let declared = app.get(&format!("/api/routes/{key}")).await.json();
    let gated = app
        .post(
            &format!("/api/routes/{key}/env"),
            json!({"envs": ["production"]}),
        )
        .await;
    assert_eq!(gated.json()["allowed_envs"], json!(["production"]));
    assert_eq!(app.serves("/payments").await, StatusCode::NOT_FOUND);
    let enabled = app
        .send("POST", &format!("/api/routes/{key}/enable"), None)
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(enabled.json(), declared);
    assert_eq!(
        app.get(&format!("/api/routes/{key}")).await.json(),
        declared
    );
    assert_eq!(app.serves("/payments").await, StatusCode::OK);

    // A route declared env-only, enabled: active and open to every environment.
    let debug = app
        .send(
            "POST",
            &format!("/api/routes/{}/enable", b64u("GET:/debug")),
            None,
        )
        .await
        .json();
    assert_eq!(debug["status"], "active");
    assert_eq!(debug["allowed_envs"], json!([]));
}

/// Item 4: a maintenance window in the future is reported as what is enforced: `active`,
/// with the pending window, until `start`; `maintenance` once it has begun.
#[tokio::test]
async fn a_pending_window_is_reported_active() {
    let app = App::start().await;
    let key = b64u("GET:/payments");
    let start = Utc::now() + TimeDelta::hours(1);
    let end = start + TimeDelta::hours(1);
    let window = json!({"start": start.to_rfc3339(), "end": end.to_rfc3339(), "reason": "planned"});
    for endpoint in ["schedule", "maintenance"] {
        let reply = app
            .post(&format!("/api/routes/{key}/{endpoint}"), window.clone())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{endpoint}: {reply:?}");
        let state = reply.json();
        assert_eq!(state["status"], "active", "{endpoint}: {state}");
        let start_back = state["window"]["start"].as_str().unwrap();
        assert_eq!(DateTime::parse_from_rfc3339(start_back).unwrap(), start);
        assert_eq!(app.serves("/payments").await, StatusCode::OK);
        // What `waygate status` reads.
        let one = app.get(&format!("/api/routes/{key}")).await.json();
        assert_eq!(one["status"], "active");
        let all = app.get("/api/routes").await.json();
        let listed = all
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == "GET:/payments")
            .unwrap();
        assert_eq!(listed["status"], "active");
        assert_eq!(listed["window"]["reason"], "planned");
    }

    // A window that has begun: maintenance, and enforced.
    let begun = json!({
        "start": (Utc::now() - TimeDelta::minutes(1)).to_rfc3339(),
        "end": (Utc::now() + TimeDelta::hours(1)).to_rfc3339(),
    });
    let reply = app
        .post(&format!("/api/routes/{key}/maintenance"), begun)
        .await;
    assert_eq!(reply.json()["status"], "maintenance");
    assert_eq!(
        app.get(&format!("/api/routes/{key}")).await.json()["status"],
        "maintenance"
    );
    assert_eq!(
        app.serves("/payments").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// Item 5: a window that has already ended is refused by `maintenance` as by `schedule`,
/// with the same message, and nothing changes.
#[tokio::test]
async fn an_ended_window_is_refused_by_maintenance_and_schedule_alike() {
    let app = App::start().await;
    let key = b64u("GET:/orders");
    let ended = json!({"start": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00"});
    let maintenance = app
        .post(&format!("/api/routes/{key}/maintenance"), ended.clone())
        .await;
    let schedule = app
        .post(&format!("/api/routes/{key}/schedule"), ended)
        .await;
    assert_eq!(
        maintenance.status,
        StatusCode::BAD_REQUEST,
        "{maintenance:?}"
    );
    assert_eq!(schedule.status, StatusCode::BAD_REQUEST, "{schedule:?}");
    assert_eq!(maintenance.json(), schedule.json());
    assert!(
        maintenance.json()["error"]
            .as_str()
            .unwrap()
            .contains("the window has already ended"),
        "{maintenance:?}"
    );
    assert_eq!(
        app.get(&format!("/api/routes/{key}")).await.json()["status"],
        "active"
    );
    assert_eq!(app.serves("/orders").await, StatusCode::OK);
}

/// Item 6: the errors axum answers itself are JSON too: a body over the limit (`413`), a
/// wrong method (`405`, its `Allow` header kept), a wrong method on a public path.
#[tokio::test]
async fn every_api_error_is_json() {
    let app = App::start().await;
    let big = vec![b'a'; 3 * 1024 * 1024];
    let reply = app.send("POST", "/api/global/enable", Some(&big)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("length limit exceeded"),
        "{reply:?}"
    );

    let reply = request(app.server.addr, "GET", "/waygate/api/auth/login", &[], None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(
        reply.json(),
        json!({"error": "Method Not Allowed: this path does not take GET"})
    );

    let reply = app.send("PUT", "/api/routes", Some(b"{}")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("Method Not Allowed"));

    // A wrong content type on a typed body is JSON already; unknown paths too.
    let reply = app.get("/api/nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json(), json!({"error": "Not Found"}));
}

/// Item 10 (admin half): setting a per-IP limit on a server that does not record peer
/// addresses says so in a `warning`: every client would share one counter. Served with
/// `ConnectInfo`, or keyed by something else, there is no warning.
#[tokio::test]
async fn a_per_ip_limit_without_connect_info_carries_a_warning() {
    let app = App::start().await;
    let reply = app
        .post(
            "/api/rate-limits",
            json!({"path": "/payments", "limit": "5/minute"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let policy = reply.json();
    assert_eq!(policy["key_strategy"], "ip");
    assert_eq!(policy["limit"], "5/minute");
    let warning = policy["warning"].as_str().expect("a warning");
    assert!(
        warning.contains("per-IP limits need the peer address"),
        "{warning}"
    );
    assert!(
        warning.contains("into_make_service_with_connect_info::<SocketAddr>()"),
        "{warning}"
    );
    for path in ["/api/global-rate-limit", "/api/services/billing/rate-limit"] {
        let reply = app.post(path, json!({"limit": "100/minute"})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{path}: {reply:?}");
        assert!(reply.json()["warning"].is_string(), "{path}: {reply:?}");
    }
    let reply = app
        .post(
            "/api/rate-limits",
            json!({"path": "/orders", "limit": "5/minute", "key_strategy": "global"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(reply.json().get("warning").is_none(), "{reply:?}");

    let with_peer = App::serve(true).await;
    let reply = with_peer
        .post(
            "/api/rate-limits",
            json!({"path": "/payments", "limit": "5/minute"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(reply.json().get("warning").is_none(), "{reply:?}");
}

/// Item 12: reasons, exempt paths, environments, keys and service names are capped at
/// 1 KB each (and lists at 100 entries): `400` naming the field, nothing stored.
#[tokio::test]
async fn admin_strings_are_capped() {
    let app = App::start().await;
    let long = "x".repeat(1025);
    let fits = "x".repeat(1024);
    let key = b64u("GET:/payments");
    let cases = [
        (
            format!("/api/routes/{key}/disable"),
            json!({"reason": long}),
            "reason",
        ),
        (
            format!("/api/routes/{key}/maintenance"),
            json!({"reason": long}),
            "reason",
        ),
        (
            format!("/api/routes/{key}/env"),
            json!({"envs": [long]}),
            "each of envs",
        ),
        (
            "/api/global/enable".to_owned(),
            json!({"reason": long}),
            "reason",
        ),
        (
            "/api/global/enable".to_owned(),
            json!({"exempt_paths": ["/health", long]}),
            "each of exempt_paths",
        ),
        (
            "/api/global/enable".to_owned(),
            json!({"exempt_paths": vec!["/x"; 101]}),
            "exempt_paths has too many entries",
        ),
        (
            "/api/services/billing/maintenance/enable".to_owned(),
            json!({"reason": long}),
            "reason",
        ),
        (
            "/api/global-rate-limit".to_owned(),
            json!({"limit": "5/minute", "exempt_routes": [long]}),
            "each of exempt_routes",
        ),
        (
            format!("/api/routes/{}/disable", b64u(&long)),
            json!({}),
            "path_key",
        ),
        (
            format!("/api/services/{long}/maintenance/enable"),
            json!({}),
            "service",
        ),
    ];
    for (path, body, field) in cases {
        let reply = app.post(&path, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply:?}");
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.starts_with(field), "{path}: {error}");
        assert!(error.contains("at most"), "{path}: {error}");
    }
    let reply = app
        .post(
            &format!("/api/routes/{key}/disable"),
            json!({"reason": long}),
        )
        .await;
    assert_eq!(
        reply.json()["error"],
        "reason is too long: 1025 bytes, at most 1024"
    );
    // Nothing was stored.
    let state = app.get(&format!("/api/routes/{key}")).await.json();
    assert_eq!(state["status"], "active");
    assert_eq!(app.get("/api/global").await.json()["enabled"], false);
    // 1 KB fits.
    let reply = app
        .post(
            &format!("/api/routes/{key}/disable"),
            json!({"reason": fits}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["reason"].as_str().unwrap().len(), 1024);
}
