//! The real `waygate` binary against a real admin API on `127.0.0.1:0`: an axum app with
//! declared routes, `WaygateAdmin` nested at `/waygate` (admin/secret) and the layer in
//! front, served on a tokio runtime of its own. Ports the behaviours of the Python
//! original's `tests/test_cli.py` and `tests/test_cli_service.py`, and checks bad input.

mod support;

use axum::Router;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use std::net::SocketAddr;
use support::{one_line_error, row, Cli};
use waygate::admin::{Auth, WaygateAdmin};
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::RouteState;

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/orders")]
async fn list_orders() -> &'static str {
    "orders"
}

#[route(POST, "/orders")]
async fn create_order() -> &'static str {
    "created"
}

#[route(GET, "/debug")]
async fn debug() -> &'static str {
    "debug"
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// An app serving the routes above with the admin at `/waygate`, plus the routes of a
/// `billing` service (as a waygate server stores them: `billing:GET:/invoices`).
struct Server {
    /// Serves the app until dropped.
    runtime: tokio::runtime::Runtime,
    engine: Engine,
    addr: SocketAddr,
    /// `http://127.0.0.1:port/waygate`.
    url: String,
}

impl Server {
    fn start() -> Self {
        Self::start_with(Some("secret-key"))
    }

    /// With tokens signed by `secret_key`, or an open admin (no auth) for `None`.
    fn start_with(secret_key: Option<&str>) -> Self {
        Self::serve(secret_key, true)
    }

    /// An open admin on an app served without peer addresses (no `ConnectInfo`).
    fn start_without_peer_addresses() -> Self {
        Self::serve(None, false)
    }

    fn serve(secret_key: Option<&str>, peer_addresses: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let secret_key = secret_key.map(str::to_owned);
        let (engine, addr) = runtime.block_on(async move {
            let backend = MemoryBackend::new();
            for key in ["billing:GET:/invoices", "billing:GET:/payments"] {
                let mut state = RouteState::active(key);
                state.service = Some("billing".to_owned());
                backend.set_state(&state).await.unwrap();
            }
            let engine = Engine::builder().backend(backend).build();
            engine.start().await.unwrap();
            let mut admin = WaygateAdmin::new(engine.clone());
            if let Some(key) = secret_key {
                admin = admin.auth(Auth::single("admin", "secret")).secret_key(key);
            }
            let app: Router = admin
                .nest_in(
                    Router::new().merge(routes![
                        payments,
                        health,
                        list_orders,
                        create_order,
                        debug
                    ]),
                    "/waygate",
                )
                .layer(WaygateLayer::new(engine.clone()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                if peer_addresses {
                    let app = app.into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(listener, app).await.unwrap();
                } else {
                    axum::serve(listener, app).await.unwrap();
                }
            });
            (engine, addr)
        });
        Self {
            runtime,
            engine,
            addr,
            url: format!("http://{addr}/waygate"),
        }
    }

    /// The HTTP status of `GET path` on the app.
    fn get(&self, path: &str) -> u16 {
        reqwest::blocking::get(format!("http://{}{path}", self.addr))
            .unwrap()
            .status()
            .as_u16()
    }

    /// The engine's state of `key`.
    fn state(&self, key: &str) -> RouteState {
        self.engine
            .state(key)
            .unwrap_or_else(|| panic!("no state for {key}"))
    }
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value}")))
        .unwrap()
        .to_utc()
}

// ---------------------------------------------------------------------------------------------
// Config and server URL
// ---------------------------------------------------------------------------------------------

#[test]
fn server_url_precedence_env_then_project_file_then_config_then_default() {
    let mut cli = Cli::new();
    let show = |cli: &Cli, dir: &std::path::Path| {
        let run = cli.run_in(dir, &["--json", "config", "show"], None);
        assert_eq!(run.code, Some(0), "{run}");
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    let home = cli.home().to_owned();
    let shown = show(&cli, &home);
    assert_eq!(shown["server_url"], "http://localhost:8000/waygate");
    assert_eq!(shown["source"], "default");

    let out = cli.ok(&["config", "set-url", "http://config.example:1/waygate/"]);
    assert!(
        out.contains("Server URL set to http://config.example:1/waygate"),
        "{out}"
    );
    assert_eq!(
        cli.config()["server_url"],
        "http://config.example:1/waygate"
    );
    let shown = show(&cli, &home);
    assert_eq!(shown["server_url"], "http://config.example:1/waygate");
    assert_eq!(shown["source"], cli.config_path().display().to_string());

    // A `.waygate` two levels up beats the config file (quotes stripped).
    let project = home.join("project");
    let nested = project.join("src/deep");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        project.join(".waygate"),
        "# waygate\nWAYGATE_ENV=dev\nWAYGATE_SERVER_URL=\"http://project.example:2/waygate\"\n",
    )
    .unwrap();
    let shown = show(&cli, &nested);
    assert_eq!(shown["server_url"], "http://project.example:2/waygate");
    assert_eq!(
        shown["source"],
        format!(".waygate ({})", project.join(".waygate").display())
    );

    // The environment beats both.
    cli.env("WAYGATE_SERVER_URL", "http://env.example:3/waygate/");
    let shown = show(&cli, &nested);
    assert_eq!(shown["server_url"], "http://env.example:3/waygate");
    assert_eq!(shown["source"], "env WAYGATE_SERVER_URL");
    let run = cli.run_in(&nested, &["config", "set-url", "http://other:4"], None);
    assert!(run.stdout.contains("takes precedence"), "{run}");

    // The plain `config show` names the same things.
    let out = cli.ok(&["config", "show"]);
    assert!(
        out.contains("http://env.example:3/waygate  (env WAYGATE_SERVER_URL)"),
        "{out}"
    );
    assert!(out.contains("(not logged in)"), "{out}");
    assert!(
        out.contains(&cli.config_path().display().to_string()),
        "{out}"
    );
}

