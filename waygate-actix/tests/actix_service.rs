//! The `actix_service` example against `waygate serve`, end to end: an actix-web service
//! joins a fleet through the SDK. Its behaviour table holds; a route disabled and global
//! maintenance turned on with our CLI on the server are enforced by the service; with the
//! server killed it keeps serving the last state it knew.

#[path = "../../examples/tests/support/mod.rs"]
mod support;

use chrono::{DateTime, Utc};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use support::{waygate_cli, Example};

/// How long a change may take to reach the service (it takes milliseconds; the margin is
/// for a busy machine).
fn soon() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(20)
}

/// `waygate serve` on a free port, with a memory backend; killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start() -> Self {
        let mut child = Command::new(waygate_cli())
            .args(["serve", "--port", "0", "--backend", "memory"])
            .args(["--auth", "admin:secret", "--secret-key", "test-key"])
            .env_remove("WAYGATE_SERVER_AUTH")
            .env_remove("WAYGATE_SECRET_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start waygate serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the address line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("waygate serve printed {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// The server dies (no graceful shutdown: its streams break).
    fn kill(mut self) {
        self.child.kill().expect("kill waygate serve");
        self.child.wait().expect("reap waygate serve");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our CLI with a home of its own; panics with its output unless it succeeds.
fn cli(home: &Path, args: &[&str]) -> String {
    let output = Command::new(waygate_cli())
        .args(args)
        .current_dir(home)
        .env("HOME", home)
        .env_remove("WAYGATE_SERVER_URL")
        .env_remove("WAYGATE_SERVICE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run waygate");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "waygate {args:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn an_actix_service_follows_waygate_serve_and_outlives_it() {
    let server = Served::start();
    // The operator makes the service a token with our CLI; the service logs in with it.
    let home = tempfile::tempdir().expect("a home for the CLI");
    let home = home.path();
    cli(home, &["config", "set-url", &server.url]);
    cli(home, &["login", "admin", "--password", "secret"]);
    let issued: serde_json::Value = serde_json::from_str(&cli(
        home,
        &[
            "--json",
            "token",
            "create",
            "--service",
            "actix-service",
            "--ttl",
            "1y",
        ],
    ))
    .expect("token create --json prints JSON");
    let token = issued["token"].as_str().expect("a token");
    let service = Example::start(
        "actix_service",
        &[
            ("WAYGATE_SERVER_URL", &server.url),
            ("WAYGATE_TOKEN", token),
        ],
    );

    // The behaviour table of `actix_basic`.
    assert_eq!(
        service.expect("/health", 200).json(),
        json!({"status": "ok", "env": "dev"})
    );
    assert_eq!(service.expect("/payments", 503).code(), "MAINTENANCE_MODE");
    assert_eq!(
        service.expect("/debug", 200).json(),
        json!({"debug": true, "env": "dev"})
    );
    assert_eq!(
        service.expect("/old-endpoint", 503).code(),
        "ROUTE_DISABLED"
    );
    let v1 = service.expect("/v1/users", 200);
    assert_eq!(v1.header("deprecation"), Some("true"));
    assert_eq!(v1.header("sunset"), Some("Fri, 01 Jan 2027 00:00:00 GMT"));
    service.expect("/v2/users", 200);

    // The server knows the service's routes, and our CLI changes them there.
    let services = cli(home, &["services"]);
    assert!(services.contains("actix-service"), "{services}");
    let status = cli(home, &["status", "--service", "actix-service"]);
    for route in ["/payments", "/old-endpoint", "/v2/users"] {
        assert!(status.contains(route), "{route} missing from:\n{status}");
    }
    cli(
        home,
        &[
            "disable",
            "GET:/v2/users",
            "--reason",
            "hotfix",
            "--service",
            "actix-service",
        ],
    );
    let disabled = service.poll("/v2/users", |r| r.status == 503, soon());
    assert_eq!(disabled.code(), "ROUTE_DISABLED");
    cli(home, &["global", "enable", "--reason", "deploy"]);
    let paused = service.poll("/v1/users", |r| r.status == 503, soon());
    assert_eq!(paused.code(), "MAINTENANCE_MODE");
    service.expect("/health", 200);
    cli(home, &["global", "disable"]);
    service.poll("/v1/users", |r| r.status == 200, soon());

    // The server dies: the service keeps enforcing what it last knew.
    server.kill();
    for _ in 0..3 {
        assert_eq!(service.expect("/v2/users", 503).code(), "ROUTE_DISABLED");
        assert_eq!(service.expect("/payments", 503).code(), "MAINTENANCE_MODE");
        service.expect("/v1/users", 200);
        service.expect("/health", 200);
    }
    service.stop();
}
