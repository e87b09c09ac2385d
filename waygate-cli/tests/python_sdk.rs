//! The SDK protocol across languages, both ways, over loopback:
//!
//! * the Python original's `WaygateSDK` (PyPI `waygate` 0.2.0, attached to a small FastAPI
//!   app: `scripts/python_server.py sdk`) follows our server (`waygate serve`): it registers
//!   its routes, and enforces a disable, a maintenance window, global and service
//!   maintenance and a per-route rate limit made on our server — with our CLI and with the
//!   Python CLI;
//! * the Python SDK's flag provider (`WaygateSDKFlagProvider`) evaluates, in the Python
//!   process, a flag created, targeted, disabled, enabled and deleted on our server;
//! * our `WaygateSdk` follows the Python `WaygateServer` (`scripts/python_server.py server`)
//!   the same way, including global maintenance set before it connected (which the Python
//!   SDK itself misses).
//!
//! Built only with the `python-server` feature; it needs the Python environment from
//! `scripts/python-server-env` in `WAYGATE_PYTHON_SERVER` (`scripts/test` does that) and
//! fails without it.

mod support;

use chrono::{TimeDelta, Utc};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use support::{Cli, Served};
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;

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

fn python() -> PathBuf {
    let exe = std::env::var_os("WAYGATE_PYTHON_SERVER")
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "WAYGATE_PYTHON_SERVER is not set: run WAYGATE_PYTHON_SERVER=\"$(scripts/\
                 python-server-env)\" cargo test -p waygate-cli --features python-server \
                 --test python_sdk, or scripts/test"
            )
        });
    assert!(exe.is_file(), "{} is not a file", exe.display());
    exe
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A Python process printing `listening on http://ADDR` (killed on drop).
struct Python {
    child: Child,
    url: String,
}