#[test]
fn set_url_refuses_what_is_not_an_http_url() {
    let cli = Cli::new();
    for bad in ["localhost:8000/waygate", "ftp://host/waygate", "not a url"] {
        let run = cli.fails(2, &["config", "set-url", bad]);
        let line = one_line_error(&run);
        assert!(line.contains(bad), "{run}");
    }
    assert!(!cli.config_path().exists(), "nothing written");
}

#[test]
fn the_config_file_keeps_unknown_keys_and_is_private() {
    let server = Server::start();
    let cli = Cli::new();
    cli.write_config(&json!({"server_url": server.url, "theme": {"dark": true}}));
    cli.ok(&["login", "admin", "--password", "secret"]);
    let config = cli.config();
    assert_eq!(config["theme"], json!({"dark": true}));
    assert_eq!(config["server_url"], server.url.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.config_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }
    // A broken file is reported, not overwritten.
    std::fs::write(cli.config_path(), "{not json").unwrap();
    let run = cli.fails(1, &["status"]);
    assert!(one_line_error(&run).contains("not valid JSON"), "{run}");
    assert_eq!(
        std::fs::read_to_string(cli.config_path()).unwrap(),
        "{not json"
    );
}

// ---------------------------------------------------------------------------------------------
// Login and logout
// ---------------------------------------------------------------------------------------------

#[test]
fn login_stores_a_token_and_logout_revokes_it() {
    let server = Server::start();
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &server.url]);

    let run = cli.fails(1, &["status"]);
    assert_eq!(one_line_error(&run), "error: authentication required");
    assert!(
        run.stderr
            .contains("not logged in: run `waygate login <username>`"),
        "{run}"
    );

    let run = cli.fails(1, &["login", "admin", "--password", "wrong"]);
    assert!(
        one_line_error(&run).contains("wrong username or password"),
        "{run}"
    );
    assert!(run.stderr.contains("waygate login admin"), "{run}");
    assert!(cli.config().get("auth").is_none(), "no token stored");

    let out = cli.ok(&["login", "admin", "--password", "secret"]);
    assert!(out.contains("Logged in as admin"), "{out}");
    assert!(out.contains("Token expires:"), "{out}");
    let auth = &cli.config()["auth"];
    assert_eq!(auth["username"], "admin");
    let token = auth["token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    assert!(timestamp(&auth["expires_at"]) > Utc::now() + TimeDelta::hours(23));
    assert!(!out.contains(&token), "the token is never printed");

    let shown = cli.json(&["config", "show"]);
    assert_eq!(shown["username"], "admin");
    assert_eq!(shown["logged_in"], true);
    cli.ok(&["status"]);

    let out = cli.ok(&["logout"]);
    assert!(out.contains("Logged out."), "{out}");
    assert!(cli.config().get("auth").is_none());
    let revoked = reqwest::blocking::Client::new()
        .get(format!("{}/api/routes", server.url))
        .header("X-Waygate-Token", &token)
        .send()
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 401, "revoked on the server");
    cli.fails(1, &["status"]);
    // Logging out twice is fine.
    cli.ok(&["logout"]);
}

#[test]
fn login_reads_the_password_from_stdin() {
    let server = Server::start();
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &server.url]);
    let run = cli.run_in(
        cli.home(),
        &["login", "admin", "--password-stdin"],
        Some("secret\n"),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(cli.config()["auth"]["username"], "admin");
    // `--password` and `--password-stdin` together are a usage error.
    cli.fails(2, &["login", "admin", "-p", "x", "--password-stdin"]);
    // No username and no terminal to ask on.
    let run = cli.fails(2, &["login", "--password", "secret"]);
    assert!(
        one_line_error(&run).contains("waygate login <username>"),
        "{run}"
    );
}

#[test]
fn an_expired_login_says_so_and_how_to_log_in_again() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let mut config = cli.config();
    config["auth"]["expires_at"] = json!("2020-01-01T00:00:00+00:00");
    cli.write_config(&config);
    let run = cli.fails(1, &["status"]);
    assert_eq!(one_line_error(&run), "error: authentication required");
    assert!(
        run.stderr.contains(
            "the login of admin expired at 2020-01-01 00:00 UTC: run `waygate login admin`"
        ),
        "{run}"
    );
    let shown = cli.json(&["config", "show"]);
    assert_eq!(shown["logged_in"], false);
    assert!(cli.ok(&["config", "show"]).contains("(expired)"));
}

#[test]
fn a_token_the_server_no_longer_accepts_asks_for_a_new_login() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    // Another server at the same URL: signed with another key, it refuses the token.
    let other = Server::start_with(Some("another-key"));
    let mut config = cli.config();
    config["server_url"] = json!(other.url);
    cli.write_config(&config);
    let run = cli.fails(1, &["status"]);
    assert!(
        run.stderr.contains("the server refused the token of admin"),
        "{run}"
    );
    assert!(run.stderr.contains("run `waygate login admin`"), "{run}");
}

#[test]
fn login_on_an_open_server_says_no_login_is_needed() {
    let server = Server::start_with(None);
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &server.url]);
    let run = cli.fails(1, &["login", "admin", "--password", "x"]);
    assert!(
        one_line_error(&run).contains("has no auth configured"),
        "{run}"
    );
    // And every command works without it.
    cli.ok(&["disable", "GET:/payments"]);
    let log = cli.json(&["log"]);
    assert_eq!(log[0]["actor"], "anonymous");
    assert_eq!(log[0]["platform"], "cli");
}

// ---------------------------------------------------------------------------------------------
// Status and route changes
// ---------------------------------------------------------------------------------------------

