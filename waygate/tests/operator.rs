//! Operator tools over the admin API: a route's rollout percentage, and maintenance bypass
//! tokens (issued, audited, visited, revoked across instances).

use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use waygate::admin::{Auth, BypassVerifier, WaygateAdmin, BYPASS_HEADER};
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::AuditQuery;

#[route(GET, "/beta")]
#[rollout(percent = 25)]
async fn beta() -> &'static str {
    "beta"
}

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

const SECRET: &str = "operator-secret";

struct Api {
    app: Router,
    engine: Engine,
    verifier: BypassVerifier,
    token: Option<String>,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Api {
    async fn new(engine: Engine) -> Self {
        let admin = WaygateAdmin::new(engine.clone())
            .auth(Auth::single("admin", "secret"))
            .secret_key(SECRET);
        let verifier = admin.bypass_verifier();
        let app = Router::new()
            .merge(routes![beta, payments, health])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine.clone()));
        Self {
            app,
            engine,
            verifier,
            token: None,
        }
    }

    async fn started() -> Self {
        let engine = Engine::new();
        engine.start().await.unwrap();
        Self::new(engine).await
    }

    async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = &self.token {
            request = request.header("x-waygate-token", token);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(&body.to_string())).await
    }

    async fn login(&mut self) {
        let reply = self
            .post(
                "/waygate/api/auth/login",
                json!({"username": "admin", "password": "secret"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        self.token = Some(reply.json["token"].as_str().unwrap().to_owned());
    }

    async fn audit(&self, path: &str) -> Vec<waygate::AuditEntry> {
        self.engine
            .audit_log(&AuditQuery::latest(10).route(path))
            .await
            .unwrap()
    }
}

fn with_header(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(BYPASS_HEADER, HeaderValue::from_str(token).unwrap());
    headers
}

#[tokio::test]
async fn the_declared_percentage_is_the_routes_rollout_percentage() {
    let api = Api::started().await;
    assert_eq!(
        api.engine.state("GET:/beta").unwrap().rollout_percentage,
        25
    );
    assert_eq!(
        api.engine
            .state("GET:/payments")
            .unwrap()
            .rollout_percentage,
        100
    );
}

#[tokio::test]
async fn rollout_endpoint_stores_and_audits_the_percentage() {
    let mut api = Api::started().await;
    let path = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("GET:/beta")
    );
    assert_eq!(
        api.post(&path, json!({"percentage": 60})).await.status,
        StatusCode::UNAUTHORIZED,
        "auth required"
    );
    api.login().await;
    let reply = api.post(&path, json!({"percentage": 60})).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["rollout_percentage"], 60);
    assert_eq!(reply.json["path"], "GET:/beta");
    assert_eq!(
        api.engine.state("GET:/beta").unwrap().rollout_percentage,
        60
    );
    let stored = api.engine.backend().get_state("GET:/beta").await.unwrap();
    assert_eq!(
        stored.unwrap().rollout_percentage,
        60,
        "in upstream's field"
    );
    let entry = &api.audit("GET:/beta").await[0];
    assert_eq!(entry.action, "rollout");
    assert_eq!(entry.actor, "admin");
    assert_eq!(entry.reason, "rollout 25% -> 60%");

    // A bare path resolves as in every mutation.
    let bare = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("/beta")
    );
    let reply = api.post(&bare, json!({"percentage": 0})).await;
    assert_eq!(reply.json["rollout_percentage"], 0, "{reply:?}");
}

