//! The admin's doors, tried over a real connection on loopback as a browser or an attacker
//! would (issue 12, security): cross-site changes with the session cookie, login guessing,
//! the session cookie's `Secure` flag.

mod common;

use axum::Router;
use common::loopback::{request, serve, serve_with_peer, Reply, Server};
use http::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use waygate::admin::{Auth, LoginThrottle, WaygateAdmin};
use waygate::prelude::*;
use waygate::rate_limit::IpNetList;

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

struct App {
    server: Server,
    engine: Engine,
}

/// How the app is made.
#[derive(Default)]
struct Setup {
    /// Served with `ConnectInfo`.
    peer: bool,
    /// Trusted proxies of the engine.
    trusted: Option<&'static str>,
    throttle: Option<LoginThrottle>,
    secure_cookie: bool,
    /// Credentials checked by a backend that takes its time, as a database would.
    slow_auth: bool,
}

/// `admin`/`secret`, answered after a pause.
struct SlowUsers;

#[async_trait::async_trait]
impl waygate::admin::AuthBackend for SlowUsers {
    async fn authenticate(&self, username: &str, password: &str) -> bool {
        tokio::time::sleep(Duration::from_millis(20)).await;
        username == "admin" && password == "secret"
    }
}

impl App {
    async fn start(setup: Setup) -> Self {
        let mut builder = Engine::builder();
        if let Some(trusted) = setup.trusted {
            builder = builder.trusted_proxies(IpNetList::parse([trusted]).unwrap());
        }
        let engine = builder.build();
        engine.start().await.unwrap();
        let auth = match setup.slow_auth {
            true => Auth::custom(SlowUsers),
            false => Auth::users([("admin", "secret"), ("ops", "pass")]),
        };
        let mut admin = WaygateAdmin::new(engine.clone())
            .auth(auth)
            .secret_key("test-secret")
            .secure_cookie(setup.secure_cookie);
        if let Some(throttle) = setup.throttle {
            admin = admin.login_throttle(throttle);
        }
        let app = Router::new()
            .merge(routes![payments])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine.clone()));
        let server = match setup.peer {
            true => serve_with_peer(app).await,
            false => serve(app).await,
        };
        Self { server, engine }
    }

    async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        request(
            self.server.addr,
            method,
            target,
            headers,
            body.map(str::as_bytes),
        )
        .await
    }

    /// The API's login.
    async fn api_login(&self, username: &str, password: &str) -> Reply {
        let body = json!({"username": username, "password": password}).to_string();
        self.send(
            "POST",
            "/waygate/api/auth/login",
            &[("content-type", "application/json")],
            Some(&body),
        )
        .await
    }

    /// The dashboard's login form, with extra `headers`, to `target`.
    async fn form_login(&self, target: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send(
            "POST",
            target,
            &all,
            Some(&format!("username=admin&password={password}")),
        )
        .await
    }

    /// A dashboard session: its `Cookie` header value and its CSRF token.
    async fn session(&self) -> (String, String) {
        let reply = self.form_login("/waygate/login", "secret", &[]).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
        let cookie = reply
            .header("set-cookie")
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let page = self
            .send("GET", "/waygate", &[("cookie", &cookie)], None)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page
            .body
            .split(r#""X-CSRF-Token": ""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page carries a CSRF token")
            .to_owned();
        (cookie, csrf)
    }

    fn global_on(&self) -> bool {
        self.engine.global_maintenance().enabled
    }
}

// ---------------------------------------------------------------------------------------------
// Item 7: CSRF on the REST API with the session cookie
// ---------------------------------------------------------------------------------------------

