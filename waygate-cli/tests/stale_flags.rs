//! Stale and missing flags, end to end: two services (our SDK, in this process) declare
//! flags with `#[flag]` and attach to a `waygate serve` process; the server creates the
//! declared flags they lack (audited as the service), learns who evaluates what, and
//! `waygate flags stale` lists a stored flag no running service declares, a declared flag
//! that was deleted, and a service's declarations no more once it is gone.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::{Cli, Served};
use waygate::flags::{BoolFlag, EvaluationContext, IntFlag};
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;

#[flag(
    key = "new-checkout",
    default = false,
    description = "The redesigned checkout"
)]
static NEW_CHECKOUT: BoolFlag;

#[flag(key = "search-page-size", default = 10)]
static PAGE_SIZE: IntFlag;

/// Waits (at most 15 s) until `done` holds for `waygate flags stale --json`.
fn until(cli: &Cli, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let report = cli.json(&["flags", "stale", "--json"]);
        if done(&report) {
            return report;
        }
        assert!(Instant::now() < deadline, "never {what}: {report:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `method path` on the server with `token`, over plain HTTP/1.1: the status and body.
fn http(url: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("X-Waygate-Token: {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

fn keys(report: &Value, field: &str) -> Vec<String> {
    report[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

fn flag<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {report:#}"))
}

#[test]
fn stale_and_missing_flags_with_two_services() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let cli = Cli::logged_in(&server.url);
    // An operator's flag that no code declares.
    cli.ok(&["flags", "create", "old-banner", "-n", "Old banner"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let attach = |app: &str| {
        runtime.block_on(async {
            let sdk = WaygateSdk::builder(&server.url, app)
                .login("admin", "secret")
                .flag_usage_every(Duration::from_millis(100))
                .build()
                .unwrap();
            sdk.start().await.unwrap();
            sdk
        })
    };
    let payments = attach("payments");
    let orders = attach("orders");

    // Registering created the declared flags, audited as the first service that declared them.
    let declared_by_both = |r: &Value| {
        r["flags"].as_array().unwrap().iter().any(|f| {
            f["key"] == "search-page-size"
                && f["declared_by"] == serde_json::json!(["orders", "payments"])
        })
    };
    let report = until(&cli, "both services running and registered", |r| {
        keys(r, "services") == ["orders", "payments"] && declared_by_both(r)
    });
    assert_eq!(keys(&report, "stale"), ["old-banner"]);
    assert!(keys(&report, "missing").is_empty());
    assert_eq!(
        flag(&report, "new-checkout")["declared_by"],
        serde_json::json!(["orders", "payments"])
    );
    let created = cli.json(&["flags", "get", "new-checkout", "--json"]);
    assert_eq!(created["description"], "The redesigned checkout");
    assert_eq!(created["tags"], serde_json::json!(["declared"]));
    let audit = cli.json(&["log", "--json"]);
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "flag_created" && e["path"] == "flag:new-checkout")
        .unwrap_or_else(|| panic!("flag_created for new-checkout in {audit:#}"));
    assert!(
        ["payments", "orders"].contains(&entry["actor"].as_str().unwrap()),
        "{entry}"
    );
    assert_eq!(entry["platform"], "sdk");

    // payments reads both flags (once the flags have reached it); orders reads nothing.
    let deadline = Instant::now() + Duration::from_secs(15);
    while payments.engine().flags().flag("search-page-size").is_none() {
        assert!(
            Instant::now() < deadline,
            "the flags never reached payments"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let ctx = EvaluationContext::new("u1");
    assert!(!NEW_CHECKOUT.get_in(&payments.engine().flags(), &ctx));
    assert_eq!(PAGE_SIZE.get_in(&payments.engine().flags(), &ctx), 10);
    let report = until(&cli, "payments's evaluations reported", |r| {
        flag(r, "new-checkout")["last_evaluated"]
            .get("payments")
            .is_some()
    });
    assert!(flag(&report, "new-checkout")["last_evaluated"]
        .get("orders")
        .is_none());

    // Deleted on the server while code declares it: missing.
    cli.ok(&["flags", "delete", "search-page-size", "-y"]);
    let report = until(&cli, "search-page-size missing", |r| {
        keys(r, "missing") == ["search-page-size"]
    });
    assert_eq!(keys(&report, "stale"), ["old-banner"]);

    // The server's dashboard says the same: the Flags table's "In code" column.
    let (status, login) = http(
        &server.url,
        "POST",
        "/api/auth/login",
        None,
        r#"{"username": "admin", "password": "secret"}"#,
    );
    assert_eq!(status, 200, "{login}");
    let login: Value = serde_json::from_str(login.trim_start_matches(|c: char| c != '{')).unwrap();
    let token = login["token"].as_str().unwrap();
    let (status, rows) = http(&server.url, "GET", "/flags/rows", Some(token), "");
    assert_eq!(status, 200, "{rows}");
    let row = |key: &str| {
        let start = rows
            .find(&format!("id=\"flag-{key}\""))
            .unwrap_or_else(|| panic!("{key} in {rows}"));
        rows[start..].split("</tr>").next().unwrap().to_owned()
    };
    assert!(
        row("old-banner").contains(">stale<"),
        "{}",
        row("old-banner")
    );
    assert!(
        row("new-checkout").contains("orders, payments"),
        "{}",
        row("new-checkout")
    );
    assert!(!row("new-checkout").contains(">stale<"));
    assert!(
        rows.contains("<code>search-page-size</code> by orders, payments"),
        "{rows}"
    );

    // A service reports for itself only.
    let (status, _) = http(
        &server.url,
        "POST",
        "/api/sdk/flag-usage",
        Some(token),
        r#"{"app_id": "orders", "last_evaluated": {"new-checkout": "2026-01-01T00:00:00Z"}}"#,
    );
    assert_eq!(status, 200, "a user may report for any service");
    let (status, issued) = http(
        &server.url,
        "POST",
        "/api/tokens",
        Some(token),
        r#"{"service": "payments"}"#,
    );
    assert_eq!(status, 201, "{issued}");
    let issued: Value =
        serde_json::from_str(issued.trim_start_matches(|c: char| c != '{')).unwrap();
    let (status, refused) = http(
        &server.url,
        "POST",
        "/api/sdk/flag-usage",
        issued["token"].as_str(),
        r#"{"app_id": "orders", "last_evaluated": {"new-checkout": "2026-01-01T00:00:00Z"}}"#,
    );
    assert_eq!(status, 403, "{refused}");

    // orders goes away: its declarations no longer count.
    runtime.block_on(orders.shutdown());
    drop(orders);
    let report = until(&cli, "orders gone", |r| keys(r, "services") == ["payments"]);
    assert_eq!(
        flag(&report, "new-checkout")["declared_by"],
        serde_json::json!(["payments"])
    );
    // And the table, for people.
    let table = cli.ok(&["flags", "stale"]);
    assert!(table.contains("old-banner"), "{table}");
    assert!(table.contains("stale"), "{table}");
    assert!(table.contains("missing"), "{table}");
    runtime.block_on(payments.shutdown());
}
