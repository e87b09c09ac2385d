//! The `actix_basic` example's promise, checked against the real binary on loopback: every
//! row of its behaviour table in `dev` and in `production`, the admin API at `/waygate`, a
//! change made there enforced on the next request, and a clean exit on SIGTERM.

#[path = "../../examples/tests/support/mod.rs"]
mod support;

use serde_json::json;
use support::Example;

#[test]
fn actix_basic_in_dev() {
    let app = Example::start("actix_basic", &[("APP_ENV", "dev")]);
    check(&app, "dev");
    app.stop();
}

#[test]
fn actix_basic_in_production() {
    let app = Example::start("actix_basic", &[("APP_ENV", "production")]);
    check(&app, "production");
    app.stop();
}

fn check(app: &Example, env: &str) {
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
    assert_eq!(payments.header("retry-after"), None, "no window");

    if env == "dev" {
        let debug = app.expect("/debug", 200);
        assert_eq!(debug.json(), json!({"debug": true, "env": "dev"}));
    } else {
        assert_eq!(app.expect("/debug", 404).body, "");
    }

    assert_eq!(
        app.expect("/old-endpoint", 503).json(),
        json!({"error": {
            "code": "ROUTE_DISABLED",
            "message": "This endpoint has been disabled",
            "reason": "Use /v2/endpoint instead",
            "path": "/old-endpoint",
        }})
    );

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

    // The admin API, served by the app.
    let unauthorized = app.send("GET", "/waygate/api/routes", &[], None);
    assert_eq!(unauthorized.status, 401, "{unauthorized:?}");
    let login = app.send(
        "POST",
        "/waygate/api/auth/login",
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(login.status, 200, "{login:?}");
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
    // `GET:/payments` as a path key (unpadded base64url).
    let enabled = app.send(
        "POST",
        "/waygate/api/routes/R0VUOi9wYXltZW50cw/enable",
        &auth,
        Some("{}"),
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(app.expect("/payments", 200).json(), json!({"payments": []}));
    // The dashboard's login page.
    let page = app.expect("/waygate/login", 200);
    assert!(page.body.contains("<form"), "{page:?}");
}
