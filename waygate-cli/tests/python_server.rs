//! Both directions of compatibility at once: our CLI drives our `basic` example and the
//! Python original's server (PyPI `waygate` with its FastAPI adapter, serving the same
//! "Basic usage" app, `scripts/python_server.py basic`), and every step — login, status,
//! disable, enable, maintenance, log, global maintenance, rl set/list/delete, and the
//! refusals — gives the same result against both. And every `flags` and `segments`
//! command against the Python original's admin with its flag system on
//! (`scripts/python_server.py flags`).
//!
//! Built only with the `python-server` feature, and it needs the Python environment:
//! `scripts/test` runs
//!
//! ```text
//! WAYGATE_PYTHON_SERVER="$(scripts/python-server-env)" \
//!   cargo test -p waygate-cli --features python-server --test python_server
//! ```
//!
//! Without `WAYGATE_PYTHON_SERVER` the test fails: a skipped test checks nothing.
//!
//! Known, deliberate differences (DECISIONS.md) are kept out of the comparison: the
//! default rate-limit algorithm (`rl set` names one), and `env_only` answering 404 here.

mod support;

use chrono::{SubsecRound, TimeDelta, Utc};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::{one_line_error, Cli};

/// How long a server may take to start (a Python start-up, or building the example).
const STARTUP: Duration = Duration::from_secs(120);

#[test]
fn our_cli_gives_the_same_results_against_our_basic_example_and_the_python_server() {
    let python = python_server();
    let ours = App::start_basic();
    let theirs = App::start_python(&python, "basic");
    let ours_seen = scenario(&ours);
    let theirs_seen = scenario(&theirs);
    assert_eq!(ours_seen.len(), theirs_seen.len());
    for ((step, a), (_, b)) in ours_seen.iter().zip(&theirs_seen) {
        assert_eq!(
            a, b,
            "step {step:?}: ours (left) and the Python server (right) differ"
        );
    }
}

/// Runs the story against `app` and returns what each step observed, for comparison with
/// the other server. The assertions inside hold for both.
fn scenario(app: &App) -> Vec<(&'static str, Value)> {
    let mut seen = Vec::new();
    let cli = Cli::new();
    let url = format!("http://{}/waygate", app.addr);
    cli.ok(&["config", "set-url", &url]);

    // Auth.
    let run = cli.fails(1, &["status"]);
    seen.push(("status before login", json!(one_line_error(&run))));
    let run = cli.fails(1, &["login", "admin", "--password", "wrong"]);
    seen.push(("wrong password", json!(one_line_error(&run))));
    let out = cli.ok(&["login", "admin", "--password", "secret"]);
    assert!(out.contains("Logged in as admin"), "{}: {out}", app.name);
    let token = cli.config()["auth"]["token"].as_str().unwrap().to_owned();
    seen.push(("login", json!(cli.config()["auth"]["username"])));

    // Status: every route, its status, reason and environments.
    let routes: Vec<Value> = cli
        .json(&["status"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            json!([
                s["path"],
                s["status"],
                s["reason"],
                s["allowed_envs"],
                s["service"]
            ])
        })
        .collect();
    assert_eq!(routes.len(), 6, "{}: {routes:?}", app.name);
    seen.push(("status", json!(routes)));

    // Disable, then enable.
    let out = cli.ok(&["disable", "GET:/payments", "--reason", "hotfix"]);
    seen.push(("disable", json!(out)));
    seen.push(("disabled request", app.get("/payments")));
    let out = cli.ok(&["enable", "/payments"]);
    assert!(
        out.contains("GET:/payments → ACTIVE"),
        "{}: {out}",
        app.name
    );
    seen.push(("enable a bare path", json!(out)));
    seen.push(("enabled request", app.get("/payments")));

    // Maintenance with a window in progress.
    let start = Utc::now().trunc_subsecs(0) - TimeDelta::minutes(1);
    let end = start + TimeDelta::hours(1);
    let iso = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let out = cli.ok(&[
        "maintenance",
        "GET:/payments",
        "-r",
        "window",
        "--start",
        &iso(start),
        "--end",
        &iso(end),
    ]);
    seen.push(("maintenance", json!(out)));
    let state = &cli.json(&["status", "GET:/payments"])[0];
    seen.push((
        "maintenance state",
        json!([
            state["status"],
            state["reason"],
            timestamp(&state["window"]["end"]) == end.timestamp()
        ]),
    ));
    let blocked = app.get("/payments");
    seen.push(("maintenance request", json!([blocked[0], blocked[1]])));

    // The audit log of those three changes.
    let log: Vec<Value> = cli
        .json(&["log"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!([
                e["path"],
                e["action"],
                e["actor"],
                e["platform"],
                e["previous_status"],
                e["new_status"],
                e["reason"]
            ])
        })
        .collect();
    assert_eq!(log.len(), 3, "{}: {log:?}", app.name);
    seen.push(("log", json!(log)));

    // Global maintenance.
    cli.ok(&["enable", "GET:/payments"]);
    let out = cli.ok(&["global", "enable", "-r", "deploy", "-e", "/v2/users"]);
    seen.push(("global enable", json!(out)));
    seen.push(("global status", cli.json(&["global", "status"])));
    seen.push(("global: a route", app.get("/payments")));
    seen.push(("global: exempt", app.get("/v2/users")));
    seen.push(("global: force-active", app.get("/health")));
    let out = cli.ok(&["global", "disable"]);
    seen.push(("global disable", json!(out)));
    seen.push(("global off", app.get("/payments")));

    // Rate limits.
    let out = cli.ok(&["rl", "set", "GET:/payments", "3/hour", "-a", "fixed_window"]);
    seen.push(("rl set", json!(out)));
    let policies: Vec<Value> = cli
        .json(&["rl", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!([
                p["path"],
                p["method"],
                p["limit"],
                p["algorithm"],
                p["key_strategy"]
            ])
        })
        .collect();
    seen.push(("rl list", json!(policies)));
    let statuses: Vec<Value> = (0..4).map(|_| app.get("/payments")[0].clone()).collect();
    seen.push(("rate limited", json!(statuses)));
    let out = cli.ok(&["rl", "delete", "GET:/payments"]);
    seen.push(("rl delete", json!(out)));
    seen.push(("rl list after delete", cli.json(&["rl", "list"])));
    seen.push(("no limit", app.get("/payments")));

    // Refusals: exit codes and which message.
    let run = cli.fails(1, &["disable", "GET:/health"]);
    one_line_error(&run);
    assert!(run.stderr.contains("force_active"), "{}: {run}", app.name);
    seen.push(("protected", json!(run.code)));
    let run = cli.fails(1, &["disable", "GET:/nope"]);
    one_line_error(&run);
    seen.push(("not found", json!(run.code)));
    let run = cli.fails(2, &["disable", "FETCH:/payments"]);
    seen.push(("bad method", json!(one_line_error(&run))));

    // Logout revokes the token on the server.
    cli.ok(&["logout"]);
    let revoked = reqwest::blocking::Client::new()
        .get(format!("{url}/api/routes"))
        .header("X-Waygate-Token", &token)
        .header("X-Waygate-Platform", "cli")
        .send()
        .unwrap()
        .status()
        .as_u16();
    seen.push(("revoked", json!(revoked)));
    seen
}