#[test]
fn status_lists_every_route_sorted_with_its_state() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["status", "--per-page", "100"]);
    assert!(!out.contains('\x1b'), "plain when piped: {out}");
    let header = row(
        &out,
        &["ROUTE", "SERVICE", "STATUS", "REASON", "ENVS", "WINDOW END"],
    );
    assert_eq!(header, 0, "{out}");
    let order: Vec<usize> = [
        "GET:/debug",
        "GET:/health",
        "GET:/orders",
        "GET:/payments",
        "POST:/orders",
    ]
    .iter()
    .map(|key| row(&out, &[key, "ACTIVE"]))
    .collect();
    assert!(order.is_sorted(), "sorted by key: {out}");
    // Service routes show without their prefix, their service beside them.
    row(&out, &["GET:/invoices", "billing", "ACTIVE"]);

    let json = cli.json(&["status", "--per-page", "100"]);
    let paths: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "GET:/debug",
            "GET:/health",
            "GET:/orders",
            "GET:/payments",
            "POST:/orders",
            "billing:GET:/invoices",
            "billing:GET:/payments",
        ]
    );

    // Pages of 2.
    let out = cli.ok(&["status", "--per-page", "2", "--page", "2"]);
    row(&out, &["GET:/orders"]);
    row(&out, &["GET:/payments"]);
    assert!(out.contains("showing 3–4"), "{out}");
    assert!(out.contains("--page 3"), "{out}");
    assert_eq!(
        cli.json(&["status", "--per-page", "2", "--page", "4"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn what_a_server_sends_is_shown_escaped_never_obeyed_by_the_terminal() {
    // Texts the admin API refuses, as older data or another server may still hold them.
    let server = Server::start();
    let hostile = "hotfix \u{1b}]0;owned\u{7}\u{1b}[2J \u{202e}gnp.exe";
    server
        .runtime
        .block_on(
            server
                .engine
                .disable("GET:/payments", hostile, "ops\u{1b}[31m"),
        )
        .unwrap();
    let cli = Cli::logged_in(&server.url);
    for args in [
        &["status", "--per-page", "100"][..],
        &["status", "GET:/payments"],
        &["log"],
    ] {
        let out = cli.ok(args);
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!out.contains(raw), "{args:?} printed {raw:?} raw: {out:?}");
        }
        assert!(out.contains("\\u{1b}]0;owned\\u{7}"), "{args:?}: {out}");
        assert!(out.contains("\\u{202e}gnp.exe"), "{args:?}: {out}");
    }
    // `--json` keeps JSON valid, the terminal-hostile characters as `\uXXXX`.
    let out = cli.ok(&["--json", "status", "GET:/payments"]);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    let state: Value = serde_json::from_str(&out).unwrap();
    let state = state.as_array().map_or(&state, |states| &states[0]);
    assert_eq!(
        state["reason"], hostile,
        "the JSON still says what the server holds: {out}"
    );
}

#[test]
fn status_of_one_route_by_key_or_bare_path() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let one = cli.json(&["status", "GET:/payments"]);
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["path"], "GET:/payments");
    let both = cli.json(&["status", "/orders"]);
    let keys: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["GET:/orders", "POST:/orders"]);
    let run = cli.fails(1, &["status", "GET:/nope"]);
    assert_eq!(one_line_error(&run), "error: no route GET:/nope");
    assert!(
        run.stderr.contains("`waygate status` lists the routes"),
        "{run}"
    );
}

#[test]
fn disable_and_enable_round_trip_with_reason_and_audit() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert_eq!(server.get("/payments"), 200);

    let out = cli.ok(&["disable", "GET:/payments", "--reason", "hotfix"]);
    assert!(out.contains("GET:/payments → DISABLED"), "{out}");
    assert!(out.contains("Reason: hotfix"), "{out}");
    assert_eq!(server.get("/payments"), 503);
    let out = cli.ok(&["status", "GET:/payments"]);
    row(&out, &["GET:/payments", "DISABLED", "hotfix"]);

    let out = cli.ok(&["enable", "GET:/payments", "-r", "fixed"]);
    assert!(out.contains("GET:/payments → ACTIVE"), "{out}");
    assert_eq!(server.get("/payments"), 200);

    let log = cli.ok(&["log"]);
    let newest = row(
        &log,
        &[
            "GET:/payments",
            "enable",
            "admin",
            "cli",
            "disabled → active",
            "fixed",
        ],
    );
    let older = row(
        &log,
        &[
            "GET:/payments",
            "disable",
            "admin",
            "cli",
            "active → disabled",
            "hotfix",
        ],
    );
    assert!(newest < older, "newest first: {log}");
}

#[test]
fn a_bare_path_is_resolved_by_the_server_or_lists_the_candidates() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["disable", "/payments"]);
    assert!(
        out.contains("GET:/payments → DISABLED"),
        "the resolved key: {out}"
    );

    let run = cli.fails(1, &["disable", "/orders", "--reason", "x"]);
    let line = one_line_error(&run);
    assert!(
        line.contains("/orders matches 2 routes: GET:/orders, POST:/orders"),
        "{run}"
    );
    assert!(run.stderr.contains("waygate disable GET:/orders"), "{run}");
    assert_eq!(
        server.state("GET:/orders").status,
        waygate::RouteStatus::Active,
        "untouched"
    );

    // Method-specific: only that method.
    cli.ok(&["disable", "post:/orders"]);
    assert_eq!(
        server.state("POST:/orders").status,
        waygate::RouteStatus::Disabled
    );
    assert_eq!(
        server.state("GET:/orders").status,
        waygate::RouteStatus::Active
    );
}

