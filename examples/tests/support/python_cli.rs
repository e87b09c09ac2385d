//! The Python original's CLI driving an example's admin API: the story both adapters' example
//! tests tell (`examples/tests/python_cli.rs` for axum's `basic`,
//! `waygate-actix/tests/python_cli.rs` for `actix_basic`). Included with
//! `#[path = ".."] mod story;` beside `mod support;`.

use crate::support::Example;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one CLI command may take (a Python start-up and one or two requests).
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Drives the admin API of the example `name` (`basic`, or `waygate-actix`'s `actix_basic`:
/// the same routes and behaviour table) with the Python CLI, checking both sides.
pub(crate) fn drive(name: &'static str) {
    let exe = python_cli();
    let app = Example::start(name, &[]);
    let cli = Cli::new(exe);
    let url = format!("http://{}/waygate", app.addr);

    // Configuration and login.
    let out = cli.ok(&["config", "set-url", &url]);
    assert!(out.contains(&format!("Server URL set to {url}")), "{out}");
    assert_eq!(cli.config()["server_url"], url.as_str());

    let denied = cli.fails(&["status"]);
    assert!(
        denied.contains("Authentication required"),
        "our 401 before login: {denied}"
    );
    let wrong = cli.fails(&["login", "admin", "--password", "wrong"]);
    assert!(wrong.contains("Authentication required"), "{wrong}");
    assert_eq!(cli.config()["auth"], Value::Null, "no token stored");

    let out = cli.ok(&["login", "admin", "--password", "secret"]);
    assert!(out.contains("Logged in as admin"), "{out}");
    assert!(out.contains("Token expires:"), "{out}");
    let config = cli.config();
    assert_eq!(config["auth"]["username"], "admin", "{config}");
    let token = config["auth"]["token"]
        .as_str()
        .filter(|token| !token.is_empty())
        .unwrap_or_else(|| panic!("no token stored: {config}"))
        .to_owned();
    let expires = timestamp(&config["auth"]["expires_at"]);
    assert!(expires > Utc::now(), "the token expires at {expires}");

    let out = cli.ok(&["config", "show"]);
    assert!(out.contains(&url), "{out}");
    assert!(out.contains("admin"), "{out}");

    // `status`: every route of the example, with its state.
    let out = cli.ok(&["status"]);
    let table = cells(&out);
    for row in [
        &["GET:/health", "ACTIVE"][..],
        &[
            "GET:/payments",
            "MAINTENANCE",
            "Scheduled database migration — back at 04:00 UTC",
        ],
        &["GET:/debug", "ENV_GATED", "dev"],
        &["GET:/old-endpoint", "DISABLED", "Use /v2/endpoint instead"],
        &["GET:/v1/users", "DEPRECATED"],
        &["GET:/v2/users", "ACTIVE"],
    ] {
        assert_row(&table, row, &out);
    }

    // `disable`, then `enable`.
    let out = cli.ok(&["disable", "GET:/payments", "--reason", "hotfix"]);
    assert!(out.contains("GET:/payments → DISABLED"), "{out}");
    assert!(out.contains("Reason: hotfix"), "{out}");
    let blocked = app.expect("/payments", 503);
    assert_eq!(blocked.code(), "ROUTE_DISABLED");
    assert_eq!(blocked.json()["error"]["reason"], "hotfix");

    let out = cli.ok(&["enable", "GET:/payments"]);
    assert!(out.contains("GET:/payments → ACTIVE"), "{out}");
    assert_eq!(app.expect("/payments", 200).json(), json!({"payments": []}));

    // `maintenance` with a window in progress: 503 until its end, Retry-After in seconds.
    let start = Utc::now().trunc_subsecs(0) - TimeDelta::minutes(1);
    let end = start + TimeDelta::minutes(11);
    let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let out = cli.ok(&[
        "maintenance",
        "GET:/payments",
        "--reason",
        "m",
        "--start",
        &iso(start),
        "--end",
        &iso(end),
    ]);
    assert!(out.contains("GET:/payments → MAINTENANCE"), "{out}");
    assert!(out.contains("Reason: m"), "{out}");
    let blocked = app.expect("/payments", 503);
    assert_eq!(
        blocked.json(),
        json!({"error": {
            "code": "MAINTENANCE_MODE",
            "message": "This endpoint is temporarily unavailable",
            "reason": "m",
            "path": "/payments",
            "retry_after": blocked.json()["error"]["retry_after"],
        }})
    );
    assert_eq!(timestamp(&blocked.json()["error"]["retry_after"]), end);
    let retry_after: i64 = blocked
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After during a window: {blocked:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("Retry-After is not whole seconds ({e}): {blocked:?}"));
    assert!((1..=600).contains(&retry_after), "{blocked:?}");

    let out = cli.ok(&["status", "GET:/payments"]);
    let window_end = end.format("%Y-%m-%d %H:%M UTC").to_string();
    assert_row(
        &cells(&out),
        &["GET:/payments", "MAINTENANCE", "m", &window_end],
        &out,
    );

    // `log`: the three changes, newest first, by the token's user from the CLI.
    let out = cli.ok(&["log"]);
    let table = cells(&out);
    let newest_first = [
        ["GET:/payments", "maintenance_on", "admin", "cli", "m"],
        ["GET:/payments", "enable", "admin", "cli", "—"],
        ["GET:/payments", "disable", "admin", "cli", "hotfix"],
    ];
    let positions: Vec<usize> = newest_first
        .iter()
        .map(|row| assert_row(&table, row, &out))
        .collect();
    assert!(positions.is_sorted(), "newest first: {out}");
    assert_row(
        &table,
        &["disable", "maintenance → disabled", "hotfix"],
        &out,
    );

    // `global enable`: every route 503 but the force-active `/health`; the admin API still
    // answers (the CLI's next commands).
    let out = cli.ok(&["global", "enable", "--reason", "x"]);
    assert!(out.contains("Global maintenance ENABLED"), "{out}");
    assert!(out.contains("Reason: x"), "{out}");
    for path in [
        "/payments",
        "/debug",
        "/old-endpoint",
        "/v1/users",
        "/v2/users",
    ] {
        let blocked = app.expect(path, 503);
        assert_eq!(
            blocked.json(),
            json!({"error": {
                "code": "MAINTENANCE_MODE",
                "message": "This endpoint is temporarily unavailable",
                "reason": "x",
                "path": path,
            }})
        );
    }
    app.expect("/health", 200);
    let out = cli.ok(&["global", "status"]);
    assert!(out.contains("Global maintenance: ON"), "{out}");
    assert!(out.contains("Include @force_active: no"), "{out}");

    let out = cli.ok(&["global", "disable"]);
    assert!(out.contains("Global maintenance DISABLED"), "{out}");
    assert_eq!(app.expect("/v2/users", 200).json()["users"][0]["id"], 1);
    assert_eq!(app.expect("/old-endpoint", 503).code(), "ROUTE_DISABLED");
    assert_eq!(app.expect("/payments", 503).json()["error"]["reason"], "m");
    let out = cli.ok(&["global", "status"]);
    assert!(out.contains("Global maintenance: OFF"), "{out}");

    // `rl set`, `rl list`, `rl delete`, on the route served again.
    cli.ok(&["enable", "GET:/payments"]);
    let served = app.expect("/payments", 200);
    assert_eq!(served.header("x-ratelimit-limit"), None, "no limit yet");

    let out = cli.ok(&["rl", "set", "GET:/payments", "5/minute"]);
    assert!(
        out.contains("Rate limit set: GET /payments → 5/minute"),
        "{out}"
    );
    assert_eq!(app.statuses("/payments", &[], 5), [200; 5]);
    let limited = app.expect("/payments", 429);
    assert_eq!(limited.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(limited.json()["error"]["limit"], "5/minute");
    assert_eq!(limited.header("x-ratelimit-limit"), Some("5/minute"));

    let out = cli.ok(&["rl", "list"]);
    assert_row(&cells(&out), &["/payments", "GET", "5/minute"], &out);

    let out = cli.ok(&["rl", "delete", "GET:/payments"]);
    assert!(
        out.contains("Rate limit policy deleted: GET /payments"),
        "{out}"
    );
    let served = app.expect("/payments", 200);
    assert_eq!(served.header("x-ratelimit-limit"), None, "{served:?}");
    let out = cli.ok(&["rl", "list"]);
    assert!(out.contains("No rate limit policies registered."), "{out}");

    // The rest of the story in `log`.
    let out = cli.ok(&["log"]);
    let table = cells(&out);
    for row in [
        &["GET:/payments", "rl_policy_deleted", "admin"][..],
        &["GET:/payments", "rl_policy_set", "admin", "set"],
        &["global_maintenance_off", "admin", "cli"],
        &["global_maintenance_on", "admin", "cli", "x"],
    ] {
        assert_row(&table, row, &out);
    }

    // `logout` revokes the token on the server and forgets it.
    let out = cli.ok(&["logout"]);
    assert!(out.contains("Logged out."), "{out}");
    assert_eq!(cli.config()["auth"], Value::Null, "token forgotten");
    let revoked = app.send(
        "GET",
        "/waygate/api/routes",
        &[("X-Waygate-Token", &token), ("X-Waygate-Platform", "cli")],
        None,
    );
    assert_eq!(revoked.status, 401, "the old token is revoked: {revoked:?}");
    let denied = cli.fails(&["status"]);
    assert!(denied.contains("Authentication required"), "{denied}");

    app.stop();
}

/// The CLI executable named by `WAYGATE_PYTHON_CLI`.
/// The Python CLI's `flags` and `segments` commands against the `feature_flags` example:
/// its five flags listed and read, evaluated by our evaluator as the example's behaviour
/// table says, a kill switch seen by the example's own endpoint, and a segment that a rule
/// then targets.
pub(crate) fn drive_flags() {
    let exe = python_cli();
    let app = Example::start("feature_flags", &[]);
    let cli = Cli::new(exe);
    cli.ok(&["config", "set-url", &format!("http://{}/waygate", app.addr)]);
    cli.ok(&["login", "admin", "--password", "secret"]);

    // A table without column rules: one line per flag.
    let out = cli.ok(&["flags", "list"]);
    for (key, flag_type) in [
        ("new-checkout", "boolean"),
        ("ui-theme", "string"),
        ("search-page-size", "integer"),
        ("discount-rate", "float"),
        ("feature-config", "json"),
    ] {
        assert!(
            out.lines()
                .any(|line| line.contains(key) && line.contains(flag_type)),
            "{key} ({flag_type}) in:\n{out}"
        );
    }
    assert!(out.contains("5 flag(s)"), "{out}");
    let out = cli.ok(&["flags", "list", "--type", "float"]);
    assert!(
        out.contains("discount-rate") && !out.contains("ui-theme"),
        "{out}"
    );
    let out = cli.ok(&["flags", "get", "search-page-size"]);
    assert!(out.contains("integer") && out.contains("Rules"), "{out}");
    assert!(cli
        .ok(&["flags", "variations", "ui-theme"])
        .contains("dark"));

    // Our evaluator, as the behaviour table says.
    let out = cli.ok(&["flags", "eval", "new-checkout", "-k", "beta_tester_1"]);
    assert!(
        out.contains("TARGET_MATCH") && out.contains("True"),
        "{out}"
    );
    let out = cli.ok(&[
        "flags",
        "eval",
        "search-page-size",
        "-k",
        "u1",
        "-a",
        "plan=pro",
    ]);
    assert!(out.contains("RULE_MATCH") && out.contains("50"), "{out}");

    // A kill switch, seen by the example's endpoint.
    let checkout = |user: &str| app.get(&format!("/checkout?user_id={user}")).json();
    assert_eq!(checkout("beta_tester_1")["new_checkout"], true);
    cli.ok(&["flags", "disable", "new-checkout"]);
    assert_eq!(checkout("beta_tester_1")["new_checkout"], false);
    cli.ok(&["flags", "enable", "new-checkout"]);
    assert_eq!(checkout("beta_tester_1")["new_checkout"], true);

    // A segment, and a rule that targets it.
    cli.ok(&["segments", "create", "staff", "-n", "Staff"]);
    cli.ok(&["segments", "include", "staff", "-k", "ada,grace"]);
    assert!(cli.ok(&["segments", "list"]).contains("staff"));
    cli.ok(&[
        "flags",
        "add-rule",
        "new-checkout",
        "-v",
        "on",
        "-s",
        "staff",
    ]);
    assert_eq!(checkout("grace")["new_checkout"], true);
    let out = cli.ok(&["flags", "targeting", "new-checkout"]);
    assert!(out.contains("in_segment"), "{out}");
}

fn python_cli() -> PathBuf {
    let exe = std::env::var_os("WAYGATE_PYTHON_CLI")
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "WAYGATE_PYTHON_CLI is not set: it names the Python `waygate` CLI this test \
                 drives. Run `WAYGATE_PYTHON_CLI=\"$(scripts/python-cli-env)\" cargo test -p \
                 waygate-examples --features python-cli --test python_cli` (or `-p \
                 waygate-actix`), or scripts/test."
            )
        });
    assert!(
        exe.is_file(),
        "WAYGATE_PYTHON_CLI={} is not a file",
        exe.display()
    );
    exe
}

