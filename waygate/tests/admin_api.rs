//! The admin REST API, driven like the Python CLI drives it: an app with declared routes,
//! the admin nested at `/waygate`, the layer in front. Ports the Python original's
//! `tests/admin/test_api.py` and `test_auth.py`, plus the differences DECISIONS.md asks for.

use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use waygate::admin::{Auth, AuthBackend, WaygateAdmin};
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::rate_limit::{Algorithm, KeyStrategy};
use waygate::{AuditQuery, RouteState, RouteStatus};

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/orders")]
async fn list_orders() -> &'static str {
    "orders"
}

#[route(POST, "/orders")]
async fn create_order() -> &'static str {
    "created"
}

const SECRET: &str = "test-secret";

/// `b64u(key)`: the `{path_key}` of a route key.
fn b64u(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// An app with the admin nested at `/waygate`, and the token the client presents.
struct Api {
    app: Router,
    engine: Engine,
    token: Option<String>,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    json: Value,
}

impl Reply {
    fn error(&self) -> &str {
        self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {self:?}"))
    }
}

impl Api {
    /// No auth: open mode.
    async fn open() -> Self {
        Self::build(Self::engine().await, |admin| admin).await
    }

    /// `admin` / `secret`, signed with [`SECRET`].
    async fn secured() -> Self {
        Self::build(Self::engine().await, secured).await
    }

    async fn engine() -> Engine {
        let engine = Engine::new();
        engine.start().await.unwrap();
        engine
    }

    async fn build(engine: Engine, configure: impl FnOnce(WaygateAdmin) -> WaygateAdmin) -> Self {
        let admin = configure(WaygateAdmin::new(engine.clone()));
        let app = Router::new()
            .merge(routes![payments, health, list_orders, create_order])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine.clone()));
        Self {
            app,
            engine,
            token: None,
        }
    }

    /// Sends `method /waygate{path}` with `body` (raw), the client's token, and `headers`.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/waygate{path}"));
        // The Python CLI sends this on every request.
        if !headers.iter().any(|(n, _)| *n == "x-waygate-platform") {
            request = request.header("x-waygate-platform", "cli");
        }
        if let Some(token) = &self.token {
            request = request.header("x-waygate-token", token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "{method} {path}: {status} {bytes:?}"
            );
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply { status, json }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(&body.to_string()), &[]).await
    }

    async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send("POST", path, Some(body), &[]).await
    }

    /// `POST` without a body, as the CLI sends `global disable`.
    async fn post_empty(&self, path: &str) -> Reply {
        self.send("POST", path, None, &[]).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None, &[]).await
    }

    /// Logs in as `admin` and keeps the token.
    async fn login(&mut self) -> Value {
        let reply = self
            .post(
                "/api/auth/login",
                json!({"username": "admin", "password": "secret"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        self.token = Some(reply.json["token"].as_str().unwrap().to_owned());
        reply.json
    }

    /// The status the app (not the admin) answers `method path` with.
    async fn app_status(&self, method: &str, path: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        self.app.clone().oneshot(request).await.unwrap().status()
    }

    fn status_of(&self, key: &str) -> RouteStatus {
        self.engine.state(key).unwrap().status
    }

    async fn last_audit(&self, key: &str) -> waygate::AuditEntry {
        let entries = self
            .engine
            .audit_log(&AuditQuery::latest(1).route(key))
            .await
            .unwrap();
        entries
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no audit entry for {key}"))
    }
}

fn secured(admin: WaygateAdmin) -> WaygateAdmin {
    admin
        .auth(Auth::single("admin", "secret"))
        .secret_key(SECRET)
}

/// A token built by hand, as the Python original's `TokenManager` builds one (compact JSON
/// with the keys in this order), signed with the key of [`secured`]:
/// `"{secret}:{sha256("admin:secret")[..16]}"`.
fn hand_made_token(sub: &str, exp: DateTime<Utc>, jti: &str) -> String {
    let claims = format!(
        r#"{{"sub":{},"exp":{},"jti":{},"plat":"cli"}}"#,
        json!(sub),
        json!(unix(exp)),
        json!(jti)
    );
    let fingerprint = hex(&Sha256::digest(b"admin:secret"))[..16].to_owned();
    let payload = URL_SAFE_NO_PAD.encode(claims);
    let mut mac =
        Hmac::<Sha256>::new_from_slice(format!("{SECRET}:{fingerprint}").as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{payload}.{}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix(at: DateTime<Utc>) -> f64 {
    at.timestamp_micros() as f64 / 1e6
}

/// An engine whose backend also holds a `billing` service's route, as the server mode
/// stores them.
async fn engine_with_billing() -> Engine {
    let backend = MemoryBackend::new();
    let mut state = RouteState::active("billing:GET:/invoices");
    state.service = Some("billing".to_owned());
    backend.set_state(&state).await.unwrap();
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    engine
}

// ---------------------------------------------------------------------------------------------
// Auth endpoints
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_returns_a_token_its_user_and_a_python_readable_expiry() {
    let mut api = Api::secured().await;
    let before = Utc::now();
    let body = api.login().await;
    assert_eq!(body["username"], "admin");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expires_at", "token", "username"]);
    let expires_at = body["expires_at"].as_str().unwrap();
    // `datetime.fromisoformat` reads `+00:00` (Python before 3.11 did not read `Z`).
    assert!(expires_at.ends_with("+00:00"), "{expires_at}");
    let expires_at = DateTime::parse_from_rfc3339(expires_at).unwrap().to_utc();
    let lifetime = expires_at - before;
    assert!(
        lifetime > TimeDelta::hours(24) - TimeDelta::seconds(5)
            && lifetime <= TimeDelta::hours(24) + TimeDelta::seconds(5),
        "{lifetime}"
    );
    // The token's payload is the Python original's.
    let token = body["token"].as_str().unwrap();
    let (payload, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(signature.len(), 64);
    assert!(signature
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["plat"], "cli");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 16);
    assert!((claims["exp"].as_f64().unwrap() - unix(expires_at)).abs() < 1e-5);
    assert_eq!(
        hand_made_token("admin", expires_at, claims["jti"].as_str().unwrap()),
        token,
        "same bytes as built by hand"
    );

    let me = api.get("/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json, json!({"username": "admin", "platform": "cli"}));
}

#[tokio::test]
async fn login_errors() {
    let api = Api::secured().await;
    for (body, status, error) in [
        (
            r#"{"username": "admin", "password": "wrong"}"#,
            401,
            "Invalid credentials",
        ),
        (
            r#"{"username": "nobody", "password": "secret"}"#,
            401,
            "Invalid credentials",
        ),
        (
            r#"{"username": "admin"}"#,
            400,
            "username and password are required",
        ),
        (
            r#"{"username": "admin", "password": ""}"#,
            400,
            "username and password are required",
        ),
        (
            r#"{"username": "admin", "password": 123}"#,
            400,
            "password must be a string",
        ),
        (
            r#"{"username": ["admin"], "password": "secret"}"#,
            400,
            "username must be a string",
        ),
        ("not json", 400, "Invalid JSON body"),
        ("", 400, "Invalid JSON body"),
        (r#"["admin", "secret"]"#, 400, "JSON body must be an object"),
    ] {
        let reply = api.post_raw("/api/auth/login", body).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {reply:?}");
        assert_eq!(reply.json, json!({"error": error}), "{body}");
    }
}

#[tokio::test]
async fn login_without_auth_configured_is_501() {
    let api = Api::open().await;
    let reply = api
        .post("/api/auth/login", json!({"username": "u", "password": "p"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        reply.json,
        json!({"error": "Auth not configured on this server"})
    );
}

#[tokio::test]
async fn sdk_tokens_live_longer_and_lifetimes_are_configurable() {
    let api = Api::build(Api::engine().await, |admin| {
        secured(admin)
            .token_expiry(Duration::from_secs(60))
            .sdk_token_expiry(Duration::from_secs(7 * 86_400))
    })
    .await;
    let lifetime = |body: &Value| {
        let at = DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
        (at.to_utc() - Utc::now()).num_seconds()
    };
    let cli = api
        .post(
            "/api/auth/login",
            json!({"username": "admin", "password": "secret"}),
        )
        .await;
    assert!((55..=60).contains(&lifetime(&cli.json)), "{cli:?}");
    let sdk = api
        .post(
            "/api/auth/login",
            json!({"username": "admin", "password": "secret", "platform": "sdk", "app_id": "pay"}),
        )
        .await;
    assert!(
        (7 * 86_400 - 5..=7 * 86_400).contains(&lifetime(&sdk.json)),
        "{sdk:?}"
    );
    // Anything else is `cli`, as the spec says (§5.2), `dashboard` included.
    let other = api
        .post(
            "/api/auth/login",
            json!({"username": "admin", "password": "secret", "platform": "tv"}),
        )
        .await;
    assert!((55..=60).contains(&lifetime(&other.json)));
    let dashboard = api
        .post(
            "/api/auth/login",
            json!({"username": "admin", "password": "secret", "platform": "dashboard"}),
        )
        .await;

    let mut sdk_api = Api {
        token: sdk.json["token"].as_str().map(str::to_owned),
        ..api
    };
    let me = sdk_api.get("/api/auth/me").await;
    assert_eq!(me.json, json!({"username": "admin", "platform": "sdk"}));
    sdk_api.token = other.json["token"].as_str().map(str::to_owned);
    assert_eq!(sdk_api.get("/api/auth/me").await.json["platform"], "cli");
    sdk_api.token = dashboard.json["token"].as_str().map(str::to_owned);
    assert_eq!(sdk_api.get("/api/auth/me").await.json["platform"], "cli");
}

#[tokio::test]
async fn me_without_auth_is_the_actor_header_or_anonymous() {
    let api = Api::open().await;
    let me = api.send("GET", "/api/auth/me", None, &[]).await;
    assert_eq!(me.json, json!({"username": "anonymous", "platform": "cli"}));
    let me = api
        .send(
            "GET",
            "/api/auth/me",
            None,
            &[
                ("x-waygate-actor", "ops-bot"),
                ("x-waygate-platform", "dashboard"),
            ],
        )
        .await;
    assert_eq!(
        me.json,
        json!({"username": "ops-bot", "platform": "dashboard"})
    );
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let mut api = Api::secured().await;
    api.login().await;
    assert_eq!(api.get("/api/routes").await.status, StatusCode::OK);

    let logout = api.post_empty("/api/auth/logout").await;
    assert_eq!(logout.status, StatusCode::OK);
    assert_eq!(logout.json, json!({"ok": true}));

    let after = api.get("/api/routes").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        after.json,
        json!({"error": "Authentication required. Use POST /api/auth/login to obtain a token."})
    );
    // Logout is public: again, and without a token, it still answers `ok`.
    assert_eq!(
        api.post_empty("/api/auth/logout").await.status,
        StatusCode::OK
    );
    api.token = None;
    assert_eq!(
        api.post_empty("/api/auth/logout").await.json,
        json!({"ok": true})
    );
}

#[tokio::test]
async fn logout_on_one_instance_revokes_on_every_instance_sharing_the_backend() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine =
        |backend: &Arc<dyn Backend>| Engine::builder().shared_backend(backend.clone()).build();
    let (a, b) = (engine(&backend), engine(&backend));
    a.start().await.unwrap();
    b.start().await.unwrap();
    let mut first = Api::build(a, secured).await;
    let mut second = Api::build(b, secured).await;

    first.login().await;
    second.token = first.token.clone();
    assert_eq!(
        second.get("/api/auth/me").await.status,
        StatusCode::OK,
        "same secret and credentials: the token is valid on both"
    );

    assert_eq!(
        first.post_empty("/api/auth/logout").await.status,
        StatusCode::OK
    );
    assert_eq!(
        first.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The second engine learns of the revocation from the backend.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = second.get("/api/auth/me").await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let payload = first.token.as_deref().unwrap().split('.').next().unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(second
        .engine
        .is_token_revoked(claims["jti"].as_str().unwrap()));
}

#[tokio::test]
async fn the_session_cookie_works_like_the_header() {
    let mut api = Api::secured().await;
    api.login().await;
    let token = api.token.take().unwrap();
    let cookie = format!("theme=dark; waygate_session={token}");
    let me = api
        .send("GET", "/api/auth/me", None, &[("cookie", &cookie)])
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["username"], "admin");
    let other = api
        .send(
            "GET",
            "/api/auth/me",
            None,
            &[("cookie", "waygate_session=nope")],
        )
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn foreign_tampered_expired_and_garbage_tokens_are_refused() {
    let mut api = Api::secured().await;
    api.login().await;
    let valid = api.token.clone().unwrap();
    let (payload, signature) = valid.rsplit_once('.').unwrap();

    // Signed by another server's secret.
    let mut other = Api::build(Api::engine().await, |admin| {
        admin
            .auth(Auth::single("admin", "secret"))
            .secret_key("another-secret")
    })
    .await;
    other.login().await;

    let now = Utc::now();
    let fresh = hand_made_token("admin", now + TimeDelta::hours(1), "0123456789abcdef");
    let expired = hand_made_token("admin", now - TimeDelta::seconds(1), "0123456789abcdef");
    let mut flipped = signature.to_owned().into_bytes();
    flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
    let forged_payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": "root", "exp": unix(now + TimeDelta::hours(1)), "jti": "0123456789abcdef", "plat": "cli"})
            .to_string(),
    );

    // The hand-made token is accepted, so the expired one is refused for its expiry alone.
    api.token = Some(fresh);
    assert_eq!(api.get("/api/auth/me").await.status, StatusCode::OK);

    for (what, token) in [
        ("another secret", other.token.clone().unwrap()),
        ("expired", expired),
        (
            "signature changed",
            format!("{payload}.{}", String::from_utf8(flipped).unwrap()),
        ),
        (
            "signature upper-case",
            format!("{payload}.{}", signature.to_uppercase()),
        ),
        (
            "signature truncated",
            format!("{payload}.{}", &signature[..32]),
        ),
        ("payload changed", format!("{forged_payload}.{signature}")),
        ("no signature", payload.to_owned()),
        ("garbage", "garbage".to_owned()),
        ("dots", "...".to_owned()),
    ] {
        api.token = Some(token);
        let reply = api.get("/api/routes").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {reply:?}");
        assert_eq!(
            reply.error(),
            "Authentication required. Use POST /api/auth/login to obtain a token.",
            "{what}"
        );
    }
}

#[tokio::test]
async fn credentials_change_invalidates_tokens_and_a_restart_keeps_them() {
    let mut api = Api::secured().await;
    api.login().await;
    let token = api.token.clone();

    // The same secret and credentials after a "restart": valid.
    let mut restarted = Api::build(Api::engine().await, secured).await;
    restarted.token = token.clone();
    assert_eq!(restarted.get("/api/auth/me").await.status, StatusCode::OK);

    // Same secret, another password: every token issued before is invalid.
    let mut changed = Api::build(Api::engine().await, |admin| {
        admin
            .auth(Auth::single("admin", "changed"))
            .secret_key(SECRET)
    })
    .await;
    changed.token = token.clone();
    assert_eq!(
        changed.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );

    // No secret key: a random one, so tokens of another instance are invalid.
    let mut random = Api::build(Api::engine().await, |admin| {
        admin.auth(Auth::single("admin", "secret"))
    })
    .await;
    random.token = token;
    assert_eq!(
        random.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Passwords and signatures are compared in constant time (SHA-256 digests compared with
/// `subtle`, and `Mac::verify_slice`; see `waygate::admin::Auth`); timing is not testable
/// here, so this checks that every near miss — same length, a prefix, one more character,
/// a different case — is refused like any wrong value.
#[tokio::test]
async fn near_misses_are_refused() {
    let api = Api::build(Api::engine().await, |admin| {
        admin
            .auth(Auth::users([
                ("alice", "correct horse"),
                ("bob", "battery staple"),
            ]))
            .secret_key(SECRET)
    })
    .await;
    let login = |username: &'static str, password: &'static str| {
        let api = &api;
        async move {
            api.post(
                "/api/auth/login",
                json!({"username": username, "password": password}),
            )
            .await
            .status
        }
    };
    assert_eq!(login("alice", "correct horse").await, StatusCode::OK);
    assert_eq!(login("bob", "battery staple").await, StatusCode::OK);
    for (username, password) in [
        ("alice", "correct horsf"),
        ("alice", "correct hors"),
        ("alice", "correct horse "),
        ("alice", "Correct horse"),
        ("alice", "battery staple"),
        ("Alice", "correct horse"),
        ("alic", "correct horse"),
        ("carol", "correct horse"),
    ] {
        assert_eq!(
            login(username, password).await,
            StatusCode::UNAUTHORIZED,
            "{username}/{password}"
        );
    }
}

#[tokio::test]
async fn a_custom_auth_backend() {
    struct Directory;

    #[async_trait::async_trait]
    impl AuthBackend for Directory {
        async fn authenticate(&self, username: &str, password: &str) -> bool {
            username == "ops" && password == "pw"
        }

        fn fingerprint(&self) -> String {
            "directory-v1".to_owned()
        }
    }

    let mut api = Api::build(Api::engine().await, |admin| {
        admin.auth(Auth::custom(Directory))
    })
    .await;
    let reply = api
        .post(
            "/api/auth/login",
            json!({"username": "ops", "password": "pw"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    api.token = reply.json["token"].as_str().map(str::to_owned);
    assert_eq!(api.get("/api/auth/me").await.json["username"], "ops");
    let wrong = api
        .post(
            "/api/auth/login",
            json!({"username": "ops", "password": "no"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

/// Every API path and method answers `401` without a token, with a tampered one, and with
/// an expired one; only the exact public paths do not.
#[tokio::test]
async fn every_api_path_needs_a_valid_token() {
    let mut api = Api::secured().await;
    api.login().await;
    let valid = api.token.clone().unwrap();
    let (payload, signature) = valid.rsplit_once('.').unwrap();
    let tampered = format!(
        "{payload}.{}{}",
        &signature[..63],
        if signature.ends_with('0') { '1' } else { '0' }
    );
    let expired = hand_made_token(
        "admin",
        Utc::now() - TimeDelta::minutes(1),
        "00000000deadbeef",
    );
    let key = b64u("GET:/payments");
    let paths: Vec<(&str, String)> = vec![
        ("GET", "/api/auth/me".into()),
        ("GET", "/api/routes".into()),
        ("GET", format!("/api/routes/{key}")),
        ("POST", format!("/api/routes/{key}/enable")),
        ("POST", format!("/api/routes/{key}/disable")),
        ("POST", format!("/api/routes/{key}/maintenance")),
        ("POST", format!("/api/routes/{key}/env")),
        ("POST", format!("/api/routes/{key}/schedule")),
        ("DELETE", format!("/api/routes/{key}/schedule")),
        ("GET", "/api/audit".into()),
        ("GET", "/api/global".into()),
        ("POST", "/api/global/enable".into()),
        ("POST", "/api/global/disable".into()),
        ("GET", "/api/services".into()),
        ("GET", "/api/services/billing/maintenance".into()),
        ("POST", "/api/services/billing/maintenance/enable".into()),
        ("POST", "/api/services/billing/maintenance/disable".into()),
        ("GET", "/api/rate-limits".into()),
        ("POST", "/api/rate-limits".into()),
        ("GET", "/api/rate-limits/hits".into()),
        ("DELETE", format!("/api/rate-limits/{key}")),
        (
            "DELETE",
            format!("/api/rate-limits/{}/reset", b64u("/payments")),
        ),
        ("GET", "/api/global-rate-limit".into()),
        ("POST", "/api/global-rate-limit".into()),
        ("DELETE", "/api/global-rate-limit".into()),
        ("DELETE", "/api/global-rate-limit/reset".into()),
        ("POST", "/api/global-rate-limit/enable".into()),
        ("POST", "/api/global-rate-limit/disable".into()),
        ("GET", "/api/services/billing/rate-limit".into()),
        ("POST", "/api/services/billing/rate-limit".into()),
        ("DELETE", "/api/services/billing/rate-limit".into()),
        ("DELETE", "/api/services/billing/rate-limit/reset".into()),
        ("POST", "/api/services/billing/rate-limit/enable".into()),
        ("POST", "/api/services/billing/rate-limit/disable".into()),
        // Unknown paths, and paths that only end like a public one (the Python original's
        // suffix match let these through).
        ("GET", "/api/nothing-here".into()),
        ("GET", "/api/flags/login".into()),
        ("POST", "/api/routes/login".into()),
        ("POST", "/api/auth/login/".into()),
        ("POST", "/x/api/auth/logout".into()),
        ("GET", "/static/../api/routes".into()),
    ];
    let before = api.engine.list_states();
    for (what, token) in [
        ("no token", None),
        ("tampered", Some(tampered)),
        ("expired", Some(expired)),
    ] {
        api.token = token;
        for (method, path) in &paths {
            let reply = api.send(method, path, Some("{}"), &[]).await;
            if cfg!(feature = "dashboard") && !path.starts_with("/api/") {
                // Not an API path: a dashboard page, which redirects to its login page.
                assert_eq!(reply.status, StatusCode::FOUND, "{what}: {method} {path}");
                continue;
            }
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{what}: {method} {path}: {reply:?}"
            );
            assert_eq!(
                reply.json,
                json!({"error": "Authentication required. Use POST /api/auth/login to obtain a token."}),
                "{what}: {method} {path}"
            );
        }
    }
    assert_eq!(api.engine.list_states(), before, "nothing changed");

    // With the valid token, none of them is a 401 (the unknown ones are 404).
    api.token = Some(valid);
    for (method, path) in &paths {
        let reply = api.send(method, path, Some("{}"), &[]).await;
        assert_ne!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {reply:?}"
        );
    }
    assert_eq!(
        api.get("/api/nothing-here").await.status,
        StatusCode::NOT_FOUND
    );

    // The public paths need none.
    api.token = None;
    assert_eq!(
        api.post_empty("/api/auth/logout").await.status,
        StatusCode::OK
    );
    let login = api
        .post(
            "/api/auth/login",
            json!({"username": "admin", "password": "secret"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
}

#[tokio::test]
async fn the_router_works_at_the_root_too() {
    let engine = Api::engine().await;
    let app: Router = WaygateAdmin::new(engine)
        .auth(Auth::single("admin", "secret"))
        .into_router();
    let request = |uri: &str, body: &str| {
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let login = app
        .clone()
        .oneshot(request(
            "/api/auth/login",
            r#"{"username": "admin", "password": "secret"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let routes = app
        .oneshot(Request::get("/api/routes").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(routes.status(), StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_routes_with_a_token() {
    let mut api = Api::secured().await;
    assert_eq!(
        api.get("/api/routes").await.status,
        StatusCode::UNAUTHORIZED
    );
    api.login().await;
    let reply = api.get("/api/routes").await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths: Vec<&str> = reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    for key in [
        "GET:/payments",
        "GET:/health",
        "GET:/orders",
        "POST:/orders",
    ] {
        assert!(paths.contains(&key), "{key} in {paths:?}");
    }
    assert!(
        paths.iter().all(|p| !p.starts_with("__waygate:")),
        "sentinels hidden"
    );
    // Every RouteState field, as the Python original writes it.
    let payments = reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "GET:/payments")
        .unwrap();
    assert_eq!(
        payments,
        &json!({
            "path": "GET:/payments", "service": null, "status": "active", "reason": "",
            "allowed_envs": [], "allowed_roles": [], "allowed_ips": [], "window": null,
            "sunset_date": null, "successor_path": null, "rollout_percentage": 100,
            "force_active": false,
        })
    );
}

#[tokio::test]
async fn services_and_the_service_filter() {
    let api = Api::build(engine_with_billing().await, |a| a).await;
    assert_eq!(api.get("/api/services").await.json, json!(["billing"]));
    let billing = api.get("/api/routes?service=billing").await.json;
    assert_eq!(billing.as_array().unwrap().len(), 1);
    assert_eq!(billing[0]["path"], "billing:GET:/invoices");
    assert_eq!(billing[0]["service"], "billing");
    assert_eq!(api.get("/api/routes?service=nope").await.json, json!([]));
    let all = api.get("/api/routes?service=").await.json;
    assert!(
        all.as_array().unwrap().len() > 1,
        "an empty filter is no filter"
    );

    // `svc:/path` resolves to the service's single method for that path.
    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("billing:/invoices")),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["path"], "billing:GET:/invoices");
    assert_eq!(reply.json["status"], "disabled");
}

#[tokio::test]
async fn get_one_route() {
    let api = Api::open().await;
    let reply = api
        .get(&format!("/api/routes/{}", b64u("GET:/payments")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["path"], "GET:/payments");
    // Padded base64 is accepted too.
    let padded = URL_SAFE_NO_PAD.encode("GET:/payments") + "==";
    assert_eq!(
        api.get(&format!("/api/routes/{padded}")).await.json["path"],
        "GET:/payments"
    );
    // A bare path with one method resolves, as in mutations.
    assert_eq!(
        api.get(&format!("/api/routes/{}", b64u("/payments")))
            .await
            .json["path"],
        "GET:/payments"
    );

    let unknown = api.get(&format!("/api/routes/{}", b64u("GET:/nope"))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.error().contains("GET:/nope"), "{unknown:?}");
    let ambiguous = api.get(&format!("/api/routes/{}", b64u("/orders"))).await;
    assert_eq!(ambiguous.status, StatusCode::CONFLICT);
    assert_eq!(
        ambiguous.json["ambiguous_matches"],
        json!(["GET:/orders", "POST:/orders"])
    );

    for (path_key, expected) in [
        ("not!base64", "invalid path_key: not base64url"),
        ("_w", "invalid path_key: it does not decode to UTF-8 text"),
    ] {
        let reply = api.get(&format!("/api/routes/{path_key}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path_key}");
        assert!(reply.error().starts_with(expected), "{reply:?}");
    }
}

#[tokio::test]
async fn disable_then_enable_changes_what_the_route_answers() {
    let api = Api::open().await;
    let key = b64u("GET:/payments");
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);

    let reply = api
        .post(
            &format!("/api/routes/{key}/disable"),
            json!({"reason": "test-disable"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "disabled");
    assert_eq!(reply.json["reason"], "test-disable");
    assert_eq!(api.status_of("GET:/payments"), RouteStatus::Disabled);
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let reply = api
        .post(
            &format!("/api/routes/{key}/enable"),
            json!({"reason": "fixed"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "active");
    assert_eq!(reply.json["reason"], "fixed");
    let audit = api.last_audit("GET:/payments").await;
    assert_eq!(
        (audit.action.as_str(), audit.reason.as_str()),
        ("enable", "fixed")
    );
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);

    // The body is optional (the dashboard and older clients send none).
    api.post(&format!("/api/routes/{key}/disable"), json!({}))
        .await;
    let reply = api.post_empty(&format!("/api/routes/{key}/enable")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "active");
}

#[tokio::test]
async fn maintenance_now_and_in_a_window() {
    let api = Api::open().await;
    let key = b64u("GET:/payments");
    let reply = api
        .post(
            &format!("/api/routes/{key}/maintenance"),
            json!({"reason": "DB migration"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "maintenance");
    assert_eq!(reply.json["window"], Value::Null);
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    // A window in the future (as the Python CLI sends it: isoformat with `+00:00`): the
    // route stays active until it starts, and its state says so.
    let start = Utc::now() + TimeDelta::hours(1);
    let end = start + TimeDelta::hours(1);
    let reply = api
        .post(
            &format!("/api/routes/{key}/maintenance"),
            json!({"reason": "scheduled", "start": start.to_rfc3339(), "end": end.to_rfc3339()}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["status"], "active");
    let window = &reply.json["window"];
    assert_eq!(window["reason"], "scheduled");
    assert_eq!(
        DateTime::parse_from_rfc3339(window["start"].as_str().unwrap()).unwrap(),
        start
    );
    assert_eq!(
        DateTime::parse_from_rfc3339(window["end"].as_str().unwrap()).unwrap(),
        end
    );
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);

    // A window that has begun (naive datetimes are UTC): maintenance now.
    let start = (Utc::now() - TimeDelta::minutes(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let end = (Utc::now() + TimeDelta::hours(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let reply = api
        .post(
            &format!("/api/routes/{key}/maintenance"),
            json!({"start": start, "end": end}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn malformed_input_is_a_400_naming_the_field_and_changes_nothing() {
    let api = Api::open().await;
    let key = b64u("GET:/payments");
    let later = (Utc::now() + TimeDelta::hours(1)).to_rfc3339();
    for (action, body, error) in [
        ("disable", r#"{"reason": 5}"#, "reason must be a string"),
        ("disable", "[1]", "JSON body must be an object"),
        ("disable", "{", "Invalid JSON body"),
        ("enable", r#"{"reason": ["x"]}"#, "reason must be a string"),
        (
            "maintenance",
            r#"{"start": "tomorrow", "end": "later"}"#,
            "Invalid datetime for start",
        ),
        (
            "maintenance",
            &format!(r#"{{"start": "{later}"}}"#),
            "end is required with start",
        ),
        (
            "maintenance",
            &format!(r#"{{"end": "{later}"}}"#),
            "start is required with end",
        ),
        (
            "maintenance",
            r#"{"start": 1, "end": 2}"#,
            "start must be a string",
        ),
        ("env", "", "Invalid JSON body"),
        (
            "env",
            r#"{"envs": "staging"}"#,
            "envs must be a list of strings",
        ),
        (
            "env",
            r#"{"envs": ["staging", 1]}"#,
            "envs must be a list of strings",
        ),
        ("env", r#"{"envs": []}"#, "invalid envs"),
        (
            "schedule",
            r#"{"start": "2030-01-01T00:00:00Z"}"#,
            "start and end are required",
        ),
        ("schedule", "\"x\"", "JSON body must be an object"),
        (
            "schedule",
            r#"{"start": "2030-01-01T00:00:00Z", "end": "never"}"#,
            "Invalid datetime for end",
        ),
    ] {
        let reply = api
            .post_raw(&format!("/api/routes/{key}/{action}"), body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{action} {body}: {reply:?}"
        );
        assert!(
            reply.error().starts_with(error),
            "{action} {body}: {reply:?}"
        );
        assert_eq!(
            api.status_of("GET:/payments"),
            RouteStatus::Active,
            "{action} {body}"
        );
    }
    // A window whose end is before its start is the engine's 400.
    let reply = api
        .post(
            &format!("/api/routes/{key}/maintenance"),
            json!({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().starts_with("invalid window"), "{reply:?}");
    assert!(api
        .engine
        .audit_log(&AuditQuery::latest(10))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn env_gate() {
    let api = Api::open().await;
    let key = b64u("GET:/payments");
    let reply = api
        .post(
            &format!("/api/routes/{key}/env"),
            json!({"envs": ["staging", "prod"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "env_gated");
    assert_eq!(reply.json["allowed_envs"], json!(["staging", "prod"]));
    // This engine runs in `dev`: the route is gone.
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::NOT_FOUND
    );
    let audit = api.last_audit("GET:/payments").await;
    assert_eq!(audit.action, "env_gate");
    assert_eq!(audit.reason, "Restricted to: ['staging', 'prod']");
}

#[tokio::test]
async fn schedule_and_cancel() {
    let api = Api::open().await;
    let key = b64u("GET:/payments");
    let start = Utc::now() + TimeDelta::hours(1);
    let end = start + TimeDelta::hours(1);
    let reply = api
        .post(
            &format!("/api/routes/{key}/schedule"),
            json!({"start": start.to_rfc3339(), "end": end.to_rfc3339(), "reason": "planned work"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["status"], "active", "pending until start");
    assert_eq!(reply.json["window"]["reason"], "planned work");
    assert_eq!(reply.json["reason"], "planned work");

    let reply = api.delete(&format!("/api/routes/{key}/schedule")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "active");
    assert_eq!(reply.json["window"], Value::Null);
    assert!(
        api.engine.state("GET:/payments").unwrap().window.is_none(),
        "the cancellation is stored"
    );
    // Nothing scheduled: unchanged, still 200.
    assert_eq!(
        api.delete(&format!("/api/routes/{key}/schedule"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        api.delete(&format!("/api/routes/{}/schedule", b64u("GET:/nope")))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A window that has already ended is refused.
    let reply = api
        .post(
            &format!("/api/routes/{key}/schedule"),
            json!({"start": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().starts_with("invalid window"), "{reply:?}");
}

#[tokio::test]
async fn not_found_ambiguous_and_protected() {
    let api = Api::open().await;
    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("GET:/nope")),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json.get("ambiguous_matches").is_none());

    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("/orders")),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.json["ambiguous_matches"],
        json!(["GET:/orders", "POST:/orders"])
    );
    assert!(reply.error().contains("ambiguous"), "{reply:?}");

    // The CLI then applies the action to each match.
    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("POST:/orders")),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    // A bare path with one method resolves to it.
    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("/payments")),
            json!({}),
        )
        .await;
    assert_eq!(reply.json["path"], "GET:/payments");

    // `#[force_active]`: a 409 without `ambiguous_matches` (the CLI tells them apart by it).
    let reply = api
        .post(
            &format!("/api/routes/{}/disable", b64u("GET:/health")),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.json.get("ambiguous_matches").is_none(), "{reply:?}");
    assert!(reply.error().contains("force-active"), "{reply:?}");
}

// ---------------------------------------------------------------------------------------------
// Audit and actors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn audit_log_with_route_filter_and_limit() {
    let api = Api::open().await;
    api.engine
        .disable("GET:/payments", "audit-test", "tester")
        .await
        .unwrap();
    api.engine
        .disable("GET:/orders", "other", "tester")
        .await
        .unwrap();
    api.engine.enable("GET:/payments", "tester").await.unwrap();

    let all = api.get("/api/audit").await;
    assert_eq!(all.status, StatusCode::OK);
    let actions: Vec<(&str, &str)> = all
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("GET:/payments", "enable"),
            ("GET:/orders", "disable"),
            ("GET:/payments", "disable")
        ],
        "newest first"
    );
    let entry = &all.json[2];
    for field in [
        "id",
        "timestamp",
        "service",
        "actor",
        "platform",
        "reason",
        "previous_status",
        "new_status",
    ] {
        assert!(entry.get(field).is_some(), "{field} in {entry}");
    }
    assert_eq!(entry["previous_status"], "active");
    assert_eq!(entry["new_status"], "disabled");

    let filtered = api
        .get("/api/audit?route=GET%3A%2Fpayments&limit=5")
        .await
        .json;
    assert_eq!(filtered.as_array().unwrap().len(), 2);
    assert!(filtered
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["path"] == "GET:/payments"));
    assert_eq!(
        api.get("/api/audit?limit=1")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/api/audit?limit=lots")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        3,
        "invalid → 50"
    );
}

#[tokio::test]
async fn audit_service_filter_applies_before_the_limit() {
    let api = Api::build(engine_with_billing().await, |a| a).await;
    api.engine
        .disable("billing:GET:/invoices", "", "t")
        .await
        .unwrap();
    for _ in 0..3 {
        api.engine.disable("GET:/payments", "", "t").await.unwrap();
    }
    let reply = api.get("/api/audit?service=billing&limit=1").await.json;
    assert_eq!(reply.as_array().unwrap().len(), 1, "{reply}");
    assert_eq!(reply[0]["path"], "billing:GET:/invoices");
    assert_eq!(reply[0]["service"], "billing");
}

#[tokio::test]
async fn actor_from_headers_without_auth_and_from_the_token_with_it() {
    let api = Api::open().await;
    let key_payments = b64u("GET:/payments");
    let reply = api
        .send(
            "POST",
            &format!("/api/routes/{key_payments}/disable"),
            Some(r#"{"reason": "actor-test"}"#),
            &[("x-waygate-actor", "ops-bot")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let entry = api.last_audit("GET:/payments").await;
    assert_eq!(
        (entry.actor.as_str(), entry.platform.as_str()),
        ("ops-bot", "cli")
    );
    api.send(
        "POST",
        &format!("/api/routes/{key_payments}/enable"),
        None,
        &[],
    )
    .await;
    let entry = api.last_audit("GET:/payments").await;
    assert_eq!(entry.actor, "anonymous");

    let mut api = Api::secured().await;
    api.login().await;
    // The token wins over the headers when auth is on.
    api.send(
        "POST",
        &format!("/api/routes/{key_payments}/disable"),
        Some(r#"{"reason": "auth-actor-test"}"#),
        &[("x-waygate-actor", "mallory")],
    )
    .await;
    let entry = api.last_audit("GET:/payments").await;
    assert_eq!(
        (entry.actor.as_str(), entry.platform.as_str()),
        ("admin", "cli")
    );
}

// ---------------------------------------------------------------------------------------------
// Global and per-service maintenance
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn global_maintenance_round_trip() {
    let mut api = Api::secured().await;
    api.login().await;
    let reply = api.get("/api/global").await;
    assert_eq!(
        reply.json,
        json!({"enabled": false, "reason": "", "exempt_paths": [], "include_force_active": false})
    );

    let reply = api
        .post("/api/global/enable", json!({"reason": "all down", "exempt_paths": ["/orders"], "include_force_active": false}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"enabled": true, "reason": "all down", "exempt_paths": ["/orders"], "include_force_active": false})
    );
    assert_eq!(api.get("/api/global").await.json, reply.json);
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        api.app_status("GET", "/orders").await,
        StatusCode::OK,
        "exempt"
    );
    assert_eq!(
        api.app_status("GET", "/health").await,
        StatusCode::OK,
        "force-active"
    );
    let entry = api.last_audit("__global__").await;
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("global_maintenance_on", "admin")
    );

    let reply = api.post_empty("/api/global/disable").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["enabled"], false);
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);

    for (body, error) in [
        (
            r#"{"exempt_paths": "/health"}"#,
            "exempt_paths must be a list of strings",
        ),
        (
            r#"{"include_force_active": "yes"}"#,
            "include_force_active must be true or false",
        ),
        (
            r#"{"reason": null, "exempt_paths": [1]}"#,
            "exempt_paths must be a list of strings",
        ),
    ] {
        let reply = api.post_raw("/api/global/enable", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error(), error);
    }
    assert!(!api.engine.global_maintenance().enabled);
    // No body at all: enabled with defaults.
    assert_eq!(
        api.post_empty("/api/global/enable").await.json["enabled"],
        true
    );
}

#[tokio::test]
async fn service_maintenance_round_trip() {
    let api = Api::build(engine_with_billing().await, |a| a).await;
    let reply = api.get("/api/services/billing/maintenance").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["enabled"], false);

    let reply = api
        .post(
            "/api/services/billing/maintenance/enable",
            json!({"reason": "migrating", "exempt_paths": ["/invoices"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"enabled": true, "reason": "migrating", "exempt_paths": ["/invoices"], "include_force_active": false})
    );
    assert_eq!(
        api.engine.service_maintenance("billing"),
        serde_json::from_value(reply.json.clone()).unwrap()
    );
    assert_eq!(
        api.get("/api/services/billing/maintenance").await.json,
        reply.json
    );
    let entry = api.last_audit("__waygate:svc_global:billing__").await;
    assert_eq!(entry.action, "service_maintenance_on");

    let reply = api
        .post_empty("/api/services/billing/maintenance/disable")
        .await;
    assert_eq!(reply.json["enabled"], false);
    assert!(!api.engine.service_maintenance("billing").enabled);
    let bad = api
        .post_raw(
            "/api/services/billing/maintenance/enable",
            r#"{"reason": 1}"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!api.engine.service_maintenance("billing").enabled);
}

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_a_rate_limit_policy() {
    let api = Api::open().await;
    let reply = api
        .post(
            "/api/rate-limits",
            json!({"path": "/payments", "method": "GET", "limit": "10/minute"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["path"], "/payments");
    assert_eq!(reply.json["method"], "GET");
    assert_eq!(reply.json["limit"], "10/minute");
    assert_eq!(reply.json["algorithm"], "sliding_window", "our default");

    let policies = api.engine.rate_limit_policies();
    assert_eq!(policies.len(), 1);
    assert_eq!(
        (policies[0].path.as_str(), policies[0].method.as_str()),
        ("/payments", "GET")
    );

    // Served without `ConnectInfo`: the answer warns that every client shares the counter.
    let mut policy = reply.json.clone();
    let warning = policy.as_object_mut().unwrap().remove("warning").unwrap();
    assert!(warning
        .as_str()
        .unwrap()
        .starts_with("per-IP limits need the peer address"));
    let listed = api.get("/api/rate-limits").await;
    assert_eq!(listed.json, json!([policy]));
    let entry = api.last_audit("GET:/payments").await;
    assert_eq!(entry.action, "rl_policy_set");
    assert_eq!(entry.reason, "10/minute \u{b7} sliding_window \u{b7} ip");
}

#[tokio::test]
async fn rate_limit_options_are_stored() {
    let api = Api::open().await;
    let reply = api
        .post(
            "/api/rate-limits",
            json!({"path": "/orders", "method": "post", "limit": "5/second", "algorithm": "fixed_window", "key_strategy": "global", "burst": 2}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["algorithm"], "fixed_window");
    assert_eq!(reply.json["method"], "POST");
    let policy = api.engine.rate_limit_policies().pop().unwrap();
    assert_eq!(policy.algorithm, Algorithm::FixedWindow);
    assert_eq!(policy.key_strategy, KeyStrategy::Global);
    assert_eq!(policy.burst, 2);
}

#[tokio::test]
async fn rate_limit_policy_errors() {
    let api = Api::open().await;
    for (body, status, error) in [
        (
            json!({"path": "/payments"}),
            400,
            "path and limit are required",
        ),
        (
            json!({"limit": "1/minute"}),
            400,
            "path and limit are required",
        ),
        (
            json!({"path": "/payments", "limit": 10}),
            400,
            "limit must be a string",
        ),
        (
            json!({"path": "/payments", "limit": "ten a minute"}),
            400,
            "invalid limit",
        ),
        (
            json!({"path": "/payments", "limit": "1/minute", "algorithm": "leaky"}),
            400,
            "invalid algorithm",
        ),
        (
            json!({"path": "/payments", "limit": "1/minute", "key_strategy": "cookie"}),
            400,
            "invalid key_strategy",
        ),
        (
            json!({"path": "/payments", "limit": "1/minute", "burst": -1}),
            400,
            "burst must be a non-negative integer",
        ),
        (
            json!({"path": "/payments", "limit": "1/minute", "burst": "2"}),
            400,
            "burst must be a non-negative integer",
        ),
        (
            json!({"path": "/does/not/exist", "method": "GET", "limit": "10/minute"}),
            404,
            "route `GET:/does/not/exist` not found",
        ),
    ] {
        let reply = api.post("/api/rate-limits", body.clone()).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {reply:?}");
        assert!(reply.error().starts_with(error), "{body}: {reply:?}");
    }
    assert_eq!(
        api.post_raw("/api/rate-limits", "nope").await.error(),
        "Invalid JSON body"
    );
    assert!(
        api.engine.rate_limit_policies().is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_path_under_several_methods_takes_the_method_apart() {
    let api = Api::open().await;
    // `/orders` is served by GET and POST: as a bare key it is ambiguous, but the CLI sends
    // the method on its own (`GET` unless told otherwise).
    let reply = api
        .post(
            "/api/rate-limits",
            json!({"path": "/orders", "method": "GET", "limit": "15/minute"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json["path"], "/orders");
    let reply = api
        .post(
            "/api/rate-limits",
            json!({"path": "/orders", "limit": "7/minute"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json["method"], "GET");
    assert_eq!(
        api.engine.rate_limit_policies().len(),
        1,
        "the same GET policy, updated"
    );
    assert_eq!(
        api.last_audit("GET:/orders").await.action,
        "rl_policy_updated"
    );
}

#[tokio::test]
async fn delete_a_rate_limit_policy() {
    let api = Api::open().await;
    api.post(
        "/api/rate-limits",
        json!({"path": "/payments", "method": "GET", "limit": "10/minute"}),
    )
    .await;
    assert_eq!(api.engine.rate_limit_policies().len(), 1);

    let reply = api
        .delete(&format!("/api/rate-limits/{}", b64u("GET:/payments")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"ok": true, "path": "/payments", "method": "GET"})
    );
    assert!(api.engine.rate_limit_policies().is_empty());
    assert_eq!(
        api.last_audit("GET:/payments").await.action,
        "rl_policy_deleted"
    );

    let reply = api
        .delete(&format!("/api/rate-limits/{}", b64u("/payments")))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "path_key must encode METHOD:path");
}

#[tokio::test]
async fn blocked_requests_are_listed_and_reset_clears_the_counters() {
    let api = Api::open().await;
    let reply = api
        .post(
            "/api/rate-limits",
            json!({"path": "/payments", "limit": "1/minute", "key_strategy": "global"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let hits = api.get("/api/rate-limits/hits").await;
    assert_eq!(hits.status, StatusCode::OK);
    let hits = hits.json.as_array().unwrap().clone();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        (hits[0]["path"].as_str(), hits[0]["method"].as_str()),
        (Some("/payments"), Some("GET"))
    );
    assert_eq!(hits[0]["limit"], "1/minute");
    assert_eq!(
        api.get("/api/rate-limits/hits?limit=1")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/api/rate-limits/hits?route=/orders").await.json,
        json!([])
    );
    assert_eq!(
        api.get("/api/rate-limits/hits?route=%2Fpayments")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let path_key = b64u("/payments");
    let reply = api
        .delete(&format!("/api/rate-limits/{path_key}/reset?method=GET"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json, json!({"ok": true, "path": "/payments"}));
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);
    assert_eq!(
        api.app_status("GET", "/payments").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without a method: every method's policy on the path.
    assert_eq!(
        api.delete(&format!("/api/rate-limits/{path_key}/reset"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(api.app_status("GET", "/payments").await, StatusCode::OK);
    assert_eq!(api.last_audit("GET:/payments").await.action, "rl_reset");

    // A path with a policy on only some of its methods.
    api.post(
        "/api/rate-limits",
        json!({"path": "/orders", "method": "POST", "limit": "1/minute", "key_strategy": "global"}),
    )
    .await;
    assert_eq!(api.app_status("POST", "/orders").await, StatusCode::OK);
    assert_eq!(
        api.app_status("POST", "/orders").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        api.delete(&format!("/api/rate-limits/{}/reset", b64u("/orders")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(api.app_status("POST", "/orders").await, StatusCode::OK);
}

#[tokio::test]
async fn global_rate_limit_endpoints() {
    let api = Api::open().await;
    assert_eq!(
        api.get("/api/global-rate-limit").await.json,
        json!({"enabled": false, "policy": null})
    );

    let reply = api
        .post("/api/global-rate-limit", json!({"limit": "100/minute", "burst": 0, "exempt_routes": ["/health"], "algorithm": "moving_window"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let mut policy = reply.json.clone();
    assert!(
        policy.as_object_mut().unwrap().remove("warning").is_some(),
        "served without ConnectInfo: {reply:?}"
    );
    assert_eq!(
        policy,
        json!({"limit": "100/minute", "algorithm": "moving_window", "key_strategy": "ip", "on_missing_key": null, "burst": 0, "exempt_routes": ["/health"], "enabled": true})
    );
    assert_eq!(
        api.get("/api/global-rate-limit").await.json,
        json!({"enabled": true, "policy": policy})
    );
    assert_eq!(api.engine.global_rate_limit().unwrap().limit, "100/minute");

    assert_eq!(
        api.post_empty("/api/global-rate-limit/disable").await.json,
        json!({"ok": true})
    );
    let paused = api.get("/api/global-rate-limit").await.json;
    assert_eq!(
        (
            paused["enabled"].clone(),
            paused["policy"]["enabled"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(
        api.post_empty("/api/global-rate-limit/enable").await.json,
        json!({"ok": true})
    );
    assert_eq!(
        api.get("/api/global-rate-limit").await.json["enabled"],
        true
    );
    assert_eq!(
        api.delete("/api/global-rate-limit/reset").await.json,
        json!({"ok": true})
    );
    assert_eq!(
        api.last_audit("__global_rl__").await.action,
        "global_rl_reset"
    );
    assert_eq!(
        api.delete("/api/global-rate-limit").await.json,
        json!({"ok": true})
    );
    assert_eq!(
        api.get("/api/global-rate-limit").await.json,
        json!({"enabled": false, "policy": null})
    );
    assert!(api.engine.global_rate_limit().is_none());

    for (body, error) in [
        (json!({}), "limit is required"),
        (
            json!({"limit": "1/minute", "exempt_routes": "/health"}),
            "exempt_routes must be a list of strings",
        ),
        (
            json!({"limit": "1/minute", "on_missing_key": "shrug"}),
            "invalid on_missing_key",
        ),
        (json!({"limit": "often"}), "invalid limit"),
    ] {
        let reply = api.post("/api/global-rate-limit", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.error().starts_with(error), "{body}: {reply:?}");
    }
    assert!(api.engine.global_rate_limit().is_none());
}

#[tokio::test]
async fn service_rate_limit_endpoints() {
    let api = Api::build(engine_with_billing().await, |a| a).await;
    assert_eq!(
        api.get("/api/services/billing/rate-limit").await.json,
        json!({"enabled": false, "policy": null})
    );
    let reply = api
        .post(
            "/api/services/billing/rate-limit",
            json!({"limit": "50/minute", "key_strategy": "global", "on_missing_key": "block"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["on_missing_key"], "block");
    assert_eq!(
        api.engine.service_rate_limit("billing").unwrap().limit,
        "50/minute"
    );
    assert_eq!(
        api.get("/api/services/billing/rate-limit").await.json["policy"],
        reply.json
    );

    assert_eq!(
        api.post_empty("/api/services/billing/rate-limit/disable")
            .await
            .json,
        json!({"ok": true})
    );
    assert!(!api.engine.service_rate_limit("billing").unwrap().enabled);
    assert_eq!(
        api.post_empty("/api/services/billing/rate-limit/enable")
            .await
            .json,
        json!({"ok": true})
    );
    assert!(api.engine.service_rate_limit("billing").unwrap().enabled);
    assert_eq!(
        api.delete("/api/services/billing/rate-limit/reset")
            .await
            .json,
        json!({"ok": true})
    );
    assert_eq!(
        api.delete("/api/services/billing/rate-limit").await.json,
        json!({"ok": true})
    );
    assert!(api.engine.service_rate_limit("billing").is_none());
    assert_eq!(
        api.last_audit("__waygate:svc_rl:billing__").await.action,
        "svc_rl_deleted"
    );
    let bad = api
        .post(
            "/api/services/billing/rate-limit",
            json!({"limit": "1/minute", "burst": 1.5}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(api.engine.service_rate_limit("billing").is_none());
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let admin = WaygateAdmin::new(Engine::new())
        .auth(Auth::single("admin", "hunter2"))
        .secret_key("s3cr3t-key");
    let debug = format!("{admin:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("s3cr3t-key"),
        "{debug}"
    );
    assert!(debug.contains("secret_key: Some(\"..\")"), "{debug}");
}
