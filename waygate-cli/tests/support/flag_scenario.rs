//! Every `flags` (16) and `segments` (8) command of our CLI, against a server that `cli` is
//! logged in to: what each changed is read back with the CLI's own `--json`, and evaluated
//! by the server's debugger. Shared by the tests against `waygate serve` and against the
//! Python original's admin.

use super::Cli;
use serde_json::Value;

/// `flags eval KEY -k USER --json`: `(variation, reason)`.
fn evaluate(cli: &Cli, key: &str, user: &str) -> (String, String) {
    let result = cli.json(&["flags", "eval", key, "-k", user]);
    (
        result["variation"].as_str().unwrap_or_default().to_owned(),
        result["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

fn pair(variation: &str, reason: &str) -> (String, String) {
    (variation.to_owned(), reason.to_owned())
}

/// The id of the only rule of a flag (`targeting`) or segment (`get`).
fn only_rule_id(listed: &Value) -> String {
    let rules = listed["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1, "{listed}");
    rules[0]["id"].as_str().unwrap().to_owned()
}

pub fn run(cli: &Cli) {
    // flags create / list / get / variations / edit
    assert!(cli
        .ok(&["flags", "create", "new-checkout", "-n", "New checkout"])
        .contains("new-checkout"));
    cli.ok(&["flags", "create", "ui-theme", "-n", "Theme", "-t", "string"]);
    let listed = cli.ok(&["flags", "list"]);
    assert!(
        listed.contains("new-checkout") && listed.contains("ui-theme"),
        "{listed}"
    );
    assert!(listed.contains("2 flag(s)"), "{listed}");
    let strings = cli.json(&["flags", "list", "-t", "string"]);
    assert_eq!(strings.as_array().unwrap().len(), 1, "{strings}");
    assert_eq!(strings[0]["key"], "ui-theme");
    assert!(cli
        .ok(&["flags", "list", "-s", "disabled"])
        .contains("No flags found."));
    let variations = cli.ok(&["flags", "variations", "ui-theme"]);
    assert!(
        variations.contains("control") && variations.contains("treatment"),
        "{variations}"
    );
    cli.ok(&[
        "flags",
        "edit",
        "new-checkout",
        "--fallthrough",
        "on",
        "-d",
        "the new flow",
    ]);
    let flag = cli.json(&["flags", "get", "new-checkout"]);
    assert_eq!(
        (flag["fallthrough"].as_str(), flag["description"].as_str()),
        (Some("on"), Some("the new flow"))
    );
    assert!(cli
        .ok(&["flags", "get", "new-checkout"])
        .contains("New checkout"));
    assert_eq!(
        evaluate(cli, "new-checkout", "u3"),
        pair("on", "FALLTHROUGH")
    );

    // segments create / include / exclude / add-rule / get / remove-rule / list
    cli.ok(&["segments", "create", "beta", "-n", "Beta"]);
    cli.ok(&["segments", "include", "beta", "-k", "u1,u2"]);
    cli.ok(&["seg", "exclude", "beta", "-k", "u2"]);
    let segment = cli.json(&["segments", "get", "beta"]);
    assert_eq!(
        segment["included"],
        serde_json::json!(["u1"]),
        "exclude takes a key off the included list"
    );
    assert_eq!(segment["excluded"], serde_json::json!(["u2"]));
    cli.ok(&[
        "segments",
        "add-rule",
        "beta",
        "-a",
        "plan",
        "-o",
        "in",
        "-V",
        "pro,enterprise",
    ]);
    let rule = only_rule_id(&cli.json(&["segments", "get", "beta"]));
    assert!(
        cli.ok(&["segments", "get", "beta"]).contains(&rule),
        "rule ids are shown"
    );
    cli.ok(&["segments", "remove-rule", "beta", "-r", &rule]);
    assert_eq!(
        cli.json(&["segments", "get", "beta"])["rules"],
        serde_json::json!([])
    );
    let listed = cli.ok(&["segments", "list"]);
    assert!(
        listed.contains("beta") && listed.contains("1 segment(s)"),
        "{listed}"
    );

    // flags add-rule / targeting / target / untarget / remove-rule
    cli.ok(&[
        "flags",
        "add-rule",
        "new-checkout",
        "-v",
        "off",
        "-s",
        "beta",
    ]);
    let rule = only_rule_id(&cli.json(&["flags", "targeting", "new-checkout"]));
    assert!(cli
        .ok(&["flags", "targeting", "new-checkout"])
        .contains("in_segment beta"));
    assert_eq!(
        evaluate(cli, "new-checkout", "u1"),
        pair("off", "RULE_MATCH")
    );
    assert_eq!(
        evaluate(cli, "new-checkout", "u2"),
        pair("on", "FALLTHROUGH")
    );
    cli.ok(&["flags", "target", "new-checkout", "-v", "off", "-k", "u9"]);
    assert_eq!(
        evaluate(cli, "new-checkout", "u9"),
        pair("off", "TARGET_MATCH")
    );
    cli.ok(&["flags", "untarget", "new-checkout", "-v", "off", "-k", "u9"]);
    assert_eq!(
        evaluate(cli, "new-checkout", "u9"),
        pair("on", "FALLTHROUGH")
    );
    cli.ok(&["flags", "remove-rule", "new-checkout", "-r", &rule]);
    assert_eq!(
        evaluate(cli, "new-checkout", "u1"),
        pair("on", "FALLTHROUGH")
    );
    let unknown = cli.fails(1, &["flags", "remove-rule", "new-checkout", "-r", "nope"]);
    assert!(unknown.stderr.contains("no rule nope"), "{unknown}");

    // flags add-prereq / remove-prereq
    cli.ok(&["flags", "create", "gate", "-n", "Gate"]);
    cli.ok(&[
        "flags",
        "add-prereq",
        "new-checkout",
        "-f",
        "gate",
        "-v",
        "on",
    ]);
    assert_eq!(
        evaluate(cli, "new-checkout", "u3"),
        pair("off", "PREREQUISITE_FAIL")
    );
    cli.ok(&["flags", "remove-prereq", "new-checkout", "-f", "gate"]);
    assert_eq!(
        evaluate(cli, "new-checkout", "u3"),
        pair("on", "FALLTHROUGH")
    );

    // flags disable / enable / eval with attributes
    cli.ok(&["flags", "disable", "new-checkout"]);
    assert_eq!(evaluate(cli, "new-checkout", "u3"), pair("off", "OFF"));
    cli.ok(&["flags", "enable", "new-checkout"]);
    let table = cli.ok(&[
        "flags",
        "eval",
        "new-checkout",
        "-k",
        "u3",
        "-a",
        "plan=pro",
    ]);
    assert!(
        table.contains("FALLTHROUGH") && table.contains("true"),
        "{table}"
    );

    // flags delete / segments delete
    let refused = cli.fails(2, &["flags", "delete", "gate"]);
    assert!(refused.stderr.contains("--yes"), "{refused}");
    cli.ok(&["flags", "delete", "gate", "-y"]);
    cli.ok(&["segments", "delete", "beta", "-y"]);
    assert!(cli.ok(&["segments", "list"]).contains("No segments found."));
    let gone = cli.fails(1, &["flags", "get", "gate"]);
    assert!(
        gone.stderr.contains("flags list"),
        "the hint names the flag commands: {gone}"
    );
}
