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

#[route(GET, "/migrating")]
#[maintenance(reason = "migration")]
async fn migrating() -> &'static str {
    "migrating"
}

#[route(GET, "/old")]
#[disabled(reason = "gone")]
async fn old() -> &'static str {
    "old"
}

#[route(GET, "/staging-only")]
#[env_only("staging")]
async fn staging_only() -> &'static str {
    "staging"
}

#[route(GET, "/limited")]
#[maintenance(reason = "migration")]
#[rate_limit("1/minute", key = global)]
async fn limited() -> &'static str {
    "limited"
}

fn not_yet(_: waygate::Blocked) -> (StatusCode, &'static str) {
    (StatusCode::FORBIDDEN, "not for you yet")
}

#[route(GET, "/preview")]
#[rollout(percent = 50, key = user, response = not_yet)]
async fn preview() -> &'static str {
    "preview"
}

/// Sets the `Identity` from `X-User`, as an app's authentication would.
async fn identify(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(user) = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
    {
        let identity = waygate::Identity::user(user);
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
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
            .merge(routes![
                beta,
                payments,
                health,
                migrating,
                old,
                staging_only,
                limited,
                preview
            ])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine.clone()))
            .layer(axum::middleware::from_fn(identify));
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
        self.send_with(method, path, body, &[]).await
    }

    /// A request to the app with these headers: status, headers and raw body.
    async fn call(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let mut headers = response.headers().clone();
        // The only header that differs between two identical refusals.
        headers.remove("date");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
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

    let forged = forged(&token);
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

    // Tokens issued after the revocation work. The engine's clock follows tokio's: moving
    // it on puts the fresh token's issue time after the cut-off, whatever the wall clock did.
    tokio::time::pause();
    tokio::time::advance(Duration::from_millis(2)).await;
    let fresh = first.post("/waygate/api/bypass", json!({})).await;
    let fresh = fresh.json["token"].as_str().unwrap().to_owned();
    assert!(second.verifier.is_valid(&with_header(&fresh)));
}

/// The token with its signature's last hex digit changed: always a different
/// signature, whatever digit the token ended in.
fn forged(token: &str) -> String {
    let (head, last) = token.split_at(token.len() - 1);
    let changed = if last == "0" { "1" } else { "0" };
    format!("{head}{changed}")
}

async fn bypass_token(api: &mut Api) -> String {
    if api.token.is_none() {
        api.login().await;
    }
    let reply = api
        .post("/waygate/api/bypass", json!({"ttl_seconds": 600}))
        .await;
    reply.json["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bypass_token_passes_maintenance_and_disabled_routes() {
    let mut api = Api::started().await;
    let token = bypass_token(&mut api).await;
    let header = [("x-waygate-bypass", token.as_str())];
    let cookie = format!("theme=dark; waygate_bypass={token}");
    for path in ["/migrating", "/old"] {
        let (status, _, _) = api.call(path, &[]).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path} without a token"
        );
        let (status, _, body) = api.call(path, &header).await;
        assert_eq!(status, StatusCode::OK, "{path} with the header");
        assert_eq!(body, &path[1..]);
        let (status, _, _) = api.call(path, &[("cookie", &cookie)]).await;
        assert_eq!(status, StatusCode::OK, "{path} with the cookie");
    }
}

