//! The middleware over real HTTP on loopback: the Python original's bodies and statuses for
//! every declared state, the headers of deprecated and rate-limited routes, custom
//! responses, runtime changes, nesting, and routes the engine first sees at runtime.

mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, Responder};
use harness::{block, serve, wait_for};
use serde_json::json;
use waygate_actix::prelude::*;
use waygate_actix::{Blocked, RateLimited, Responses, Routes};

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration")]
async fn payments() -> web::Json<serde_json::Value> {
    web::Json(json!({"payments": []}))
}

#[route(GET, "/old")]
#[disabled(reason = "Use /v2")]
async fn old() -> &'static str {
    "old"
}

#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug() -> &'static str {
    "debug"
}

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users() -> &'static str {
    "v1"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/items/{id}")]
async fn item(id: web::Path<u32>) -> String {
    format!("item {id}")
}

#[route(POST, "/items/{id}")]
#[disabled(reason = "read only")]
async fn post_item() -> &'static str {
    "posted"
}

#[route(GET, "/files/{*rest}")]
async fn files(rest: web::Path<String>) -> String {
    format!("file {rest}")
}

#[route(GET, "/limited")]
#[rate_limit("2/minute")]
async fn limited() -> &'static str {
    "limited"
}

fn html_page(blocked: Blocked) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/html")
        .body(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
}

#[route(GET, "/html")]
#[maintenance(reason = "Page rebuild", response = html_page)]
async fn html() -> &'static str {
    "html"
}

async fn async_gone(blocked: Blocked) -> impl Responder {
    (format!("gone: {}", blocked.path), StatusCode::GONE)
}

#[route(GET, "/legacy")]
#[disabled(reason = "Retired", response = async_gone)]
async fn legacy() -> &'static str {
    "legacy"
}

fn my_429(limited: RateLimited) -> HttpResponse {
    HttpResponse::TooManyRequests().json(json!({"ok": false, "limit": limited.limit}))
}

#[route(GET, "/custom-limited")]
#[rate_limit("1/minute", response = my_429)]
async fn custom_limited() -> &'static str {
    "custom"
}

#[route(GET, "/dark")]
#[rollout(percent = 0)]
async fn dark() -> &'static str {
    "dark"
}

fn not_yet(_: Blocked) -> HttpResponse {
    HttpResponse::Forbidden().body("not for you yet")
}

#[route(GET, "/preview")]
#[rollout(percent = 0, response = not_yet)]
async fn preview() -> &'static str {
    "preview"
}

fn all() -> Routes {
    routes![
        dark,
        preview,
        payments,
        old,
        debug,
        v1_users,
        health,
        item,
        post_item,
        files,
        limited,
        html,
        legacy,
        custom_limited
    ]
}

fn app(engine: &Engine) -> harness::Server {
    let routes = all();
    let config_engine = engine.clone();
    serve(engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
    })
}

#[test]
fn declared_states_answer_with_the_python_bodies() {
    let engine = Engine::builder().env("production").build();
    let app = app(&engine);

    let reply = app.expect("/payments", 503);
    assert_eq!(
        reply.json(),
        json!({"error": {
            "code": "MAINTENANCE_MODE",
            "message": "This endpoint is temporarily unavailable",
            "reason": "DB migration",
            "path": "/payments",
        }})
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));

    let reply = app.expect("/old", 503);
    assert_eq!(
        reply.json(),
        json!({"error": {
            "code": "ROUTE_DISABLED",
            "message": "This endpoint has been disabled",
            "reason": "Use /v2",
            "path": "/old",
        }})
    );

    // Env-gated outside its environment: a silent 404.
    let reply = app.expect("/debug", 404);
    assert_eq!(reply.body, "");

    let reply = app.expect("/v1/users", 200);
    assert_eq!(reply.body, "v1");
    assert_eq!(reply.header("deprecation"), Some("true"));
    assert_eq!(
        reply.header("sunset"),
        Some("Fri, 01 Jan 2027 00:00:00 GMT")
    );
    assert_eq!(
        reply.header("link"),
        Some("</v2/users>; rel=\"successor-version\"")
    );

    assert_eq!(app.expect("/health", 200).body, "ok");
    // Parameters: keyed by template, the path named in bodies is the concrete one.
    assert_eq!(app.expect("/items/7", 200).body, "item 7");
    let reply = app.send("POST", "/items/7", &[], None);
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.json()["error"]["path"], "/items/7");
    assert_eq!(app.expect("/files/a/b.txt", 200).body, "file a/b.txt");
    // HEAD is served by a GET route, and refused with it.
    assert_eq!(head_status(&app, "/payments"), 503);
    assert_eq!(head_status(&app, "/health"), 200);
}

