//! The admin API and dashboard served through an actix-web app (`admin::AdminService`) over
//! real HTTP on loopback: login, the routes as the engine knows them, a change that the
//! middleware enforces on the next request, and the dashboard's pages.

mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use base64::Engine as _;
use harness::serve;
use serde_json::{json, Value};
use waygate_actix::admin::{AdminService, Auth, WaygateAdmin};
use waygate_actix::prelude::*;

#[route(GET, "/admin-test/payments")]
#[maintenance(reason = "DB migration")]
async fn payments() -> &'static str {
    "[]"
}

fn path_key(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn app(engine: &Engine) -> harness::Server {
    let admin = AdminService::new(
        WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret")),
        "/waygate",
    );
    let routes = routes![payments];
    let config_engine = engine.clone();
    serve(engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
        admin.config()(cfg);
    })
}

#[test]
fn the_admin_api_changes_what_the_app_serves() {
    let engine = Engine::new();
    let app = app(&engine);

    let denied = app.get("/waygate/api/routes");
    assert_eq!(denied.status, 401, "{denied:?}");
    assert_eq!(
        denied.json(),
        json!({"error": "Authentication required. Use POST /api/auth/login to obtain a token."})
    );

    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let auth = [("X-Waygate-Token", token.as_str())];

    let routes = app.get_with("/waygate/api/routes", &auth);
    assert_eq!(routes.status, 200, "{routes:?}");
    let routes: Value = routes.json();
    let ours = routes
        .as_array()
        .unwrap()
        .iter()
        .find(|state| state["path"] == "GET:/admin-test/payments")
        .unwrap_or_else(|| panic!("our route is listed: {routes}"));
    assert_eq!(ours["status"], "maintenance");

    app.expect("/admin-test/payments", 503);
    let key = path_key("GET:/admin-test/payments");
    let enabled = app.send(
        "POST",
        &format!("/waygate/api/routes/{key}/enable"),
        &auth,
        Some("{}"),
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(app.expect("/admin-test/payments", 200).body, "[]");

    let disabled = app.send(
        "POST",
        &format!("/waygate/api/routes/{key}/disable"),
        &auth,
        Some(r#"{"reason": "hotfix"}"#),
    );
    assert_eq!(disabled.status, 200, "{disabled:?}");
    let blocked = app.expect("/admin-test/payments", 503);
    assert_eq!(blocked.code(), "ROUTE_DISABLED");
    assert_eq!(blocked.json()["error"]["reason"], "hotfix");

    // Global maintenance blocks the app, never the admin.
    let global = app.send(
        "POST",
        "/waygate/api/global/enable",
        &auth,
        Some(r#"{"reason": "upgrade"}"#),
    );
    assert_eq!(global.status, 200, "{global:?}");
    assert_eq!(
        app.expect("/admin-test/payments", 503).code(),
        "MAINTENANCE_MODE"
    );
    assert_eq!(app.get_with("/waygate/api/global", &auth).status, 200);
}

#[test]
fn the_dashboard_is_served_at_the_admin_path() {
    let engine = Engine::new();
    let app = app(&engine);
    // `/waygate/` redirects to `/waygate`, which asks for a login.
    let slashed = app.get("/waygate/");
    assert_eq!(slashed.status, 308, "{slashed:?}");
    assert_eq!(slashed.header("location"), Some("/waygate"));
    let login = app.get("/waygate/login");
    assert_eq!(login.status, 200, "{login:?}");
    assert!(
        login
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{login:?}"
    );
    assert!(login.body.contains("<form"), "{login:?}");
}

/// OFREP through the actix-web app: bearer auth, a single evaluation, the bulk answer with its
/// `ETag` (and `304` for it) and the stream's address under the admin path.
#[test]
fn ofrep_is_served_at_the_admin_path() {
    let engine = Engine::new();
    let app = app(&engine);
    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let flag = json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "targets": {"on": ["ada"]}, "fallthrough": "off"
    });
    let created = app.send(
        "POST",
        "/waygate/api/flags",
        &[("X-Waygate-Token", token.as_str())],
        Some(&flag.to_string()),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let one = app.send(
        "POST",
        "/waygate/ofrep/v1/evaluate/flags/new-checkout",
        &auth,
        Some(r#"{"context": {"targetingKey": "ada"}}"#),
    );
    assert_eq!(
        one.json(),
        json!({"key": "new-checkout", "value": true, "reason": "TARGETING_MATCH", "variant": "on", "metadata": {}})
    );
    let without = app.send(
        "POST",
        "/waygate/ofrep/v1/evaluate/flags/new-checkout",
        &[],
        Some("{}"),
    );
    assert_eq!(without.status, 401);
    let bulk = app.send(
        "POST",
        "/waygate/ofrep/v1/evaluate/flags",
        &auth,
        Some("{}"),
    );
    assert_eq!(bulk.status, 200, "{bulk:?}");
    assert_eq!(
        bulk.json()["eventStreams"][0]["endpoint"]["requestUri"],
        "/waygate/ofrep/v1/sse"
    );
    let etag = bulk.header("etag").unwrap().to_owned();
    let again = app.send(
        "POST",
        "/waygate/ofrep/v1/evaluate/flags",
        &[
            ("Authorization", bearer.as_str()),
            ("If-None-Match", etag.as_str()),
        ],
        Some("{}"),
    );
    assert_eq!(again.status, 304);
}
