//! OFREP 0.3.0 on the embedded admin and on the Waygate Server, over real HTTP: single and
//! bulk evaluation with every flag type, the spec's errors, `ETag` / `If-None-Match`, the
//! `refetchEvaluation` stream, bearer auth with user tokens and evaluation-only keys, and
//! CORS for the OFREP paths only.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::backend::MemoryBackend;
use waygate::flags::FeatureFlag;
use waygate::server::WaygateServer;
use waygate::Engine;

fn flag(value: Value) -> FeatureFlag {
    serde_json::from_value(value).expect("a valid flag")
}

/// One flag of each type.
fn flags() -> Vec<FeatureFlag> {
    vec![
        flag(json!({
            "key": "new-checkout", "name": "New checkout", "type": "boolean",
            "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
            "off_variation": "off", "targets": {"on": ["beta"]},
            "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
        })),
        flag(json!({
            "key": "ui-theme", "name": "Theme", "type": "string",
            "variations": [{"name": "light", "value": "light"}, {"name": "dark", "value": "dark"}],
            "off_variation": "light", "fallthrough": "light",
            "rules": [{"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@acme.com"]}], "variation": "dark"}]
        })),
        flag(json!({
            "key": "page-size", "name": "Page size", "type": "integer",
            "variations": [{"name": "small", "value": 10}, {"name": "large", "value": 50}],
            "off_variation": "small", "fallthrough": "small",
            "rules": [{"clauses": [{"attribute": "plan", "operator": "in", "values": ["pro"]}], "variation": "large"}]
        })),
        flag(json!({
            "key": "discount", "name": "Discount", "type": "float",
            "variations": [{"name": "none", "value": 0}, {"name": "one", "value": 1}],
            "off_variation": "none", "fallthrough": "one"
        })),
        flag(json!({
            "key": "config", "name": "Config", "type": "json",
            "variations": [{"name": "v1", "value": {"sidebar": false}}, {"name": "v2", "value": {"sidebar": true}}],
            "off_variation": "v1", "fallthrough": "v1"
        })),
    ]
}

struct Running {
    /// Where OFREP's `/ofrep/v1` hangs.
    base: String,
    engine: Engine,
    _stop: oneshot::Sender<()>,
}

async fn listen(app: axum::Router) -> (String, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (url, stop)
}

async fn seeded(engine: &Engine) {
    engine.start().await.unwrap();
    for flag in flags() {
        engine.save_flag(flag, "test").await.unwrap();
    }
}

/// An app with the admin nested at `/waygate`.
async fn embedded(auth: bool) -> Running {
    let engine = Engine::new();
    seeded(&engine).await;
    let mut admin = WaygateAdmin::new(engine.clone())
        .secret_key("k")
        .ofrep_cors(["https://shop.example"]);
    if auth {
        admin = admin.auth(Auth::single("admin", "secret"));
    }
    let (url, stop) = listen(admin.nest_in(axum::Router::new(), "/waygate")).await;
    Running {
        base: format!("{url}/waygate"),
        engine,
        _stop: stop,
    }
}

async fn server() -> Running {
    let server = WaygateServer::new(MemoryBackend::new())
        .secret_key("k")
        .auth(Auth::single("admin", "secret"));
    let engine = server.engine().clone();
    seeded(&engine).await;
    let (url, stop) = listen(server.router()).await;
    Running {
        base: url,
        engine,
        _stop: stop,
    }
}