#[tokio::test]
async fn rollout_endpoint_refuses_bad_input_with_a_clear_error() {
    let mut api = Api::started().await;
    api.login().await;
    let path = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("GET:/beta")
    );
    for (body, message) in [
        (
            json!({"percentage": 101}),
            "percentage must be a whole number from 0 to 100",
        ),
        (
            json!({"percentage": -1}),
            "percentage must be a whole number from 0 to 100",
        ),
        (
            json!({"percentage": 2.5}),
            "percentage must be a whole number from 0 to 100",
        ),
        (
            json!({"percentage": "25"}),
            "percentage must be a whole number from 0 to 100",
        ),
        (json!({}), "percentage is required (0 to 100)"),
    ] {
        let reply = api.post(&path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.json, json!({"error": message}), "{body}");
    }
    assert_eq!(
        api.engine.state("GET:/beta").unwrap().rollout_percentage,
        25,
        "unchanged"
    );

    let unknown = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("GET:/nope")
    );
    assert_eq!(
        api.post(&unknown, json!({"percentage": 5})).await.status,
        StatusCode::NOT_FOUND
    );
    let protected = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("GET:/health")
    );
    assert_eq!(
        api.post(&protected, json!({"percentage": 5})).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn bypass_tokens_are_issued_to_operators_and_audited_without_the_token() {
    let mut api = Api::started().await;
    let body = json!({"ttl_seconds": 3600, "reason": "QA of the migration"});
    assert_eq!(
        api.post("/waygate/api/bypass", body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    api.login().await;
    let before = api.engine.now();
    let reply = api.post("/waygate/api/bypass", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let token = reply.json["token"].as_str().unwrap().to_owned();
    assert_eq!(reply.json["header"], "X-Waygate-Bypass");
    let expires: chrono::DateTime<chrono::Utc> =
        reply.json["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - before;
    assert!(
        (3599..=3601).contains(&lifetime.num_seconds()),
        "{lifetime}"
    );
    assert!(api.verifier.is_valid(&with_header(&token)));

    let entries = api.audit("__bypass__").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "bypass_create");
    assert_eq!(entries[0].actor, "admin");
    assert!(
        entries[0].reason.starts_with("QA of the migration (until "),
        "{:?}",
        entries[0]
    );
    assert!(
        !format!("{:?}", entries[0]).contains(&token),
        "the token is never stored"
    );

    for (body, message) in [
        (
            json!({"ttl_seconds": 0}),
            "ttl_seconds must be a whole number from 1 to 2592000 (30 days)",
        ),
        (
            json!({"ttl_seconds": 2_592_001}),
            "ttl_seconds must be a whole number from 1 to 2592000 (30 days)",
        ),
        (
            json!({"ttl_seconds": "1h"}),
            "ttl_seconds must be a whole number from 1 to 2592000 (30 days)",
        ),
        (json!({"reason": 5}), "reason must be a string"),
    ] {
        let reply = api.post("/waygate/api/bypass", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.json, json!({"error": message}), "{body}");
    }
    assert_eq!(
        api.audit("__bypass__").await.len(),
        1,
        "refused requests issue nothing"
    );
}

#[tokio::test]
async fn visiting_the_bypass_link_sets_the_cookie_and_a_bad_link_sets_nothing() {
    let mut api = Api::started().await;
    api.login().await;
    let reply = api
        .post("/waygate/api/bypass", json!({"ttl_seconds": 600}))
        .await;
    let token = reply.json["token"].as_str().unwrap().to_owned();

    // The visitor is not an operator: no admin token.
    api.token = None;
    let visit = api
        .send("GET", &format!("/waygate/bypass/{token}"), None)
        .await;
    assert_eq!(visit.status, StatusCode::SEE_OTHER, "{visit:?}");
    assert_eq!(visit.headers["location"], "/");
    let cookie = visit.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("waygate_bypass={token}; Path=/; Max-Age=")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((598..=600).contains(&max_age), "{max_age}");

    let mut cookies = HeaderMap::new();
    cookies.insert(
        "cookie",
        HeaderValue::from_str(&format!("waygate_bypass={token}")).unwrap(),
    );
    assert!(api.verifier.is_valid(&cookies));

    let forged = format!("{}0", &token[..token.len() - 1]);
    for bad in [forged.as_str(), "garbage", "a.b"] {
        let visit = api
            .send("GET", &format!("/waygate/bypass/{bad}"), None)
            .await;
        assert_eq!(visit.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(visit.headers.get("set-cookie").is_none(), "{bad}");
    }
}

#[tokio::test]
async fn revoking_on_one_instance_ends_the_tokens_on_every_instance_sharing_the_backend() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine = || Engine::builder().shared_backend(backend.clone()).build();
    let (a, b) = (engine(), engine());
    a.start().await.unwrap();
    b.start().await.unwrap();
    let mut first = Api::new(a).await;
    let second = Api::new(b).await;
    first.login().await;
    let reply = first
        .post("/waygate/api/bypass", json!({"reason": "qa"}))
        .await;
    let token = reply.json["token"].as_str().unwrap().to_owned();
    assert!(
        second.verifier.is_valid(&with_header(&token)),
        "same secret key: valid on both"
    );

    let revoke = first.send("POST", "/waygate/api/bypass/revoke", None).await;
    assert_eq!(revoke.status, StatusCode::OK, "{revoke:?}");
    assert_eq!(revoke.json["ok"], true);
    assert!(!first.verifier.is_valid(&with_header(&token)));
    let entries = first.audit("__bypass__").await;
    assert_eq!(entries[0].action, "bypass_revoke");

    // The second engine learns of the revocation from the backend.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while second.verifier.is_valid(&with_header(&token)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still valid on the second instance"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Tokens issued after the revocation work.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let fresh = first.post("/waygate/api/bypass", json!({})).await;
    let fresh = fresh.json["token"].as_str().unwrap().to_owned();
    assert!(second.verifier.is_valid(&with_header(&fresh)));
}