/// The service commands against the Python original's central `WaygateServer`
/// (`scripts/python_server.py server`, admin API at the root), with two services registered
/// as their SDK registers them: `test_cli_service.py`'s behaviours, on the real thing.
#[test]
fn our_cli_manages_the_flags_and_segments_of_a_python_admin() {
    let python = python_server();
    let admin = App::start_python(&python, "flags");
    let cli = Cli::new();
    cli.ok(&[
        "config",
        "set-url",
        &format!("http://{}/waygate", admin.addr),
    ]);
    cli.ok(&["login", "admin", "--password", "secret"]);
    support::flag_scenario::run(&cli);
}

#[test]
fn our_cli_manages_the_services_of_a_python_waygate_server() {
    let python = python_server();
    let server = App::start_python(&python, "server");
    let url = format!("http://{}", server.addr);
    server.register("billing", &["GET:/invoices", "POST:/invoices"]);
    server.register("orders", &["GET:/orders"]);

    let mut cli = Cli::new();
    cli.ok(&["config", "set-url", &url]);
    cli.ok(&["login", "admin", "--password", "secret"]);
    assert_eq!(cli.json(&["services"]), json!(["billing", "orders"]));
    let out = cli.ok(&["services"]);
    support::row(&out, &["billing"]);
    let out = cli.ok(&["status"]);
    support::row(&out, &["GET:/invoices", "billing", "ACTIVE"]);
    support::row(&out, &["GET:/orders", "orders", "ACTIVE"]);

    // WAYGATE_SERVICE filters `status` and prefixes the keys of changes.
    cli.env("WAYGATE_SERVICE", "billing");
    assert!(cli
        .ok(&["current-service"])
        .contains("Active service: billing"));
    let out = cli.ok(&["status"]);
    assert!(out.contains("Service: billing"), "{out}");
    support::row(&out, &["GET:/invoices", "ACTIVE"]);
    support::row(&out, &["POST:/invoices", "ACTIVE"]);
    assert!(!out.contains("/orders"), "{out}");
    let out = cli.ok(&["disable", "GET:/invoices", "-r", "invoicing down"]);
    assert!(out.contains("billing:GET:/invoices → DISABLED"), "{out}");
    let state = &cli.json(&["status", "GET:/invoices"])[0];
    assert_eq!(state["path"], "billing:GET:/invoices");
    assert_eq!(state["status"], "disabled");
    assert_eq!(state["reason"], "invoicing down");

    // --service beats the environment.
    let out = cli.ok(&[
        "maintenance",
        "GET:/orders",
        "--service",
        "orders",
        "-r",
        "m",
    ]);
    assert!(out.contains("orders:GET:/orders → MAINTENANCE"), "{out}");
    let state = &cli.json(&["status", "--service", "orders", "GET:/orders"])[0];
    assert_eq!(state["status"], "maintenance");
    assert_eq!(
        cli.json(&["status"]).as_array().unwrap().len(),
        2,
        "still billing's"
    );

    // Per-service maintenance and rate limits.
    let out = cli.ok(&["sm", "enable", "billing", "-r", "db", "-e", "GET:/invoices"]);
    assert!(
        out.contains("Service maintenance ENABLED for billing"),
        "{out}"
    );
    let config = cli.json(&["sm", "status", "billing"]);
    assert_eq!(
        [
            &config["enabled"],
            &config["reason"],
            &config["exempt_paths"]
        ],
        [&json!(true), &json!("db"), &json!(["GET:/invoices"])]
    );
    cli.ok(&["sm", "disable", "billing"]);
    assert_eq!(cli.json(&["sm", "status", "billing"])["enabled"], false);
    let out = cli.ok(&["srl", "set", "billing", "100/minute", "-k", "global"]);
    assert!(
        out.contains("Service rate limit set for billing: 100/minute"),
        "{out}"
    );
    let policy = cli.json(&["srl", "get", "billing"]);
    assert_eq!(policy["policy"]["limit"], "100/minute");
    assert_eq!(policy["policy"]["key_strategy"], "global");
    assert!(cli
        .ok(&["srl", "disable", "billing"])
        .contains("paused for billing"));
    assert_eq!(
        cli.json(&["srl", "get", "billing"])["policy"]["enabled"],
        false
    );
    cli.ok(&["srl", "delete", "billing"]);
    assert_eq!(cli.json(&["srl", "get", "billing"])["policy"], Value::Null);

    // The audit log names the service keys and the CLI user.
    let log = cli.json(&["log"]);
    let entries: Vec<Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["path"], e["action"], e["actor"]]))
        .collect();
    assert!(
        entries.contains(&json!(["billing:GET:/invoices", "disable", "admin"])),
        "{entries:?}"
    );
    assert!(
        entries.contains(&json!(["orders:GET:/orders", "maintenance_on", "admin"])),
        "{entries:?}"
    );
    assert_eq!(
        cli.json(&["log", "--route", "billing:GET:/invoices"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// One config file, two CLIs (the Python CLI is the one `scripts/python-server-env`
/// installs beside its `python`): what one stores, the other uses — the server URL, the
/// login — so a user can switch freely.
#[test]
fn ours_and_the_python_cli_share_one_config_file() {
    let python = python_server();
    let app = App::start_python(&python, "basic");
    let url = format!("http://{}/waygate", app.addr);
    let ours = Cli::new();
    let mut theirs = Cli::with_exe(python.with_file_name("waygate"));
    theirs.env("HOME", &ours.home().display().to_string());

    ours.ok(&["config", "set-url", &url]);
    ours.ok(&["login", "admin", "--password", "secret"]);
    let out = theirs.ok(&["config", "show"]);
    assert!(out.contains(&url), "{out}");
    assert!(out.contains("admin"), "{out}");
    let out = theirs.ok(&["status"]);
    assert!(
        out.contains("GET:/payments"),
        "the Python CLI uses our token: {out}"
    );
    let out = theirs.ok(&["disable", "GET:/payments", "--reason", "from python"]);
    assert!(out.contains("GET:/payments → DISABLED"), "{out}");
    let log = ours.json(&["log"]);
    assert_eq!(
        [&log[0]["action"], &log[0]["actor"], &log[0]["reason"]],
        [&json!("disable"), &json!("admin"), &json!("from python")]
    );

    // Logging out with theirs logs ours out; logging in with theirs logs ours in.
    theirs.ok(&["logout"]);
    let run = ours.fails(1, &["status"]);
    assert!(run.stderr.contains("not logged in"), "{run}");
    theirs.ok(&["login", "admin", "--password", "secret"]);
    assert_eq!(
        ours.json(&["status", "GET:/payments"])[0]["status"],
        "disabled"
    );
    assert_eq!(ours.json(&["config", "show"])["username"], "admin");

    // And the URL either one sets.
    theirs.ok(&["config", "set-url", "http://elsewhere:9000/waygate/"]);
    let shown = ours.json(&["config", "show"]);
    assert_eq!(shown["server_url"], "http://elsewhere:9000/waygate");
    assert_eq!(shown["source"], ours.config_path().display().to_string());
}

/// A datetime as whole UTC seconds.
fn timestamp(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("no timestamp: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&format!("{text}Z")))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp()
}

/// The Python executable named by `WAYGATE_PYTHON_SERVER`.
fn python_server() -> PathBuf {
    let exe = std::env::var_os("WAYGATE_PYTHON_SERVER")
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "WAYGATE_PYTHON_SERVER is not set: it names the Python of the environment \
                 `scripts/python-server-env` makes. Run `WAYGATE_PYTHON_SERVER=\"$(scripts/\
                 python-server-env)\" cargo test -p waygate-cli --features python-server \
                 --test python_server`, or scripts/test."
            )
        });
    assert!(
        exe.is_file(),
        "WAYGATE_PYTHON_SERVER={} is not a file",
        exe.display()
    );
    exe
}

// ---------------------------------------------------------------------------------------------
// The two servers
// ---------------------------------------------------------------------------------------------

/// A server process on loopback (killed on drop).
struct App {
    name: &'static str,
    child: Child,
    addr: String,
}

impl App {
    /// Our `basic` example (built first, into the same target dir).
    fn start_basic() -> Self {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev",
            Some(other) => other,
            None => panic!("unexpected test binary path {}", exe.display()),
        };
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "waygate-examples",
                "--example",
                "basic",
            ])
            .args(["--profile", profile, "--manifest-path"])
            .arg(workspace().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .status()
            .expect("run cargo");
        assert!(
            status.success(),
            "building the basic example failed: {status}"
        );
        let mut command = Command::new(profile_dir.join("examples").join("basic"));
        command
            .env("PORT", "0")
            .env("WAYGATE_BACKEND", "memory")
            .env("RUST_LOG", "warn")
            .env_remove("APP_ENV")
            .env_remove("WAYGATE_ENV");
        Self::spawn("basic", command)
    }

    /// An app of `scripts/python_server.py`: `basic`, `server` or `flags`.
    fn start_python(python: &Path, app: &str) -> Self {
        let mut command = Command::new(python);
        command
            .arg(workspace().join("scripts/python_server.py"))
            .arg(app)
            .env("PORT", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .env_remove("APP_ENV")
            .env_remove("WAYGATE_BACKEND")
            .env_remove("WAYGATE_ENV");
        Self::spawn("python", command)
    }

    /// Starts `command` in a scratch directory and waits for `listening on http://ADDR`.
    fn spawn(name: &'static str, mut command: Command) -> Self {
        let dir = std::env::temp_dir();
        let mut child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = tx.send(lines.next());
            lines.for_each(drop);
        });
        let line = match rx.recv_timeout(STARTUP) {
            Ok(Some(line)) => line,
            Ok(None) => {
                let _ = child.kill();
                panic!("{name} exited without printing its address");
            }
            Err(_) => {
                let _ = child.kill();
                panic!("{name} printed nothing within {STARTUP:?}");
            }
        };
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("{name}'s first line is {line:?}"))
            .to_owned();
        Self { name, child, addr }
    }

    /// Registers `app_id`'s routes as its SDK does: an `sdk` login, then
    /// `POST api/sdk/register` with `"{app_id}:{key}"` states.
    fn register(&self, app_id: &str, keys: &[&str]) {
        let http = reqwest::blocking::Client::new();
        let login: Value = http
            .post(format!("http://{}/api/auth/login", self.addr))
            .json(&json!({"username": "admin", "password": "secret", "platform": "sdk"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = login["token"].as_str().unwrap_or_else(|| panic!("{login}"));
        let states: Vec<Value> = keys
            .iter()
            .map(|key| json!({"path": format!("{app_id}:{key}"), "service": app_id}))
            .collect();
        let response = http
            .post(format!("http://{}/api/sdk/register", self.addr))
            .header("X-Waygate-Token", token)
            .header("X-Waygate-App-Id", app_id)
            .json(&json!({"app_id": app_id, "states": states}))
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
    }

    /// `GET path` on the app: `[status, error code or null]`.
    fn get(&self, path: &str) -> Value {
        let response = reqwest::blocking::get(format!("http://{}{path}", self.addr)).unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().unwrap_or(Value::Null);
        json!([status, body["error"]["code"], body["error"]["reason"]])
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}