async fn post(url: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn login(base: &str) -> String {
    let reply: Value = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "admin", "password": "secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["token"].as_str().unwrap().to_owned()
}

async fn every_type_evaluates(base: &str, token: Option<&str>) {
    let one = |key: &str| format!("{base}/ofrep/v1/evaluate/flags/{key}");
    let (status, body) = post(
        &one("new-checkout"),
        token,
        r#"{"context":{"targetingKey":"beta"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"key": "new-checkout", "value": true, "reason": "TARGETING_MATCH", "variant": "on", "metadata": {}})
    );
    let (_, body) = post(
        &one("ui-theme"),
        token,
        r#"{"context":{"targetingKey":"u1","email":"ada@acme.com"}}"#,
    )
    .await;
    assert_eq!(
        (&body["value"], &body["variant"]),
        (&json!("dark"), &json!("dark"))
    );
    let (_, body) = post(
        &one("page-size"),
        token,
        r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#,
    )
    .await;
    assert_eq!(body["value"], json!(50));
    // No rules or targets: STATIC; a float stays a float on the wire.
    let response = reqwest::Client::new()
        .post(one("discount"))
        .header("content-type", "application/json")
        .body("{}")
        .bearer_auth(token.unwrap_or_default())
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.contains(r#""value":1.0"#), "{text}");
    assert!(text.contains(r#""reason":"STATIC""#), "{text}");
    let (_, body) = post(&one("config"), token, "").await;
    assert_eq!(body["value"], json!({"sidebar": false}));
    // The rollout: SPLIT, for a key outside the targets.
    let (_, body) = post(
        &one("new-checkout"),
        token,
        r#"{"context":{"targetingKey":"someone"}}"#,
    )
    .await;
    assert_eq!(body["reason"], "SPLIT");
}

#[tokio::test]
async fn every_flag_type_evaluates_on_the_embedded_admin_and_the_server() {
    let open = embedded(false).await;
    every_type_evaluates(&open.base, None).await;
    let server = server().await;
    let token = login(&server.base).await;
    every_type_evaluates(&server.base, Some(&token)).await;
}

#[tokio::test]
async fn errors_are_the_specs() {
    let running = embedded(false).await;
    let url = format!("{}/ofrep/v1/evaluate/flags/nope", running.base);
    let (status, body) = post(&url, None, "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["key"], "nope");
    assert_eq!(body["errorCode"], "FLAG_NOT_FOUND");
    let url = format!("{}/ofrep/v1/evaluate/flags/ui-theme", running.base);
    let (status, body) = post(&url, None, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "PARSE_ERROR");
    assert!(body["errorDetails"].as_str().unwrap().contains("JSON"));
    for bad in [r#"{"context": 7}"#, r#"{"context": {"targetingKey": 7}}"#] {
        let (status, body) = post(&url, None, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["errorCode"], "INVALID_CONTEXT", "{bad}");
    }
    // A disabled flag serves its off variation, DISABLED.
    running
        .engine
        .set_flag_enabled("ui-theme", false, waygate::model::Actor::new("t"))
        .await
        .unwrap();
    let (status, body) = post(&url, None, r#"{"context":{"email":"a@acme.com"}}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&body["value"], &body["reason"]),
        (&json!("light"), &json!("DISABLED"))
    );
}

#[tokio::test]
async fn bulk_answers_304_until_a_flag_changes_and_the_stream_says_refetch() {
    let running = embedded(false).await;
    let url = format!("{}/ofrep/v1/evaluate/flags", running.base);
    let http = reqwest::Client::new();
    let bulk = |etag: Option<String>| {
        let mut request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(r#"{"context":{"targetingKey":"beta"}}"#);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let first = bulk(None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = first.json().await.unwrap();
    let keys: Vec<&str> = body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| flag["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "config",
            "discount",
            "new-checkout",
            "page-size",
            "ui-theme"
        ]
    );
    assert_eq!(
        body["eventStreams"],
        json!([{"type": "sse", "endpoint": {"requestUri": "/waygate/ofrep/v1/sse"}, "inactivityDelaySec": 120}])
    );
    let again = bulk(Some(etag.clone())).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    let stream = http
        .get(format!("{}/ofrep/v1/sse", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut frames = stream;
    running
        .engine
        .set_flag_enabled("new-checkout", false, waygate::model::Actor::new("t"))
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("refetchEvaluation") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), frames.chunk())
            .await
            .expect("a frame after the change")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = seen
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .expect("a data line");
    let frame: Value = serde_json::from_str(data).unwrap();
    assert_eq!(frame["type"], "refetchEvaluation");
    assert!(frame["etag"].is_string());

    let changed = bulk(Some(etag.clone())).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["flags"][2]["reason"], "DISABLED");
}

#[tokio::test]
async fn auth_takes_bearer_tokens_and_evaluation_only_keys_do_nothing_else() {
    let running = embedded(true).await;
    let url = format!("{}/ofrep/v1/evaluate/flags/ui-theme", running.base);
    let (status, _) = post(&url, None, "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&url, Some("forged.token"), "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let user = login(&running.base).await;
    let (status, _) = post(&url, Some(&user), "{}").await;
    assert_eq!(status, StatusCode::OK);

    let http = reqwest::Client::new();
    let issued: Value = http
        .post(format!("{}/api/tokens", running.base))
        .header("x-waygate-token", &user)
        .json(&json!({"evaluate": true, "name": "web-shop", "ttl_seconds": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&issued["name"], &issued["scope"]),
        (&json!("web-shop"), &json!("evaluate"))
    );
    let key = issued["token"].as_str().unwrap();
    let (status, body) = post(&url, Some(key), "{}").await;
    assert_eq!((status, &body["value"]), (StatusCode::OK, &json!("light")));
    // Through X-API-Key too.
    let status = http
        .post(&url)
        .header("x-api-key", key)
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    // A service's token evaluates too.
    let service: Value = http
        .post(format!("{}/api/tokens", running.base))
        .header("x-waygate-token", &user)
        .json(&json!({"service": "shop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, _) = post(&url, service["token"].as_str(), "{}").await;
    assert_eq!(status, StatusCode::OK);
    // Nothing else: not the API, not the dashboard.
    for path in ["/api/routes", "/api/flags", "/"] {
        let status = http
            .get(format!("{}{path}", running.base))
            .header("x-waygate-token", key)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let status = http
        .post(format!("{}/api/flags/ui-theme/disable", running.base))
        .header("x-waygate-token", key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The session cookie is not a credential here.
    let status = http
        .post(&url)
        .header("cookie", format!("waygate_session={user}"))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A revoked key is refused.
    http.post(format!("{}/api/auth/logout", running.base))
        .header("x-waygate-token", key)
        .send()
        .await
        .unwrap();
    let (status, _) = post(&url, Some(key), "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_lets_the_configured_origin_call_ofrep_only() {
    let running = embedded(true).await;
    let http = reqwest::Client::new();
    let url = format!("{}/ofrep/v1/evaluate/flags", running.base);
    let preflight = |origin: &'static str, url: String| {
        http.request(reqwest::Method::OPTIONS, url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://shop.example", url.clone())
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let other = preflight("https://evil.example", url.clone())
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // The rest of the admin answers no preflight.
    let api = preflight(
        "https://shop.example",
        format!("{}/api/flags", running.base),
    )
    .await
    .unwrap();
    assert!(api.headers().get("access-control-allow-origin").is_none());
    // An answer to the allowed origin is readable, its ETag too.
    let user = login(&running.base).await;
    let answer = http
        .post(&url)
        .header("origin", "https://shop.example")
        .bearer_auth(&user)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(answer.headers()["access-control-expose-headers"], "etag");
}