#[test]
fn env_gated_routes_answer_in_their_environment() {
    let engine = Engine::builder().env("dev").build();
    let app = app(&engine);
    assert_eq!(app.expect("/debug", 200).body, "debug");
}

#[test]
fn state_changes_apply_to_the_next_request() {
    let engine = Engine::new();
    let app = app(&engine);
    app.expect("/payments", 503);

    block(engine.enable("GET:/payments", "test")).unwrap();
    assert_eq!(app.expect("/payments", 200).json(), json!({"payments": []}));

    block(engine.disable("GET:/items/{id}", "gone", "test")).unwrap();
    let reply = app.expect("/items/3", 503);
    assert_eq!(reply.json()["error"]["reason"], "gone");
    // Other methods of the path are keyed apart.
    block(engine.enable("POST:/items/{id}", "test")).unwrap();
    assert_eq!(app.send("POST", "/items/3", &[], None).body, "posted");

    block(engine.disable("GET:/files/{*rest}", "no files", "test")).unwrap();
    app.expect("/files/x", 503);
}

#[test]
fn global_maintenance_spares_force_active_routes() {
    let engine = Engine::new();
    let app = app(&engine);
    block(engine.enable_global_maintenance("upgrade", Vec::new(), false, "test")).unwrap();
    for path in ["/v1/users", "/items/1", "/limited"] {
        let reply = app.expect(path, 503);
        assert_eq!(reply.code(), "MAINTENANCE_MODE");
        assert_eq!(reply.json()["error"]["reason"], "upgrade");
        assert_eq!(reply.json()["error"]["path"], path);
    }
    assert_eq!(app.expect("/health", 200).body, "ok");
}

/// Waits, if need be, until the clock's minute has at least 5 s left: a sliding window (the
/// default algorithm) is the clock's minute, and a refusal just before its end waits under a
/// second (`Retry-After: 0`, truncated as the Python original does).
fn clear_of_the_minute_end() {
    let left_ms = 60_000 - chrono::Utc::now().timestamp_millis().rem_euclid(60_000);
    if left_ms < 5_000 {
        std::thread::sleep(std::time::Duration::from_millis(
            left_ms.unsigned_abs() + 50,
        ));
    }
}

#[test]
fn rate_limited_routes_count_and_refuse_with_headers() {
    let engine = Engine::new();
    let app = app(&engine);
    clear_of_the_minute_end();

    let first = app.expect("/limited", 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2/minute"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let reset: i64 = first
        .header("x-ratelimit-reset")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no reset: {first:?}"));
    let now = chrono::Utc::now().timestamp();
    assert!((now..=now + 61).contains(&reset), "{reset} vs {now}");
    let second = app.expect("/limited", 200);
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));

    let refused = app.expect("/limited", 429);
    let body = refused.json();
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(body["error"]["message"], "Too many requests");
    assert_eq!(body["error"]["limit"], "2/minute");
    assert_eq!(body["error"]["path"], "/limited");
    let retry: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {refused:?}"));
    assert!((1..=60).contains(&retry), "{refused:?}");
    assert_eq!(body["error"]["retry_after_seconds"], retry);
    assert_eq!(refused.header("x-ratelimit-limit"), Some("2/minute"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!(refused.header("x-ratelimit-reset").is_some());
}

#[test]
fn routes_answer_with_their_own_and_the_middlewares_responses() {
    let engine = Engine::new();
    let routes = all();
    let config_engine = engine.clone();
    let responses = Responses::new()
        .maintenance(|blocked: Blocked| {
            HttpResponse::ServiceUnavailable().body(format!("default: {}", blocked.reason))
        })
        .rate_limited(|limited: RateLimited| async move {
            (
                format!("slow down: {}", limited.limit),
                StatusCode::TOO_MANY_REQUESTS,
            )
        });
    let middleware = Waygate::new(engine.clone()).responses(responses);
    let app = serve(&engine, Some(middleware), move |cfg| {
        routes.config(&config_engine)(cfg);
    });

    // The route's own factory wins over the default.
    let reply = app.expect("/html", 503);
    assert_eq!(reply.body, "<h1>Back soon</h1><p>Page rebuild</p>");
    assert_eq!(reply.header("content-type"), Some("text/html"));
    let reply = app.expect("/legacy", 410);
    assert_eq!(reply.body, "gone: /legacy");
    // The middleware's default, for a route without one.
    assert_eq!(app.expect("/payments", 503).body, "default: DB migration");
    // A disabled route without a factory or default: the built-in body.
    assert_eq!(app.expect("/old", 503).code(), "ROUTE_DISABLED");

    app.expect("/custom-limited", 200);
    let reply = app.expect("/custom-limited", 429);
    assert_eq!(reply.json(), json!({"ok": false, "limit": "1/minute"}));
    app.expect("/limited", 200);
    app.expect("/limited", 200);
    assert_eq!(app.expect("/limited", 429).body, "slow down: 2/minute");
}

#[test]
fn plain_actix_routes_are_registered_the_first_time_they_are_seen() {
    let engine = Engine::new();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), |cfg| {
        cfg.route(r"/plain/{id:\d+}", web::get().to(|| async { "plain" }));
        cfg.service(web::scope("/scoped").route("/{name}", web::get().to(|| async { "scoped" })));
    });
    assert_eq!(app.expect("/plain/1", 200).body, "plain");
    assert_eq!(app.expect("/scoped/x", 200).body, "scoped");
    // Keyed by waygate's template: the regex is dropped, the scope prefix kept.
    wait_for("the plain route's registration", || {
        engine.state("GET:/plain/{id}").is_some()
    });
    wait_for("the scoped route's registration", || {
        engine.state("GET:/scoped/{name}").is_some()
    });
    block(engine.disable("GET:/plain/{id}", "off", "test")).unwrap();
    assert_eq!(app.expect("/plain/2", 503).code(), "ROUTE_DISABLED");
    block(engine.set_maintenance("GET:/scoped/{name}", "m", None, "test")).unwrap();
    assert_eq!(app.expect("/scoped/y", 503).code(), "MAINTENANCE_MODE");
    // Nothing matched: not waygate's to answer.
    app.expect("/nothing", 404);
}