/// A cross-site form (`text/plain`, foreign or no `Origin`) cannot change anything with
/// the dashboard's cookie; the session's CSRF token, or JSON from the same origin, can; a
/// token in `X-Waygate-Token` (the CLI) needs neither.
#[tokio::test]
async fn cookie_authenticated_api_changes_need_csrf_proof() {
    let app = App::start(Setup::default()).await;
    let (cookie, csrf) = app.session().await;
    let host = app.server.addr.to_string();
    let same_origin = format!("http://{host}");
    let enable = "/waygate/api/global/enable";
    let body = Some(r#"{"reason": "x"}"#);

    let refused = [
        // What `<form enctype="text/plain" action=".../api/global/enable">` sends.
        vec![
            ("content-type", "text/plain"),
            ("origin", "https://evil.example"),
        ],
        vec![("content-type", "text/plain")],
        vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", same_origin.as_str()),
        ],
        vec![
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
        ],
        vec![("content-type", "application/json")],
        vec![("content-type", "text/plain"), ("x-csrf-token", "00ff")],
    ];
    for headers in refused {
        let mut all = vec![("cookie", cookie.as_str())];
        all.extend(headers.iter().copied());
        let reply = app.send("POST", enable, &all, body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{headers:?}: {reply:?}"
        );
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("CSRF token"),
            "{reply:?}"
        );
        assert!(!app.global_on(), "{headers:?} changed the state");
    }
    // Any method that changes something: a `DELETE` too.
    let reply = app
        .send(
            "DELETE",
            "/waygate/api/global-rate-limit",
            &[("cookie", &cookie), ("origin", "https://evil.example")],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    // Reads need nothing.
    let reply = app
        .send("GET", "/waygate/api/global", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let allowed = [
        vec![
            ("content-type", "text/plain"),
            ("x-csrf-token", csrf.as_str()),
        ],
        vec![
            ("content-type", "application/json"),
            ("origin", same_origin.as_str()),
        ],
    ];
    for headers in allowed {
        let mut all = vec![("cookie", cookie.as_str())];
        all.extend(headers.iter().copied());
        let reply = app.send("POST", enable, &all, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}: {reply:?}");
        assert!(app.global_on());
        app.engine.disable_global_maintenance("test").await.unwrap();
    }

    // The CLI: a header token, no Origin, any content type.
    let token = app.api_login("admin", "secret").await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .send(
            "POST",
            enable,
            &[("x-waygate-token", &token), ("content-type", "text/plain")],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(app.global_on());

    // The dashboard's own actions still work with their token.
    let reply = app
        .send(
            "POST",
            "/waygate/global-maintenance/disable",
            &[
                ("cookie", &cookie),
                ("x-csrf-token", &csrf),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Some(""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(!app.global_on());
}

// ---------------------------------------------------------------------------------------------
// Item 8: login throttling
// ---------------------------------------------------------------------------------------------

/// What `warn!` and friends logged, for the assertions on login failures.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Five wrong passwords for a username lock it for a minute: `429` with `Retry-After`,
/// the right password included; each failure is logged without the password; the lockout
/// is in the audit log. Other users from the same client still log in.
#[tokio::test]
async fn failed_logins_are_throttled_logged_and_audited() {
    // A current-thread runtime: the server's task logs on this thread.
    let logs = Logs::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    let app = App::start(Setup {
        peer: true,
        ..Setup::default()
    })
    .await;

    let mut statuses = Vec::new();
    for attempt in 0..50 {
        let reply = app.api_login("admin", &format!("guess-{attempt}")).await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry_after), "{reply:?}");
            assert!(reply.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("Too many failed logins"));
        }
    }
    let unauthorized = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(unauthorized, 5, "{statuses:?}");
    assert!(statuses[5..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // Locked: the right password too.
    let reply = app.api_login("admin", "secret").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    // The dashboard's form is locked alike.
    let reply = app.form_login("/waygate/login", "secret", &[]).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.header("retry-after").is_some(), "{reply:?}");
    assert!(reply.header("set-cookie").is_none());
    assert!(reply
        .header("location")
        .unwrap()
        .contains("error=Too+many+failed+logins"));

    // Another user, from the same client: fine (5 failures are under the per-IP limit).
    let reply = app.api_login("ops", "pass").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let token = reply.json()["token"].as_str().unwrap().to_owned();
    let audit = app
        .send(
            "GET",
            "/waygate/api/audit?route=__auth__",
            &[("x-waygate-token", &token)],
            None,
        )
        .await
        .json();
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 1, "one lockout: {audit}");
    assert_eq!(entries[0]["action"], "login_locked");
    assert_eq!(entries[0]["actor"], "admin");
    let reason = entries[0]["reason"].as_str().unwrap();
    assert!(reason.contains("5 failed logins within 60s"), "{reason}");
    assert!(reason.contains("127.0.0.1"), "{reason}");

    let lines = logs.lines();
    let failures: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("waygate admin: failed login"))
        .collect();
    assert_eq!(failures.len(), 5, "{lines:#?}");
    assert!(failures[0].starts_with("WARN"), "{}", failures[0]);
    assert!(
        failures[0].contains("username=\"admin\""),
        "{}",
        failures[0]
    );
    assert!(failures[0].contains("client=127.0.0.1"), "{}", failures[0]);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("guess-") && !l.contains("secret")),
        "a password was logged: {lines:#?}"
    );
}