#[test]
fn a_force_active_route_is_protected() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let run = cli.fails(1, &["disable", "GET:/health"]);
    one_line_error(&run);
    assert!(run.stderr.contains("force_active"), "{run}");
    assert_eq!(server.get("/health"), 200);
}

#[test]
fn an_unknown_route_is_not_found() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let run = cli.fails(1, &["enable", "GET:/nope"]);
    one_line_error(&run);
    assert!(
        run.stderr.contains("`waygate status` lists the routes"),
        "{run}"
    );
}

#[test]
fn maintenance_now_and_with_a_window() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["maintenance", "GET:/payments", "--reason", "DB migration"]);
    assert!(out.contains("GET:/payments → MAINTENANCE"), "{out}");
    assert!(out.contains("Reason: DB migration"), "{out}");
    assert_eq!(server.get("/payments"), 503);

    let start = Utc::now() - TimeDelta::minutes(1);
    let end = Utc::now() + TimeDelta::hours(1);
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    cli.ok(&[
        "maintenance",
        "GET:/orders",
        "--start",
        &fmt(start),
        "--end",
        &fmt(end),
        "-r",
        "w",
    ]);
    let state = &cli.json(&["status", "GET:/orders"])[0];
    assert_eq!(state["status"], "maintenance");
    assert_eq!(
        timestamp(&state["window"]["end"]).timestamp(),
        end.timestamp()
    );
    let out = cli.ok(&["status", "GET:/orders"]);
    row(
        &out,
        &[
            "GET:/orders",
            "MAINTENANCE",
            "w",
            &end.format("%Y-%m-%d %H:%M UTC").to_string(),
        ],
    );
    assert_eq!(server.get("/orders"), 503);

    // --start without --end is a usage error.
    cli.fails(2, &["maintenance", "GET:/orders", "--start", &fmt(start)]);
}

#[test]
fn schedule_a_future_window_then_cancel_it() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&[
        "schedule",
        "GET:/payments",
        "--start",
        "2099-01-01T02:00",
        "--end",
        "2099-01-01T04:00Z",
        "--reason",
        "upgrade",
    ]);
    assert!(
        out.contains("Scheduled maintenance for GET:/payments"),
        "{out}"
    );
    assert!(out.contains("Start: 2099-01-01 02:00 UTC"), "{out}");
    assert!(out.contains("End:   2099-01-01 04:00 UTC"), "{out}");
    let state = server.state("GET:/payments");
    let window = state.window.expect("a window");
    assert_eq!(window.start.to_rfc3339(), "2099-01-01T02:00:00+00:00");
    assert_eq!(window.end.to_rfc3339(), "2099-01-01T04:00:00+00:00");
    // Ours: active until the window starts.
    assert_eq!(server.get("/payments"), 200);

    let out = cli.ok(&["schedule", "GET:/payments", "--cancel"]);
    assert!(
        out.contains("Cancelled the scheduled window of GET:/payments"),
        "{out}"
    );
    assert!(server.state("GET:/payments").window.is_none());

    // The window must end after it starts; both ends or --cancel.
    let run = cli.fails(
        2,
        &[
            "schedule",
            "GET:/payments",
            "--start",
            "2099-01-01T04:00",
            "--end",
            "2099-01-01T02:00",
        ],
    );
    assert!(one_line_error(&run).contains("before it starts"), "{run}");
    cli.fails(
        2,
        &["schedule", "GET:/payments", "--start", "2099-01-01T04:00"],
    );
    cli.fails(
        2,
        &[
            "schedule",
            "GET:/payments",
            "--cancel",
            "--start",
            "2099-01-01T04:00",
        ],
    );
}

#[test]
fn disable_until_puts_the_route_in_a_window_that_ends_then() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let before = Utc::now();
    let out = cli.ok(&["disable", "GET:/payments", "--until", "2h", "-r", "deploy"]);
    assert!(out.contains("Auto-re-enable scheduled for"), "{out}");
    let state = server.state("GET:/payments");
    let window = state.window.expect("a window");
    let expected = before + TimeDelta::hours(2);
    assert!(
        (window.end - expected).num_seconds().abs() < 60,
        "{window:?}"
    );
    assert_eq!(state.status, waygate::RouteStatus::Maintenance);
    assert_eq!(server.get("/payments"), 503);
}

#[test]
fn env_set_and_clear() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["env", "set", "GET:/debug", "staging", "production"]);
    assert!(
        out.contains("GET:/debug → ENV_GATED  (staging, production)"),
        "{out}"
    );
    // The engine runs in `dev`: the route is hidden.
    assert_eq!(server.get("/debug"), 404);
    let out = cli.ok(&["status", "GET:/debug"]);
    row(&out, &["GET:/debug", "ENV_GATED", "staging, production"]);
    let out = cli.ok(&["env", "clear", "GET:/debug"]);
    assert!(
        out.contains("GET:/debug → ACTIVE  (env gate removed)"),
        "{out}"
    );
    assert_eq!(server.get("/debug"), 200);
    cli.fails(2, &["env", "set", "GET:/debug"]);
}

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