#[test]
fn nested_routes_are_keyed_by_their_full_path() {
    let engine = Engine::new();
    let routes = routes![item, post_item].nest("/api");
    let config_engine = engine.clone();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
    });
    // Registered when the worker builds its app.
    wait_for("the nested key", || {
        engine.state("GET:/api/items/{id}").is_some()
    });
    assert_eq!(
        engine.state("GET:/items/{id}"),
        None,
        "moved to its full key"
    );
    assert_eq!(app.expect("/api/items/5", 200).body, "item 5");
    assert_eq!(app.send("POST", "/api/items/5", &[], None).status, 503);
    block(engine.disable("GET:/api/items/{id}", "moved", "test")).unwrap();
    assert_eq!(
        app.expect("/api/items/5", 503).json()["error"]["reason"],
        "moved"
    );
}

#[test]
fn routes_mounted_inside_an_unknown_scope_are_refused_loudly() {
    let engine = Engine::new();
    let routes = routes![payments];
    let config_engine = engine.clone();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        cfg.service(web::scope("/hidden").configure(routes.config(&config_engine)));
    });
    let reply = app.expect("/hidden/payments", 500);
    assert_eq!(reply.code(), "WAYGATE_UNKNOWN_MOUNT");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("GET:/payments"), "{message}");
    assert!(message.contains("/hidden/payments"), "{message}");
}

#[test]
fn requests_under_the_admin_path_pass_untouched() {
    let engine = Engine::new();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), |cfg| {
        cfg.route("/waygate/ping", web::get().to(|| async { "pong" }));
        cfg.route("/other/ping", web::get().to(|| async { "pong" }));
    });
    block(engine.enable_global_maintenance("upgrade", Vec::new(), false, "test")).unwrap();
    assert_eq!(app.expect("/waygate/ping", 200).body, "pong");
    app.expect("/other/ping", 503);
}

/// The status of `HEAD path` (the examples' client reads bodies, which HEAD answers lack).
fn head_status(app: &harness::Server, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(app.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "HEAD {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("HEAD {path}: {raw:?}"))
}

#[test]
fn clients_outside_a_rollout_get_the_env_gated_answer_or_the_rollout_factory() {
    let engine = Engine::new();
    let app = app(&engine);
    let reply = app.expect("/dark", 404);
    assert_eq!(reply.body, "", "as if the route did not exist");
    assert_eq!(app.expect("/preview", 403).body, "not for you yet");
    block(engine.set_rollout_percentage("GET:/dark", 100, waygate_actix::Actor::new("ops")))
        .unwrap();
    assert_eq!(app.expect("/dark", 200).body, "dark");
}

#[test]
fn routes_in_a_named_scope_are_keyed_by_their_full_path() {
    let engine = Engine::new();
    let routes = routes![item, post_item].under("/v3");
    let config_engine = engine.clone();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        cfg.service(web::scope("/v3").configure(routes.config(&config_engine)));
    });
    wait_for("the scoped key", || {
        engine.state("GET:/v3/items/{id}").is_some()
    });
    assert_eq!(app.expect("/v3/items/5", 200).body, "item 5");
    assert_eq!(app.send("POST", "/v3/items/5", &[], None).status, 503);
    block(engine.disable("GET:/v3/items/{id}", "moved", "test")).unwrap();
    assert_eq!(
        app.expect("/v3/items/5", 503).json()["error"]["reason"],
        "moved"
    );
}