/// Fifty guesses at once, against a backend that takes its time, get no further than five
/// one after the other: an attempt counts from the moment it starts, not once it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_are_throttled_too() {
    let app = Arc::new(
        App::start(Setup {
            peer: true,
            slow_auth: true,
            ..Setup::default()
        })
        .await,
    );
    let mut guesses = tokio::task::JoinSet::new();
    for attempt in 0..50 {
        let app = app.clone();
        guesses.spawn(async move { app.api_login("admin", &format!("guess-{attempt}")).await });
    }
    let mut unauthorized = 0;
    while let Some(reply) = guesses.join_next().await {
        match reply.unwrap().status {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(unauthorized, 5);
}

/// Failures from one client IP, whatever the usernames, lock that client.
#[tokio::test]
async fn failed_logins_from_one_client_lock_it() {
    let app = App::start(Setup {
        peer: true,
        throttle: Some(
            LoginThrottle::new()
                .per_username(100)
                .per_ip(3)
                .window(Duration::from_secs(600)),
        ),
        ..Setup::default()
    })
    .await;
    for user in ["a", "b", "c"] {
        let reply = app.api_login(user, "wrong").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let reply = app.api_login("ops", "pass").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((540..=600).contains(&retry_after), "{retry_after}");
    let audit = app
        .engine
        .audit_log(&waygate::AuditQuery::latest(10))
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "login_locked" && e.reason.contains("client 127.0.0.1")),
        "{audit:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 9: the session cookie's Secure flag
// ---------------------------------------------------------------------------------------------

fn secure(reply: &Reply) -> bool {
    let cookie = reply.header("set-cookie").expect("a cookie");
    cookie.split(';').any(|a| a.trim() == "Secure")
}

/// Plain HTTP: no `Secure`. HTTPS as the server sees it (an `https` target), or
/// `X-Forwarded-Proto: https` from a trusted proxy: `Secure`. The same header from anyone
/// else: ignored. Forced on: always.
#[tokio::test]
async fn the_session_cookie_is_secure_over_https() {
    let plain = App::start(Setup {
        peer: true,
        ..Setup::default()
    })
    .await;
    let reply = plain.form_login("/waygate/login", "secret", &[]).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(!secure(&reply), "{reply:?}");
    // Not from a trusted proxy: the header proves nothing.
    let reply = plain
        .form_login(
            "/waygate/login",
            "secret",
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(!secure(&reply), "{reply:?}");
    // An https request target.
    let target = format!("https://{}/waygate/login", plain.server.addr);
    let reply = plain.form_login(&target, "secret", &[]).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    assert!(secure(&reply), "{reply:?}");

    let proxied = App::start(Setup {
        peer: true,
        trusted: Some("127.0.0.1"),
        ..Setup::default()
    })
    .await;
    let reply = proxied
        .form_login(
            "/waygate/login",
            "secret",
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(secure(&reply), "{reply:?}");
    let reply = proxied
        .form_login("/waygate/login", "secret", &[("x-forwarded-proto", "http")])
        .await;
    assert!(!secure(&reply), "{reply:?}");
    let logout = proxied
        .send(
            "GET",
            "/waygate/logout",
            &[("x-forwarded-proto", "https")],
            None,
        )
        .await;
    assert!(secure(&logout), "the clearing cookie matches: {logout:?}");

    // Without ConnectInfo the proxy cannot be trusted.
    let unknown_peer = App::start(Setup {
        trusted: Some("127.0.0.1"),
        ..Setup::default()
    })
    .await;
    let reply = unknown_peer
        .form_login(
            "/waygate/login",
            "secret",
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(!secure(&reply), "{reply:?}");

    let forced = App::start(Setup {
        secure_cookie: true,
        ..Setup::default()
    })
    .await;
    let reply = forced.form_login("/waygate/login", "secret", &[]).await;
    assert!(secure(&reply), "{reply:?}");
}