#[test]
fn log_filters_by_route_and_limits_entries() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert!(cli.ok(&["log"]).contains("No audit entries found."));
    for reason in ["one", "two", "three"] {
        cli.ok(&["disable", "GET:/payments", "-r", reason]);
        cli.ok(&["enable", "GET:/payments"]);
    }
    cli.ok(&["disable", "GET:/orders", "-r", "orders"]);

    let all = cli.json(&["log"]);
    assert_eq!(all.as_array().unwrap().len(), 7);
    assert_eq!(all[0]["path"], "GET:/orders", "newest first");

    let limited = cli.json(&["log", "--limit", "2"]);
    let actions: Vec<&str> = limited
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["disable", "enable"]);
    let out = cli.ok(&["log", "-n", "2"]);
    assert!(out.contains("--page 2"), "more pages: {out}");

    let payments = cli.json(&["log", "--route", "GET:/payments"]);
    assert_eq!(payments.as_array().unwrap().len(), 6);
    assert!(payments
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["path"] == "GET:/payments"));
    let page = cli.json(&[
        "log",
        "--route",
        "GET:/payments",
        "--per-page",
        "4",
        "--page",
        "2",
    ]);
    let reasons: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["", "one"], "entries 5 and 6 of 6");
    assert_eq!(page.as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Global and per-service maintenance
// ---------------------------------------------------------------------------------------------

#[test]
fn global_maintenance_status_enable_disable_and_exemptions() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert!(cli
        .ok(&["global", "status"])
        .contains("Global maintenance: OFF"));

    let out = cli.ok(&[
        "global",
        "enable",
        "--reason",
        "deploy",
        "--exempt",
        "GET:/orders",
    ]);
    assert!(out.contains("Global maintenance ENABLED"), "{out}");
    assert!(out.contains("Reason: deploy"), "{out}");
    assert!(out.contains("Exempt: GET:/orders"), "{out}");
    assert_eq!(server.get("/payments"), 503);
    assert_eq!(server.get("/orders"), 200, "exempt");
    assert_eq!(server.get("/health"), 200, "force-active");

    let out = cli.ok(&["global", "status"]);
    assert!(out.contains("Global maintenance: ON"), "{out}");
    assert!(out.contains("Include @force_active: no"), "{out}");
    assert!(out.contains("• GET:/orders"), "{out}");

    let out = cli.ok(&["global", "exempt-add", "payments"]);
    assert!(
        out.contains("Added /payments to exempt list (2 total)"),
        "{out}"
    );
    assert_eq!(server.get("/payments"), 200);
    assert!(cli
        .ok(&["global", "exempt-add", "/payments"])
        .contains("already in the exempt list"));
    let out = cli.ok(&["global", "exempt-remove", "/payments"]);
    assert!(out.contains("Removed /payments from exempt list"), "{out}");
    assert_eq!(
        cli.json(&["global", "status"])["exempt_paths"],
        json!(["GET:/orders"])
    );

    cli.ok(&["global", "enable", "--include-force-active"]);
    assert_eq!(server.get("/health"), 503);
    assert_eq!(
        cli.json(&["global", "status"])["include_force_active"],
        true
    );

    let out = cli.ok(&["global", "disable"]);
    assert!(out.contains("Global maintenance DISABLED"), "{out}");
    assert_eq!(server.get("/payments"), 200);
    assert_eq!(cli.json(&["global", "status"])["enabled"], false);
}

#[test]
fn service_maintenance_status_enable_disable() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert!(cli
        .ok(&["sm", "status", "billing"])
        .contains("Service maintenance (billing): OFF"));
    let out = cli.ok(&[
        "service-maintenance",
        "enable",
        "billing",
        "-r",
        "invoicing",
        "-e",
        "/health",
    ]);
    assert!(
        out.contains("Service maintenance ENABLED for billing"),
        "{out}"
    );
    let config = cli.json(&["sm", "status", "billing"]);
    assert_eq!(config["enabled"], true);
    assert_eq!(config["reason"], "invoicing");
    assert_eq!(config["exempt_paths"], json!(["/health"]));
    assert_eq!(
        server.engine.service_maintenance("billing").reason,
        "invoicing"
    );
    let out = cli.ok(&["sm", "disable", "billing"]);
    assert!(
        out.contains("Service maintenance DISABLED for billing"),
        "{out}"
    );
    assert!(!server.engine.service_maintenance("billing").enabled);
}

// ---------------------------------------------------------------------------------------------
// Services (test_cli_service.py)
// ---------------------------------------------------------------------------------------------

#[test]
fn services_and_current_service() {
    let server = Server::start();
    let mut cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["services"]);
    row(&out, &["billing"]);
    assert_eq!(cli.json(&["services"]), json!(["billing"]));

    let out = cli.ok(&["current-service"]);
    assert!(out.contains("No active service set."), "{out}");
    assert!(
        out.contains("export WAYGATE_SERVICE=<service-name>"),
        "{out}"
    );
    cli.env("WAYGATE_SERVICE", "billing");
    let out = cli.ok(&["current-service"]);
    assert!(out.contains("Active service: billing"), "{out}");
    assert_eq!(
        cli.json(&["current-service"]),
        json!({"service": "billing"})
    );
}

#[test]
fn waygate_service_filters_status_and_prefixes_route_keys() {
    let server = Server::start();
    let mut cli = Cli::logged_in(&server.url);
    cli.env("WAYGATE_SERVICE", "billing");
    let out = cli.ok(&["status"]);
    assert!(out.contains("Service: billing"), "{out}");
    row(&out, &["GET:/invoices", "ACTIVE"]);
    assert!(!out.contains("GET:/orders"), "filtered: {out}");
    assert!(
        !out.contains("SERVICE"),
        "no service column when filtered: {out}"
    );

    let out = cli.ok(&["disable", "GET:/payments", "-r", "billing down"]);
    assert!(out.contains("billing:GET:/payments → DISABLED"), "{out}");
    assert_eq!(
        server.state("billing:GET:/payments").status,
        waygate::RouteStatus::Disabled
    );
    assert_eq!(
        server.state("GET:/payments").status,
        waygate::RouteStatus::Active,
        "not the app's own"
    );
    cli.ok(&["maintenance", "GET:/invoices"]);
    assert_eq!(
        server.state("billing:GET:/invoices").status,
        waygate::RouteStatus::Maintenance
    );
    // A bare path within the service resolves too (ours).
    cli.ok(&["enable", "/invoices"]);
    assert_eq!(
        server.state("billing:GET:/invoices").status,
        waygate::RouteStatus::Active
    );

    // --service beats the environment; an empty service is none.
    cli.env("WAYGATE_SERVICE", "elsewhere");
    cli.ok(&["enable", "GET:/payments", "--service", "billing"]);
    assert_eq!(
        server.state("billing:GET:/payments").status,
        waygate::RouteStatus::Active
    );
    let out = cli.ok(&["status"]);
    assert!(
        out.contains("No routes registered for service elsewhere."),
        "{out}"
    );
    cli.env("WAYGATE_SERVICE", "");
    cli.ok(&["disable", "GET:/payments"]);
    assert_eq!(
        server.state("GET:/payments").status,
        waygate::RouteStatus::Disabled
    );
}

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