// ---------------------------------------------------------------------------------------------
// Running the CLI
// ---------------------------------------------------------------------------------------------

/// The Python CLI, with a home directory of its own (removed on drop).
struct Cli {
    exe: PathBuf,
    home: PathBuf,
}

/// What one CLI command did.
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    /// Without ANSI escape sequences.
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waygate {:?} exited with {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

impl Cli {
    fn new(exe: PathBuf) -> Self {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let home =
            std::env::temp_dir().join(format!("waygate-python-cli-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("create {}: {e}", home.display()));
        Self { exe, home }
    }

    /// Runs `waygate args..`, which must succeed; returns its stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(0), "{run}");
        run.stdout
    }

    /// Runs `waygate args..`, which must exit with 1 (the CLI's error exit); returns its
    /// stdout and stderr.
    #[track_caller]
    fn fails(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(1), "{run}");
        format!("{}{}", run.stdout, run.stderr)
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .current_dir(&self.home)
            .env("HOME", &self.home)
            .env("USERPROFILE", &self.home)
            .env_remove("WAYGATE_SERVER_URL")
            .env_remove("WAYGATE_SERVICE")
            .env("COLUMNS", "250")
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.exe.display()));
        let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            let mut pipe = pipe.expect("piped");
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = Instant::now() + CLI_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the CLI") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("waygate {args:?} did not finish within {CLI_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(10));
        };
        Run {
            args: args.iter().map(|&arg| arg.to_owned()).collect(),
            code: status.code(),
            stdout: strip_ansi(&stdout.join().expect("stdout reader")),
            stderr: strip_ansi(&stderr.join().expect("stderr reader")),
        }
    }

    /// The CLI's config file, `$HOME/.waygate/config.json`.
    fn config(&self) -> Value {
        let path = self.home.join(".waygate").join("config.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()))
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// `text` without ANSI escape sequences (CSI `ESC [ .. final`, OSC `ESC ] .. BEL|ESC \`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The rows of the tables in `text`: each line with a column separator, split into trimmed
/// cells.
fn cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.contains(['│', '┃', '|']))
        .map(|line| {
            line.split(['│', '┃', '|'])
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The index of the first row of `table` that has every one of `wanted` among its cells.
#[track_caller]
fn assert_row(table: &[Vec<String>], wanted: &[&str], out: &str) -> usize {
    table
        .iter()
        .position(|row| {
            wanted
                .iter()
                .all(|want| row.iter().any(|cell| cell == want))
        })
        .unwrap_or_else(|| panic!("no row with the cells {wanted:?} in:\n{out}"))
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text}"))
        .with_timezone(&Utc)
}