impl Python {
    fn start(app: &str, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(python())
            .arg(workspace().join("scripts/python_server.py"))
            .arg(app)
            .current_dir(std::env::temp_dir())
            .env("PORT", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("WAYGATE_BACKEND")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python app");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the Python {app} app printed {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(url: &str) -> (u16, serde_json::Value) {
    let reply = reqwest::get(url).await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or_default())
}

/// Waits (at most 20 s) until `GET url` answers `want`; the body.
async fn until(url: &str, want: u16) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (got, body) = get(url).await;
        if got == want {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {url}: still {got} {body}, waiting for {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(cli: &Arc<Cli>, args: &[&str]) -> String {
    let cli = cli.clone();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.ok(&args)
    })
    .await
    .unwrap()
}

async fn logged_in(exe: Option<PathBuf>, url: &str) -> Arc<Cli> {
    let url = url.to_owned();
    let cli = tokio::task::spawn_blocking(move || {
        let cli = match exe {
            Some(exe) => Cli::with_exe(exe),
            None => Cli::new(),
        };
        cli.ok(&["config", "set-url", &url]);
        cli.ok(&["login", "admin", "--password", "secret"]);
        cli
    })
    .await
    .unwrap();
    Arc::new(cli)
}

/// A window that is open now.
fn window() -> (String, String) {
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    (
        at(now - TimeDelta::minutes(1)),
        at(now + TimeDelta::hours(1)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_follows_our_server() {
    const APP: &str = "python-service";
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let service = Python::start(
        "sdk",
        &[
            ("WAYGATE_SERVER_URL", &server.url),
            ("WAYGATE_APP_ID", APP),
            ("WAYGATE_USERNAME", "admin"),
            ("WAYGATE_PASSWORD", "secret"),
        ],
    );
    let at = |path: &str| format!("{}{path}", service.url);
    let body = until(&at("/api/payments"), 503).await;
    assert_eq!(body["error"]["code"], "MAINTENANCE_MODE");
    until(&at("/api/orders"), 200).await;

    let ours = logged_in(None, &server.url).await;
    let python_cli = python().parent().unwrap().join("waygate");
    let theirs = logged_in(Some(python_cli), &server.url).await;
    // It registered its routes under its app id.
    assert!(run(&ours, &["services"]).await.contains(APP));
    let listed = run(&ours, &["status", "--service", APP]).await;
    for route in [
        "GET:/api/payments",
        "GET:/api/orders",
        "GET:/api/limited",
        "GET:/health",
    ] {
        assert!(listed.contains(route), "{route} in {listed}");
    }

    // A disable with our CLI, an enable with the Python CLI.
    run(
        &ours,
        &[
            "disable",
            "GET:/api/orders",
            "--reason",
            "hotfix",
            "--service",
            APP,
        ],
    )
    .await;
    let body = until(&at("/api/orders"), 503).await;
    assert_eq!(body["error"]["code"], "ROUTE_DISABLED");
    assert_eq!(body["error"]["reason"], "hotfix");
    run(&theirs, &["enable", "GET:/api/orders", "--service", APP]).await;
    until(&at("/api/orders"), 200).await;

    // A maintenance window, open now.
    let (start, end) = window();
    run(
        &ours,
        &[
            "maintenance",
            "GET:/api/orders",
            "--reason",
            "window",
            "--start",
            &start,
            "--end",
            &end,
            "--service",
            APP,
        ],
    )
    .await;
    let body = until(&at("/api/orders"), 503).await;
    assert_eq!(body["error"]["code"], "MAINTENANCE_MODE");
    run(&ours, &["enable", "GET:/api/orders", "--service", APP]).await;
    until(&at("/api/orders"), 200).await;

    // Global maintenance (health exempt), then this service's maintenance.
    run(
        &ours,
        &[
            "global", "enable", "--reason", "deploy", "--exempt", "/health",
        ],
    )
    .await;
    until(&at("/api/orders"), 503).await;
    assert_eq!(get(&at("/health")).await.0, 200);
    run(&theirs, &["global", "disable"]).await;
    until(&at("/api/orders"), 200).await;
    run(&ours, &["sm", "enable", APP, "--reason", "migration"]).await;
    until(&at("/api/orders"), 503).await;
    run(&ours, &["sm", "disable", APP]).await;
    until(&at("/api/orders"), 200).await;

    // A per-route rate limit on one of its routes.
    run(
        &ours,
        &[
            "rl",
            "set",
            "GET:/api/limited",
            "2/minute",
            "--algorithm",
            "fixed_window",
            "--service",
            APP,
        ],
    )
    .await;
    until(&at("/api/limited"), 429).await;

    drop(service);
    server.stop();
}

/// Waits (at most 20 s) until the Python service evaluates boolean flag `key` for `user`
/// to `want`.
async fn until_flag(service: &Python, key: &str, user: &str, want: bool) {
    let url = format!("{}/flag/{key}?user={user}", service.url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&url).await;
        if status == 200 && body["value"] == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} for {user}: still {status} {body}, waiting for {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_flag_provider_follows_our_server() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let theirs = logged_in(
        Some(python().parent().unwrap().join("waygate")),
        &server.url,
    )
    .await;
    // Made before the Python service starts: read by its provider's first fetch.
    run(&theirs, &["flags", "create", "banner", "-n", "Banner"]).await;
    run(&theirs, &["flags", "edit", "banner", "--fallthrough", "on"]).await;
    let service = Python::start(
        "sdk",
        &[
            ("WAYGATE_SERVER_URL", &server.url),
            ("WAYGATE_APP_ID", "python-flags"),
            ("WAYGATE_USERNAME", "admin"),
            ("WAYGATE_PASSWORD", "secret"),
        ],
    );
    until_flag(&service, "banner", "u1", true).await;

    // Created, targeted, disabled and deleted on our server while it runs: each change
    // reaches it over the stream (upstream's own server never sends these frames).
    run(
        &theirs,
        &["flags", "create", "new-checkout", "-n", "New checkout"],
    )
    .await;
    run(
        &theirs,
        &["flags", "target", "new-checkout", "-v", "on", "-k", "u1"],
    )
    .await;
    until_flag(&service, "new-checkout", "u1", true).await;
    until_flag(&service, "new-checkout", "u2", false).await;
    run(&theirs, &["flags", "disable", "new-checkout"]).await;
    until_flag(&service, "new-checkout", "u1", false).await;
    run(&theirs, &["flags", "enable", "new-checkout"]).await;
    until_flag(&service, "new-checkout", "u1", true).await;
    run(&theirs, &["flags", "delete", "banner", "-y"]).await;
    until_flag(&service, "banner", "u1", false).await;

    drop(service);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_sdk_follows_the_python_server() {
    const APP: &str = "rust-service";
    let server = Python::start("server", &[]);
    let cli = logged_in(None, &server.url).await;
    // Set before the service connects: enforced from its first request.
    run(
        &cli,
        &[
            "global", "enable", "--reason", "before", "--exempt", "/health",
        ],
    )
    .await;

    let sdk = WaygateSdk::builder(&server.url, APP)
        .login("admin", "secret")
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    assert!(
        sdk.backend().is_connected(),
        "connected to the Python server"
    );
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
    let at = |path: &str| format!("{svc}{path}");
    let (status, body) = get(&at("/api/orders")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["reason"], "before");
    assert_eq!(get(&at("/health")).await.0, 200);
    run(&cli, &["global", "disable"]).await;
    until(&at("/api/orders"), 200).await;
    assert_eq!(
        get(&at("/api/payments")).await.0,
        503,
        "declared maintenance"
    );

    // Registered on the Python server under its app id.
    let listed = run(&cli, &["status", "--service", APP]).await;
    assert!(listed.contains("GET:/api/orders"), "{listed}");

    run(
        &cli,
        &[
            "disable",
            "GET:/api/orders",
            "--reason",
            "hotfix",
            "--service",
            APP,
        ],
    )
    .await;
    let body = until(&at("/api/orders"), 503).await;
    assert_eq!(body["error"]["code"], "ROUTE_DISABLED");
    run(&cli, &["enable", "GET:/api/orders", "--service", APP]).await;
    until(&at("/api/orders"), 200).await;
    let (start, end) = window();
    run(
        &cli,
        &[
            "maintenance",
            "GET:/api/orders",
            "--start",
            &start,
            "--end",
            &end,
            "--service",
            APP,
        ],
    )
    .await;
    let body = until(&at("/api/orders"), 503).await;
    assert_eq!(body["error"]["code"], "MAINTENANCE_MODE");
    run(&cli, &["enable", "GET:/api/orders", "--service", APP]).await;
    until(&at("/api/orders"), 200).await;
    run(&cli, &["sm", "enable", APP, "--reason", "svc"]).await;
    until(&at("/api/orders"), 503).await;
    run(&cli, &["sm", "disable", APP]).await;
    until(&at("/api/orders"), 200).await;

    // The service's rate limit, and a per-route one (the Python server keys it
    // `rust-service:GET:/api/orders`; we enforce it on our GET:/api/orders).
    run(
        &cli,
        &["srl", "set", APP, "1/minute", "--exempt", "/health"],
    )
    .await;
    until(&at("/api/orders"), 429).await;
    // The Python server does not announce a deleted policy (upstream 8.1: `delete_state` is
    // not broadcast); pausing it is.
    run(&cli, &["srl", "disable", APP]).await;
    until(&at("/api/orders"), 200).await;
    run(
        &cli,
        &["rl", "set", "GET:/api/orders", "1/minute", "--service", APP],
    )
    .await;
    until(&at("/api/orders"), 429).await;

    sdk.shutdown().await;
    drop(server);
}