#[tokio::test]
async fn a_wrong_or_revoked_token_gets_exactly_the_answer_without_one() {
    let mut api = Api::started().await;
    let token = bypass_token(&mut api).await;
    let forged = forged(&token);
    let other_key = BypassVerifier::new(api.engine.clone(), "another-secret")
        .issue(Duration::from_secs(600))
        .token;
    for path in ["/migrating", "/old", "/staging-only", "/payments"] {
        let without = api.call(path, &[]).await;
        for bad in [forged.as_str(), "garbage", other_key.as_str(), ""] {
            let with = api.call(path, &[("x-waygate-bypass", bad)]).await;
            assert_eq!(with, without, "{path} with {bad:?}");
        }
    }
    let revoke = api.send("POST", "/waygate/api/bypass/revoke", None).await;
    assert_eq!(revoke.status, StatusCode::OK);
    let without = api.call("/migrating", &[]).await;
    assert_eq!(
        api.call("/migrating", &[("x-waygate-bypass", &token)])
            .await,
        without
    );
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_gets_the_answer_without_one() {
    let api = Api::started().await;
    let issued = api.verifier.issue(Duration::from_secs(60));
    let header = [("x-waygate-bypass", issued.token.as_str())];
    assert_eq!(api.call("/migrating", &header).await.0, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        api.call("/migrating", &header).await,
        api.call("/migrating", &[]).await
    );
}

#[tokio::test]
async fn a_bypass_never_passes_env_gates_rollouts_or_rate_limits() {
    let mut api = Api::started().await;
    let token = bypass_token(&mut api).await;
    let header = [("x-waygate-bypass", token.as_str())];
    let gated = api.call("/staging-only", &[]).await;
    assert_eq!(gated.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call("/staging-only", &header).await, gated, "env gate");
    // No user: outside the rollout, with or without the token.
    let excluded = api.call("/preview", &[]).await;
    assert_eq!(excluded.0, StatusCode::FORBIDDEN);
    assert_eq!(api.call("/preview", &header).await, excluded, "rollout");
    // In maintenance and limited to one a minute: the token passes the first only.
    assert_eq!(api.call("/limited", &header).await.0, StatusCode::OK);
    assert_eq!(
        api.call("/limited", &header).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_bypass_passes_global_maintenance_but_not_the_route_s_env_gate() {
    let mut api = Api::started().await;
    let token = bypass_token(&mut api).await;
    let header = [("x-waygate-bypass", token.as_str())];
    api.engine
        .enable_global_maintenance("deploy", vec![], false, waygate::Actor::new("ops"))
        .await
        .unwrap();
    assert_eq!(
        api.call("/payments", &[]).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(api.call("/payments", &header).await.0, StatusCode::OK);
    assert_eq!(
        api.call("/old", &header).await.0,
        StatusCode::OK,
        "and the route's own state"
    );
    assert_eq!(
        api.call("/staging-only", &header).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.call("/nowhere", &header).await.0,
        StatusCode::NOT_FOUND,
        "unmatched: served"
    );
    assert_eq!(
        api.call("/nowhere", &[]).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn the_rollout_serves_its_share_of_users_and_raising_it_only_adds_users() {
    let mut api = Api::started().await;
    api.login().await;
    let users: Vec<String> = (0..1_000).map(|i| format!("user-{i}")).collect();
    let mut served_at_50 = Vec::new();
    for user in &users {
        let (status, _, body) = api.call("/preview", &[("x-user", user)]).await;
        match status {
            StatusCode::OK => {
                assert_eq!(body, "preview");
                served_at_50.push(user.clone());
            }
            StatusCode::FORBIDDEN => assert_eq!(body, "not for you yet", "the rollout's factory"),
            other => panic!("{user}: {other}"),
        }
        let again = api.call("/preview", &[("x-user", user)]).await.0;
        assert_eq!(again, status, "{user}: the same answer every time");
    }
    let share = served_at_50.len();
    assert!((450..=550).contains(&share), "{share} of 1000 at 50%");

    let path = format!(
        "/waygate/api/routes/{}/rollout",
        URL_SAFE_NO_PAD.encode("GET:/preview")
    );
    assert_eq!(
        api.post(&path, json!({"percentage": 80})).await.status,
        StatusCode::OK
    );
    let mut served_at_80 = 0;
    for user in &users {
        let served = api.call("/preview", &[("x-user", user)]).await.0 == StatusCode::OK;
        served_at_80 += usize::from(served);
        if served_at_50.contains(user) {
            assert!(served, "{user} was in at 50% and must stay in at 80%");
        }
    }
    assert!(
        (750..=850).contains(&served_at_80),
        "{served_at_80} of 1000 at 80%"
    );

    assert_eq!(
        api.post(&path, json!({"percentage": 0})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.call("/preview", &[("x-user", "user-1")]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(&path, json!({"percentage": 100})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.call("/preview", &[]).await.0,
        StatusCode::OK,
        "100%: everyone, keyless too"
    );
}

#[tokio::test]
async fn outside_a_rollout_without_a_factory_the_route_answers_as_env_gated() {
    let api = Api::started().await;
    // `GET:/beta`: 25%, keyed by the user, else the IP; none here: outside.
    let (status, _, body) = api.call("/beta", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body, "",
        "the env-gated answer: as if the route did not exist"
    );
    let mut served = 0;
    for i in 0..400 {
        let user = format!("u{i}");
        served += usize::from(api.call("/beta", &[("x-user", &user)]).await.0 == StatusCode::OK);
    }
    assert!((60..=140).contains(&served), "{served} of 400 at 25%");
}
