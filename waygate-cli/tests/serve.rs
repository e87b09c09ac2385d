//! `waygate serve` with a service attached through `WaygateSdk`, managed with this CLI: every
//! change made with the CLI on the server is enforced by the service, and the server shuts
//! down cleanly (SIGTERM) while the service's stream is open.

mod support;

use std::net::SocketAddr;
use std::time::Duration;
use support::{Cli, Served};
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;

const APP: &str = "payments-service";

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/api/payments")]
#[maintenance(reason = "upgrade")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/api/orders")]
async fn orders() -> &'static str {
    "orders"
}

async fn status(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// Waits (at most 15 s) until `GET url` answers `want`.
async fn until(url: &str, want: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got = status(url).await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {url}: still {got}, waiting for {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a CLI command off the async workers.
async fn cli_ok(cli: &std::sync::Arc<Cli>, args: &[&str]) -> String {
    let cli = cli.clone();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.ok(&args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_with_the_cli_on_waygate_serve_reach_the_service() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let health_reply: serde_json::Value = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health_reply["status"], "ok");

    let sdk = WaygateSdk::builder(&server.url, APP)
        .login("admin", "secret")
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    let app = axum::Router::new()
        .merge(routes![health, payments, orders])
        .layer(WaygateLayer::new(sdk.engine().clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let svc = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let orders_url = format!("{svc}/api/orders");
    let payments_url = format!("{svc}/api/payments");
    assert_eq!(status(&payments_url).await, 503);

    let cli = std::sync::Arc::new(
        tokio::task::spawn_blocking({
            let url = server.url.clone();
            move || Cli::logged_in(&url)
        })
        .await
        .unwrap(),
    );
    assert!(cli_ok(&cli, &["services"]).await.contains(APP));
    let listed = cli_ok(&cli, &["status", "--service", APP]).await;
    assert!(listed.contains("GET:/api/orders"), "{listed}");

    // A route, by bare path within the service.
    cli_ok(
        &cli,
        &[
            "disable",
            "/api/orders",
            "--reason",
            "hotfix",
            "--service",
            APP,
        ],
    )
    .await;
    until(&orders_url, 503).await;
    let mut scoped = Cli::logged_in(&server.url);
    scoped.env("WAYGATE_SERVICE", APP);
    let scoped = std::sync::Arc::new(scoped);
    cli_ok(&scoped, &["enable", "/api/orders"]).await;
    until(&orders_url, 200).await;
    cli_ok(&scoped, &["enable", "GET:/api/payments"]).await;
    until(&payments_url, 200).await;

    // The service's maintenance, then global maintenance, each sparing /health.
    cli_ok(
        &cli,
        &[
            "sm",
            "enable",
            APP,
            "--reason",
            "migration",
            "--exempt",
            "/health",
        ],
    )
    .await;
    until(&orders_url, 503).await;
    assert_eq!(status(&format!("{svc}/health")).await, 200);
    cli_ok(&cli, &["sm", "disable", APP]).await;
    until(&orders_url, 200).await;
    cli_ok(
        &cli,
        &[
            "global", "enable", "--reason", "deploy", "--exempt", "/health",
        ],
    )
    .await;
    until(&payments_url, 503).await;
    cli_ok(&cli, &["global", "disable"]).await;
    until(&payments_url, 200).await;

    // A per-route rate limit on the service's route, then its removal.
    cli_ok(
        &cli,
        &["rl", "set", "GET:/api/orders", "2/minute", "--service", APP],
    )
    .await;
    until(&orders_url, 429).await;
    let listed = cli_ok(&cli, &["rl", "list"]).await;
    assert!(listed.contains("payments-service:/api/orders"), "{listed}");
    cli_ok(&cli, &["rl", "delete", "GET:/api/orders", "--service", APP]).await;
    until(&orders_url, 200).await;
    // And a service-wide one.
    cli_ok(
        &cli,
        &["srl", "set", APP, "1/minute", "--exempt", "/health"],
    )
    .await;
    until(&payments_url, 429).await;
    cli_ok(&cli, &["srl", "delete", APP]).await;
    until(&payments_url, 200).await;

    let log = cli_ok(&cli, &["log", "--limit", "50"]).await;
    assert!(
        log.contains("disable") && log.contains("svc_rl_set"),
        "{log}"
    );

    server.stop();
    sdk.shutdown().await;
}

/// The fields of a JSON log line, or `None` when the line is not the message wanted.
fn message(line: &str, wanted: &str) -> Option<serde_json::Value> {
    let object: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
    (object["fields"]["message"] == wanted).then(|| object["fields"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_log_format_json_every_line_is_json_and_says_who_changed_what() {
    let password = "pw-never-logged";
    let server = Served::logging(&[
        "--auth",
        &format!("admin:{password}"),
        "--log-format",
        "json",
    ]);
    let mut seen = Vec::new();
    let listening = server.log_line(&mut seen, |l| {
        message(l, "waygate server: listening").is_some()
    });
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listening).unwrap()["level"],
        "INFO"
    );

    let sdk = WaygateSdk::builder(&server.url, APP)
        .login("admin", password)
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    let registered = server.log_line(&mut seen, |l| {
        message(l, "waygate server: service registered its routes").is_some()
    });
    let fields = message(&registered, "waygate server: service registered its routes").unwrap();
    assert_eq!(fields["app_id"], APP);
    // Declared routes go in one batch or one by one (as they are seeded): some, at least.
    assert!(fields["routes"].as_u64() > Some(0), "{registered}");
    let opened = server.log_line(&mut seen, |l| {
        message(l, "waygate server: SDK stream opened").is_some()
    });
    let fields = message(&opened, "waygate server: SDK stream opened").unwrap();
    assert_eq!(
        (&fields["app_id"], &fields["streams"]),
        (&APP.into(), &1.into())
    );

    // A failed login is logged with the client's address, never the password tried.
    let refused = reqwest::Client::new()
        .post(format!("{}/api/auth/login", server.url))
        .json(&serde_json::json!({"username": "admin", "password": "wrong-guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let failed = server.log_line(&mut seen, |l| {
        message(l, "waygate admin: failed login").is_some()
    });
    let fields = message(&failed, "waygate admin: failed login").unwrap();
    assert_eq!(fields["client"], "127.0.0.1", "{failed}");
    assert!(!failed.contains("wrong-guess"), "{failed}");

    let url = server.url.clone();
    tokio::task::spawn_blocking(move || {
        let cli = Cli::new();
        cli.ok(&["config", "set-url", &url]);
        cli.ok(&["login", "admin", "--password", password]);
        cli.ok(&[
            "disable",
            "GET:/api/orders",
            "--reason",
            "hotfix",
            "--service",
            APP,
        ]);
    })
    .await
    .unwrap();
    let changed = server.log_line(&mut seen, |l| {
        message(l, "waygate server: change applied").is_some()
    });
    let fields = message(&changed, "waygate server: change applied").unwrap();
    for (field, want) in [
        ("event", "disable"),
        ("route", "payments-service:GET:/api/orders"),
        ("service", APP),
        ("status", "disabled"),
        ("actor", "admin"),
        ("platform", "cli"),
        ("reason", "hotfix"),
    ] {
        assert_eq!(fields[field], want, "{field} in {changed}");
    }

    sdk.shutdown().await;
    let closed = server.log_line(&mut seen, |l| {
        message(l, "waygate server: SDK stream closed").is_some()
    });
    assert_eq!(
        message(&closed, "waygate server: SDK stream closed").unwrap()["streams"],
        0
    );
    seen.extend([listening, registered, opened, changed, closed, failed]);
    assert!(
        seen.iter().all(|line| !line.contains(password)),
        "a password in the log:\n{}",
        seen.join("\n")
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_restarted_server_keeps_what_operators_set() {
    let home = tempfile::tempdir().unwrap();
    let args = ["--auth", "admin:secret", "--secret-key", "k"];
    let server = Served::at_home(&args, home.path());
    let mut seen = Vec::new();
    let backend = server.log_line(&mut seen, |l| l.contains("state backend"));
    assert!(backend.contains(".waygate/server-state.json"), "{backend}");
    let client = reqwest::Client::new();
    let login = |url: String| {
        let client = client.clone();
        async move {
            let reply: serde_json::Value = client
                .post(format!("{url}/api/auth/login"))
                .json(&serde_json::json!({"username": "admin", "password": "secret"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["token"].as_str().unwrap().to_owned()
        }
    };
    let token = login(server.url.clone()).await;
    let registered = client
        .post(format!("{}/api/sdk/register", server.url))
        .header("x-waygate-token", &token)
        .json(&serde_json::json!({"app_id": APP, "states": [{"path": "GET:/api/orders", "status": "active"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
    let key = "cGF5bWVudHMtc2VydmljZTpHRVQ6L2FwaS9vcmRlcnM"; // payments-service:GET:/api/orders
    let disabled = client
        .post(format!("{}/api/routes/{key}/disable", server.url))
        .header("x-waygate-token", &token)
        .json(&serde_json::json!({"reason": "hotfix"}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    server.stop();

    let again = Served::at_home(&args, home.path());
    let token = login(again.url.clone()).await;
    let state: serde_json::Value = client
        .get(format!("{}/api/routes/{key}", again.url))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["status"], "disabled", "{state}");
    assert_eq!(state["reason"], "hotfix");
    again.stop();

    // Memory only when asked for, with a warning.
    let memory = Served::at_home(&["--backend", "memory"], home.path());
    let mut seen = Vec::new();
    let warning = memory.log_line(&mut seen, |l| l.contains("--backend memory keeps state"));
    assert!(warning.contains("WARN"), "{warning}");
    memory.stop();
}

/// A `redis-server` that only speaks TLS, with a certificate from `scripts/redis-tls-cert`;
/// killed when dropped.
struct TlsRedis {
    port: u16,
    child: std::process::Child,
    certs: std::path::PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl TlsRedis {
    fn start() -> Self {
        let (certs, dir) = match std::env::var_os("WAYGATE_TEST_REDIS_TLS_DIR") {
            Some(dir) => (std::path::PathBuf::from(dir), None),
            None => {
                let dir = tempfile::tempdir().unwrap();
                let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../scripts/redis-tls-cert");
                assert!(std::process::Command::new(script)
                    .arg(dir.path())
                    .status()
                    .unwrap()
                    .success());
                (dir.path().to_owned(), Some(dir))
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(certs.join("server.crt"))
            .arg("--tls-key-file")
            .arg(certs.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(certs.join("ca.crt"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            child,
            certs,
            _dir: dir,
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waygate_serve_keeps_its_state_in_a_redis_over_tls() {
    let redis = TlsRedis::start();
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let ca = redis.certs.join("ca.crt");
    let args = [
        "--backend",
        url.as_str(),
        "--redis-ca-file",
        ca.to_str().unwrap(),
        "--auth",
        "admin:secret",
        "--secret-key",
        "k",
    ];
    let server = Served::start(&args);
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{}/api/auth/login", server.url))
        .json(&serde_json::json!({"username": "admin", "password": "secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let global = client
        .post(format!("{}/api/global/enable", server.url))
        .header("x-waygate-token", &token)
        .json(&serde_json::json!({"reason": "over tls"}))
        .send()
        .await
        .unwrap();
    assert_eq!(global.status(), 200);
    server.stop();
    // Another server on the same Redis reads it back.
    let again = Served::start(&args);
    let global: serde_json::Value = client
        .get(format!("{}/api/global", again.url))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(global["enabled"], true, "{global}");
    assert_eq!(global["reason"], "over tls");
    again.stop();
}