#[test]
fn rl_set_passes_on_the_servers_warning_about_per_ip_limits_without_peer_addresses() {
    let server = Server::start_without_peer_addresses();
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &server.url]);
    let out = cli.ok(&["rl", "set", "GET:/payments", "2/hour"]);
    assert!(out.contains("Rate limit set: GET /payments"), "{out}");
    assert!(
        out.contains("⚠") && out.contains("per-IP limits need the peer address"),
        "{out}"
    );
    let out = cli.ok(&["rl", "set", "GET:/orders", "2/hour", "-k", "global"]);
    assert!(
        !out.contains("⚠"),
        "a global key needs no peer address: {out}"
    );
}

#[test]
fn rl_set_list_hits_reset_and_delete() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert!(cli
        .ok(&["rl", "list"])
        .contains("No rate limit policies registered."));

    let out = cli.ok(&[
        "rl",
        "set",
        "GET:/payments",
        "2/hour",
        "--algorithm",
        "fixed_window",
    ]);
    assert!(
        out.contains("Rate limit set: GET /payments → 2/hour (fixed_window, key=ip)"),
        "{out}"
    );
    // A bare path means GET.
    let out = cli.ok(&[
        "rate-limits",
        "set",
        "/orders",
        "5/minute",
        "-k",
        "global",
        "-b",
        "1",
    ]);
    assert!(
        out.contains("Rate limit set: GET /orders → 5/minute"),
        "{out}"
    );
    assert!(out.contains("key=global"), "{out}");

    let out = cli.ok(&["rl", "list"]);
    row(&out, &["/orders", "GET", "5/minute", "global"]);
    row(&out, &["/payments", "GET", "2/hour", "fixed_window", "ip"]);
    let policies = cli.json(&["rl", "list"]);
    assert_eq!(policies[1]["burst"], 0);
    assert_eq!(policies[0]["burst"], 1);

    assert_eq!(
        [
            server.get("/payments"),
            server.get("/payments"),
            server.get("/payments")
        ],
        [200, 200, 429]
    );
    let out = cli.ok(&["rl", "hits"]);
    row(&out, &["GET /payments", "2/hour"]);
    assert_eq!(
        cli.json(&["rl", "hits", "--route", "/payments"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let out = cli.ok(&["rl", "reset", "GET:/payments"]);
    assert!(
        out.contains("Rate limit counters reset for GET /payments"),
        "{out}"
    );
    assert_eq!(server.get("/payments"), 200);
    let out = cli.ok(&["rl", "reset", "/payments"]);
    assert!(out.contains("/payments (all methods)"), "{out}");

    let out = cli.ok(&["rl", "delete", "GET:/payments"]);
    assert!(
        out.contains("Rate limit policy deleted: GET /payments"),
        "{out}"
    );
    let out = cli.ok(&["rl", "delete", "/orders"]);
    assert!(
        out.contains("Rate limit policy deleted: GET /orders"),
        "{out}"
    );
    assert_eq!(cli.json(&["rl", "list"]), json!([]));
    for _ in 0..3 {
        assert_eq!(server.get("/payments"), 200);
    }

    // Refused by the server: a bad limit (exit 1), an unknown route.
    let run = cli.fails(1, &["rl", "set", "GET:/payments", "lots"]);
    one_line_error(&run);
    let run = cli.fails(1, &["rl", "set", "GET:/nope", "1/minute"]);
    one_line_error(&run);
    // Refused by the CLI: an unknown algorithm (exit 2).
    cli.fails(
        2,
        &["rl", "set", "GET:/payments", "1/minute", "-a", "leaky"],
    );
}

#[test]
fn global_and_service_rate_limits() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    assert!(cli
        .ok(&["grl", "get"])
        .contains("No global rate limit policy configured."));
    let out = cli.ok(&[
        "grl",
        "set",
        "100/minute",
        "--exempt",
        "/health",
        "-a",
        "moving_window",
    ]);
    assert!(
        out.contains("Global rate limit set: 100/minute (moving_window, key=ip)"),
        "{out}"
    );
    assert!(out.contains("Exempt routes: /health"), "{out}");
    let out = cli.ok(&["global-rate-limit", "get"]);
    row(&out, &["Limit", "100/minute"]);
    row(&out, &["Enabled", "yes"]);
    row(&out, &["Exempt Routes", "/health"]);
    assert!(cli
        .ok(&["grl", "disable"])
        .contains("Global rate limit paused."));
    assert_eq!(cli.json(&["grl", "get"])["policy"]["enabled"], false);
    assert!(cli
        .ok(&["grl", "enable"])
        .contains("Global rate limit resumed."));
    assert!(cli
        .ok(&["grl", "reset"])
        .contains("Global rate limit counters reset."));
    assert!(cli
        .ok(&["grl", "delete"])
        .contains("Global rate limit policy removed."));
    assert_eq!(cli.json(&["grl", "get"])["policy"], Value::Null);

    assert!(cli
        .ok(&["srl", "get", "billing"])
        .contains("No rate limit policy configured for \"billing\"."));
    let out = cli.ok(&["srl", "set", "billing", "50/minute", "-k", "global"]);
    assert!(
        out.contains("Service rate limit set for billing: 50/minute"),
        "{out}"
    );
    let out = cli.ok(&["service-rate-limit", "get", "billing"]);
    row(&out, &["Service", "billing"]);
    row(&out, &["Limit", "50/minute"]);
    let policy = server.engine.service_rate_limit("billing").unwrap();
    assert_eq!(policy.limit, "50/minute");
    assert!(cli
        .ok(&["srl", "disable", "billing"])
        .contains("Service rate limit paused for billing."));
    assert!(cli
        .ok(&["srl", "enable", "billing"])
        .contains("Service rate limit resumed for billing."));
    assert!(cli
        .ok(&["srl", "reset", "billing"])
        .contains("Rate limit counters reset for billing."));
    assert!(cli
        .ok(&["srl", "delete", "billing"])
        .contains("Service rate limit policy removed for billing."));
    assert!(server.engine.service_rate_limit("billing").is_none());
}

// ---------------------------------------------------------------------------------------------
// Bad input and failures
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_routes_durations_and_datetimes_are_usage_errors() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    for (args, expected) in [
        (
            &["disable", "FETCH:/payments"][..],
            "unknown HTTP method \"FETCH\"",
        ),
        (&["disable", "payments"][..], "does not start with '/'"),
        (
            &["enable", "GET:payments"][..],
            "GET:/payments rather than GET:payments",
        ),
        (&["status", "nope"][..], "does not start with '/'"),
        (
            &["rl", "set", "DELETE-ME:/x", "1/minute"][..],
            "unknown HTTP method",
        ),
        (
            &["disable", "GET:/payments", "--until", "2x"][..],
            "unknown time unit",
        ),
        (
            &["disable", "GET:/payments", "--until", "soon"][..],
            "invalid duration",
        ),
        (
            &[
                "maintenance",
                "GET:/payments",
                "--start",
                "tomorrow",
                "--end",
                "2099-01-01T00:00Z",
            ][..],
            "cannot read \"tomorrow\"",
        ),
        (
            &[
                "schedule",
                "GET:/payments",
                "--start",
                "2099-02-30T00:00",
                "--end",
                "2099-03-01T00:00",
            ][..],
            "ISO 8601",
        ),
        (&["status", "--page", "0"][..], "0"),
        (&["frobnicate"][..], "unrecognized subcommand"),
    ] {
        let run = cli.fails(2, args);
        let line = one_line_error(&run);
        assert!(line.contains(expected), "{args:?}: {run}");
    }
    // Nothing was changed.
    assert_eq!(cli.json(&["log"]), json!([]));
}

