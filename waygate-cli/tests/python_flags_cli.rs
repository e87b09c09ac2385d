//! The Python original's CLI (PyPI `waygate` 0.2.0: its `flags` and `segments` commands)
//! against our `waygate serve`: every command it has, and what it changed, read back from
//! our API. Its interpreter comes from `scripts/python-server-env` in
//! `WAYGATE_PYTHON_SERVER` (`scripts/test` does that); without it the test fails.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use support::{Cli, Served};

/// The Python CLI, beside the interpreter of its virtual environment.
fn python_cli() -> Cli {
    let python = std::env::var_os("WAYGATE_PYTHON_SERVER")
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .expect("WAYGATE_PYTHON_SERVER names the Python of scripts/python-server-env");
    let cli = python.with_file_name("waygate");
    assert!(cli.is_file(), "{} is not a file", cli.display());
    Cli::with_exe(cli)
}

/// `GET path` on our server, as the admin.
fn read(server: &Served, token: &str, path: &str) -> Value {
    reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.url))
        .header("x-waygate-token", token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn the_python_cli_manages_flags_and_segments_on_waygate_serve() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let python = python_cli();
    python.ok(&["config", "set-url", &server.url]);
    python.ok(&["login", "admin", "--password", "secret"]);
    let login: Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/auth/login", server.url))
        .json(&serde_json::json!({"username": "admin", "password": "secret"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    python.ok(&["flags", "create", "new-checkout", "-n", "New checkout"]);
    let listed = python.ok(&["flags", "list"]);
    assert!(
        listed.contains("new-checkout") && listed.contains("boolean"),
        "{listed}"
    );
    assert!(python
        .ok(&["flags", "get", "new-checkout"])
        .contains("New checkout"));
    python.ok(&["flags", "edit", "new-checkout", "--fallthrough", "on"]);
    python.ok(&[
        "flags",
        "add-rule",
        "new-checkout",
        "-v",
        "off",
        "-a",
        "plan",
        "-o",
        "is",
        "--values",
        "free",
    ]);
    python.ok(&[
        "flags",
        "target",
        "new-checkout",
        "-v",
        "off",
        "-k",
        "alice,bob",
    ]);
    python.ok(&[
        "flags",
        "untarget",
        "new-checkout",
        "-v",
        "off",
        "-k",
        "bob",
    ]);
    python.ok(&["flags", "disable", "new-checkout"]);
    python.ok(&["flags", "enable", "new-checkout"]);
    let flag = read(&server, &token, "/api/flags/new-checkout");
    assert_eq!(flag["fallthrough"], "on");
    assert_eq!(flag["targets"]["off"], serde_json::json!(["alice"]));
    assert_eq!(
        flag["rules"][0]["clauses"][0]["values"],
        serde_json::json!(["free"])
    );
    assert_eq!(flag["enabled"], true);

    // Its evaluate command, against our evaluator.
    let free = python.ok(&[
        "flags",
        "eval",
        "new-checkout",
        "-k",
        "u1",
        "-a",
        "plan=free",
    ]);
    assert!(
        free.contains("RULE_MATCH") && free.contains("off"),
        "{free}"
    );
    let alice = python.ok(&["flags", "eval", "new-checkout", "-k", "alice"]);
    assert!(alice.contains("TARGET_MATCH"), "{alice}");
    let targeting = python.ok(&["flags", "targeting", "new-checkout"]);
    let rule_id = flag["rules"][0]["id"].as_str().unwrap();
    assert!(targeting.contains(rule_id), "{targeting}");
    assert!(python
        .ok(&["flags", "variations", "new-checkout"])
        .contains("fallthrough"));

    // Prerequisites: a cycle is refused, as the Python original does not.
    python.ok(&["flags", "create", "parent", "-n", "Parent"]);
    python.ok(&[
        "flags",
        "add-prereq",
        "new-checkout",
        "-f",
        "parent",
        "-v",
        "on",
    ]);
    let cycle = python.run(&[
        "flags",
        "add-prereq",
        "parent",
        "-f",
        "new-checkout",
        "-v",
        "on",
    ]);
    assert!(
        format!("{}{}", cycle.stdout, cycle.stderr).contains("cycle"),
        "the cycle is refused, saying so: {cycle:?}"
    );
    assert_eq!(
        read(&server, &token, "/api/flags/parent")["prerequisites"],
        serde_json::json!([])
    );
    python.ok(&["flags", "remove-prereq", "new-checkout", "-f", "parent"]);
    python.ok(&["flags", "remove-rule", "new-checkout", "-r", rule_id]);
    assert_eq!(
        read(&server, &token, "/api/flags/new-checkout")["rules"],
        serde_json::json!([])
    );

    // Segments.
    python.ok(&["segments", "create", "beta", "-n", "Beta"]);
    python.ok(&["segments", "include", "beta", "-k", "u1,u2"]);
    python.ok(&["segments", "exclude", "beta", "-k", "u2"]);
    python.ok(&[
        "segments", "add-rule", "beta", "-a", "country", "-o", "in", "-V", "DE,FR",
    ]);
    assert!(python.ok(&["segments", "list"]).contains("beta"));
    assert!(python.ok(&["segments", "get", "beta"]).contains("Beta"));
    let segment = read(&server, &token, "/api/segments/beta");
    assert_eq!(segment["included"], serde_json::json!(["u1", "u2"]));
    assert_eq!(segment["excluded"], serde_json::json!(["u2"]));
    let seg_rule = segment["rules"][0]["id"].as_str().unwrap().to_owned();
    python.ok(&["segments", "remove-rule", "beta", "-r", &seg_rule]);
    python.ok(&["segments", "delete", "beta", "-y"]);
    python.ok(&["flags", "delete", "new-checkout", "-y"]);
    python.ok(&["flags", "delete", "parent", "-y"]);
    assert_eq!(read(&server, &token, "/api/flags"), serde_json::json!([]));
    assert_eq!(
        read(&server, &token, "/api/segments"),
        serde_json::json!([])
    );

    // Every change audited as the Python original names it.
    let audit = read(&server, &token, "/api/audit?limit=100");
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "flag_created",
        "flag_updated",
        "flag_enabled",
        "flag_disabled",
        "flag_deleted",
        "segment_created",
        "segment_updated",
        "segment_deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    server.stop();
}