#[test]
fn a_server_that_is_down_is_one_line_with_a_hint() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cli = Cli::new();
    cli.ok(&[
        "config",
        "set-url",
        &format!("http://127.0.0.1:{port}/waygate"),
    ]);
    for args in [
        &["status"][..],
        &["disable", "GET:/x"][..],
        &["login", "admin", "-p", "x"][..],
    ] {
        let run = cli.fails(1, args);
        let line = one_line_error(&run);
        assert!(
            line.contains(&format!(
                "cannot reach the waygate server at http://127.0.0.1:{port}/waygate"
            )),
            "{run}"
        );
        assert!(run.stderr.contains("hint: is the server running?"), "{run}");
        assert_eq!(run.stderr.lines().count(), 2, "{run}");
    }
}

#[test]
fn a_url_that_is_not_the_admin_mount_point_says_so() {
    let server = Server::start();
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &format!("http://{}", server.addr)]);
    let run = cli.fails(1, &["status"]);
    one_line_error(&run);
    assert!(
        run.stderr.contains("where the waygate admin is mounted"),
        "{run}"
    );
}

#[test]
fn help_shows_examples_and_completions_are_generated() {
    let cli = Cli::new();
    for args in [
        &["--help"][..],
        &["disable", "--help"][..],
        &["rl", "set", "--help"][..],
        &["global", "enable", "--help"][..],
    ] {
        let out = cli.ok(args);
        assert!(out.contains("Example"), "{args:?}: {out}");
        assert!(out.contains("waygate "), "{args:?}: {out}");
    }
    assert!(cli
        .ok(&["rl", "--help"])
        .contains("rl set GET:/payments 100/minute"));
    for (shell, marker) in [
        ("bash", "_waygate()"),
        ("zsh", "#compdef waygate"),
        ("fish", "complete -c waygate"),
    ] {
        let out = cli.ok(&["completions", shell]);
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("rate-limits"), "{shell}");
    }
    cli.fails(2, &["completions", "tcsh"]);
    // No command: help on stderr, usage exit code.
    let run = cli.fails(2, &[]);
    assert!(run.stderr.contains("Usage"), "{run}");
}

#[test]
fn json_on_read_commands_is_the_servers_json() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let state = &cli.json(&["status", "GET:/payments"])[0];
    for field in [
        "path",
        "service",
        "status",
        "reason",
        "allowed_envs",
        "window",
        "force_active",
    ] {
        assert!(state.get(field).is_some(), "{field}: {state}");
    }
    assert!(cli.json(&["global", "status"]).get("enabled").is_some());
    assert!(cli
        .json(&["sm", "status", "billing"])
        .get("enabled")
        .is_some());
    assert!(cli.json(&["grl", "get"]).get("policy").is_some());
    assert!(cli.json(&["srl", "get", "billing"]).get("policy").is_some());
    assert!(cli.json(&["rl", "hits"]).is_array());
    assert!(cli.json(&["rl", "list"]).is_array());
    assert!(cli.json(&["services"]).is_array());
    assert_eq!(
        cli.json(&["disable", "GET:/payments"])[0]["status"],
        "disabled"
    );
    let shown = cli.json(&["config", "show"]);
    assert!(
        shown.get("token").is_none()
            && !shown
                .to_string()
                .contains(cli.config()["auth"]["token"].as_str().unwrap())
    );
}

// ---------------------------------------------------------------------------------------------
// On a terminal
// ---------------------------------------------------------------------------------------------

#[test]
fn login_prompts_for_the_password_without_echo() {
    let server = Server::start();
    let cli = Cli::new();
    cli.ok(&["config", "set-url", &server.url]);
    let run = cli.run_tty(
        &["login"],
        &[("Username: ", "admin\n"), ("Password: ", "s3cret-typed\n")],
        &[],
    );
    // The server's password is `secret`: this one is refused, and was never echoed.
    assert_eq!(run.code, Some(1), "{run}");
    assert!(!run.stdout.contains("s3cret-typed"), "echoed: {run}");
    assert!(run.stdout.contains("wrong username or password"), "{run}");
    let run = cli.run_tty(&["login", "admin"], &[("Password: ", "secret\n")], &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(!run.stdout.contains("secret\n"), "echoed: {run}");
    assert!(run.stdout.contains("Logged in as"), "{run}");
    assert_eq!(cli.config()["auth"]["username"], "admin");
}

#[test]
fn an_ambiguous_path_on_a_terminal_asks_before_changing_every_match() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let run = cli.run_tty(
        &["disable", "/orders", "-r", "x"],
        &[("[y/N] ", "n\n")],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("• GET:/orders"), "{run}");
    assert!(run.stdout.contains("• POST:/orders"), "{run}");
    assert_eq!(
        server.state("GET:/orders").status,
        waygate::RouteStatus::Active
    );

    let run = cli.run_tty(
        &["disable", "/orders", "-r", "x"],
        &[("[y/N] ", "y\n")],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("GET:/orders"), "{run}");
    for key in ["GET:/orders", "POST:/orders"] {
        assert_eq!(
            server.state(key).status,
            waygate::RouteStatus::Disabled,
            "{key}"
        );
        assert_eq!(server.state(key).reason, "x");
    }
}

#[test]
fn status_is_coloured_on_a_terminal_unless_no_color() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    cli.ok(&["disable", "GET:/payments"]);
    let run = cli.run_tty(&["status"], &[], &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("\x1b[32mACTIVE\x1b[0m"), "{run}");
    assert!(run.stdout.contains("\x1b[31mDISABLED\x1b[0m"), "{run}");
    assert!(run.stdout.contains("\x1b[1mROUTE\x1b[0m"), "{run}");
    let run = cli.run_tty(&["status"], &[], &[("NO_COLOR", "1")]);
    assert!(!run.stdout.contains('\x1b'), "{run}");
    // Errors too.
    let run = cli.run_tty(&["enable", "GET:/nope"], &[], &[]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("\x1b[1;31merror:\x1b[0m"), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Operator tools: rollout and bypass
// ---------------------------------------------------------------------------------------------

#[test]
fn rollout_sets_the_routes_rollout_percentage() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["rollout", "GET:/payments", "25"]);
    assert!(
        out.contains("GET:/payments → served to 25% of clients"),
        "{out}"
    );
    assert_eq!(server.state("GET:/payments").rollout_percentage, 25);
    let state = cli.json(&["rollout", "/payments", "100"]);
    assert_eq!(state["rollout_percentage"], 100);
    assert_eq!(state["path"], "GET:/payments");
    let log = cli.json(&["log", "--route", "GET:/payments"]);
    assert_eq!(log[0]["action"], "rollout");

    let run = cli.fails(2, &["rollout", "GET:/payments", "101"]);
    assert!(run.stderr.contains("101 is not in 0..=100"), "{run}");
    cli.fails(2, &["rollout", "GET:/payments"]);
    let run = cli.fails(1, &["rollout", "GET:/nope", "5"]);
    assert!(one_line_error(&run).contains("not found"), "{run}");
}

#[test]
fn bypass_create_prints_the_token_and_header_and_revoke_ends_it() {
    let server = Server::start();
    let cli = Cli::logged_in(&server.url);
    let out = cli.ok(&["bypass", "create", "--ttl", "2h", "--reason", "QA"]);
    assert!(out.contains("Bypass token, valid until"), "{out}");
    let token = out
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Send the header:  X-Waygate-Bypass: ")
        })
        .unwrap_or_else(|| panic!("no header line: {out}"))
        .to_owned();
    let link = format!("{}/bypass/{token}", server.url);
    assert!(out.contains(&link), "{out}");

    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let visit = browser.get(&link).send().unwrap();
    assert_eq!(visit.status().as_u16(), 303);
    assert!(visit.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with(&format!("waygate_bypass={token};")));

    let issued = cli.json(&["bypass", "create", "--ttl", "30m"]);
    let lifetime = timestamp(&issued["expires_at"]) - Utc::now();
    assert!(lifetime > TimeDelta::minutes(29) && lifetime <= TimeDelta::minutes(30));

    let run = cli.fails(1, &["bypass", "create", "--ttl", "31d"]);
    assert!(run.stderr.contains("at most 30 days"), "{run}");

    let out = cli.ok(&["bypass", "revoke"]);
    assert!(
        out.contains("every bypass token issued so far is revoked"),
        "{out}"
    );
    assert_eq!(browser.get(&link).send().unwrap().status().as_u16(), 404);
    let log = cli.json(&["log", "--limit", "5"]);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert_eq!(
        actions[..3],
        ["bypass_revoke", "bypass_create", "bypass_create"]
    );
}
