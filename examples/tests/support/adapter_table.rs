//! One table of requests and expected answers — statuses, bodies, headers, the outcome
//! counters and the traffic log — run against every adapter (`waygate/tests/adapter_table.rs`
//! for axum, `waygate-actix/tests/adapter_table.rs` for actix-web), so that adapters agree
//! by construction and a new one starts from a failing table.
//!
//! The including file brings its adapter's prelude into scope (`use waygate::prelude::*;`)
//! and serves [`ROUTES`]-declared handlers behind its middleware, plus a plain `GET
//! /waygate/ping` under the admin path, on loopback; [`run`] does the rest.

use super::*;
use crate::support::{send, Reply};
use serde_json::{json, Value};
use std::net::SocketAddr;

#[route(GET, "/health")]
#[force_active]
pub(crate) async fn health() -> &'static str {
    "ok"
}

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration")]
pub(crate) async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/old")]
#[disabled(reason = "Use /v2")]
pub(crate) async fn old() -> &'static str {
    "old"
}

#[route(GET, "/debug")]
#[env_only("production")]
pub(crate) async fn debug() -> &'static str {
    "debug"
}

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
pub(crate) async fn v1_users() -> &'static str {
    "v1"
}

#[route(GET, "/items/{id}")]
pub(crate) async fn item() -> &'static str {
    "item"
}

#[route(POST, "/items/{id}")]
#[disabled(reason = "read only")]
pub(crate) async fn post_item() -> &'static str {
    "posted"
}

#[route(GET, "/limited")]
// Per day: no window boundary falls between the table's three requests.
#[rate_limit("2/day")]
pub(crate) async fn limited() -> &'static str {
    "limited"
}

/// The table's declared routes, as the including adapter's `routes!` mounts them (expanded
/// where the table module is named `table`).
macro_rules! table_routes {
    () => {
        routes![
            table::health,
            table::payments,
            table::old,
            table::debug,
            table::v1_users,
            table::item,
            table::post_item,
            table::limited
        ]
    };
}
pub(crate) use table_routes;

/// The handler of `GET /waygate/ping`, a plain route under the admin path.
pub(crate) async fn ping() -> &'static str {
    "pong"
}

/// The engine the table expects: environment `dev`.
pub(crate) fn engine() -> Engine {
    Engine::builder().env("dev").build()
}

/// What a reply's body must be.
enum Body {
    Text(&'static str),
    Empty,
    /// The Python original's error body: `{"error": {"code", "message", "reason", "path"}}`
    /// with this code and reason (and the request's path).
    Error(&'static str, &'static str),
    /// The built-in 429 body, with this code.
    Limited,
}

/// One request and its expected answer.
struct Case {
    method: &'static str,
    path: &'static str,
    status: u16,
    body: Body,
    /// Headers that must be there with this value (`Some`) or absent (`None`).
    headers: &'static [(&'static str, Option<&'static str>)],
}

const fn case(method: &'static str, path: &'static str, status: u16, body: Body) -> Case {
    Case {
        method,
        path,
        status,
        body,
        headers: &[],
    }
}

/// The requests while every route is as declared.
const DECLARED: &[Case] = &[
    case("GET", "/health", 200, Body::Text("ok")),
    case(
        "GET",
        "/payments",
        503,
        Body::Error("MAINTENANCE_MODE", "DB migration"),
    ),
    case("GET", "/old", 503, Body::Error("ROUTE_DISABLED", "Use /v2")),
    case("GET", "/debug", 404, Body::Empty),
    Case {
        headers: &[
            ("deprecation", Some("true")),
            ("sunset", Some("Fri, 01 Jan 2027 00:00:00 GMT")),
            ("link", Some("</v2/users>; rel=\"successor-version\"")),
        ],
        ..case("GET", "/v1/users", 200, Body::Text("v1"))
    },
    Case {
        headers: &[("deprecation", None), ("retry-after", None)],
        ..case("GET", "/items/7", 200, Body::Text("item"))
    },
    case(
        "POST",
        "/items/7",
        503,
        Body::Error("ROUTE_DISABLED", "read only"),
    ),
    Case {
        headers: &[
            ("x-ratelimit-limit", Some("2/day")),
            ("x-ratelimit-remaining", Some("1")),
        ],
        ..case("GET", "/limited", 200, Body::Text("limited"))
    },
    Case {
        headers: &[("x-ratelimit-remaining", Some("0"))],
        ..case("GET", "/limited", 200, Body::Text("limited"))
    },
    Case {
        headers: &[
            ("x-ratelimit-limit", Some("2/day")),
            ("x-ratelimit-remaining", Some("0")),
        ],
        ..case("GET", "/limited", 429, Body::Limited)
    },
    case("GET", "/waygate/ping", 200, Body::Text("pong")),
];

/// The requests under global maintenance (`/health` is force-active: exempt).
const GLOBAL_MAINTENANCE: &[Case] = &[
    case("GET", "/health", 200, Body::Text("ok")),
    case(
        "GET",
        "/items/8",
        503,
        Body::Error("MAINTENANCE_MODE", "deploy"),
    ),
    // The admin path: served, neither counted as refused nor in the traffic log.
    case("GET", "/waygate/ping", 200, Body::Text("pong")),
    case("GET", "/waygate/ping", 200, Body::Text("pong")),
];

/// The outcome counts the table leaves, by route: `(key, [(outcome label, count)])`;
/// outcomes not named are 0.
const COUNTS: &[(&str, &[(&str, u64)])] = &[
    ("GET:/health", &[("allowed", 2)]),
    ("GET:/payments", &[("maintenance", 1)]),
    ("GET:/old", &[("disabled", 1)]),
    ("GET:/debug", &[("env_gated", 1)]),
    ("GET:/v1/users", &[("allowed", 1)]),
    (
        "GET:/items/{id}",
        &[("allowed", 1), ("global_maintenance", 1)],
    ),
    ("POST:/items/{id}", &[("disabled", 1)]),
    ("GET:/limited", &[("allowed", 2), ("rate_limited", 1)]),
];

/// Refused requests in the traffic log, by route: `(key, blocked, rate limited)`.
const TRAFFIC: &[(&str, u64, u64)] = &[
    ("GET:/payments", 1, 0),
    ("GET:/old", 1, 0),
    ("GET:/debug", 1, 0),
    ("GET:/items/{id}", 1, 0),
    ("POST:/items/{id}", 1, 0),
    ("GET:/limited", 0, 1),
];

/// A change of the engine's state, run to completion by the including test.
pub(crate) type ChangeFuture<'e> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'e>>;

/// Runs the table against the app at `addr`, whose middleware enforces `engine`;
/// `block_on` runs the engine's changes (global maintenance on) to completion.
pub(crate) fn run<'e>(
    addr: SocketAddr,
    engine: &'e Engine,
    block_on: impl FnOnce(ChangeFuture<'e>),
) {
    for case in DECLARED {
        check(addr, case);
    }
    block_on(Box::pin(async {
        engine
            .enable_global_maintenance("deploy", Vec::new(), false, "table")
            .await
            .expect("global maintenance on");
    }));
    for case in GLOBAL_MAINTENANCE {
        check(addr, case);
    }
    check_counts(engine);
    check_traffic(engine);
}

fn check(addr: SocketAddr, case: &Case) {
    let what = format!("{} {}", case.method, case.path);
    let reply: Reply = send(addr, case.method, case.path, &[], None);
    assert_eq!(reply.status, case.status, "{what}: {reply:?}");
    match case.body {
        Body::Text(text) => assert_eq!(reply.body, text, "{what}"),
        Body::Empty => assert_eq!(reply.body, "", "{what}"),
        Body::Error(code, reason) => {
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{what}"
            );
            let body: Value = serde_json::from_str(&reply.body).expect("a JSON body");
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            assert_eq!(body["error"]["reason"], reason, "{what}: {body}");
            assert_eq!(body["error"]["path"], json!(case.path), "{what}: {body}");
        }
        Body::Limited => {
            let body: Value = serde_json::from_str(&reply.body).expect("a JSON body");
            assert_eq!(
                body["error"]["code"], "RATE_LIMIT_EXCEEDED",
                "{what}: {body}"
            );
            assert!(reply.header("retry-after").is_some(), "{what}: {reply:?}");
        }
    }
    for (name, value) in case.headers {
        assert_eq!(reply.header(name), *value, "{what}: header {name}");
    }
}

fn check_counts(engine: &Engine) {
    let counts = engine.request_counts();
    let labels: Vec<&str> = RequestOutcome::ALL.iter().map(|o| o.label()).collect();
    for (key, expected) in COUNTS {
        let got = counts
            .iter()
            .find(|(route, _)| route == key)
            .map(|(_, counts)| *counts)
            .unwrap_or_else(|| panic!("no counts for {key}: {counts:?}"));
        let mut want = [0; RequestOutcome::COUNT];
        for (label, n) in *expected {
            want[labels.iter().position(|l| l == label).unwrap()] = *n;
        }
        assert_eq!(got, want, "{key} (outcomes in order {labels:?})");
    }
    let counted: Vec<&str> = counts.iter().map(|(route, _)| route.as_str()).collect();
    assert!(
        counted.iter().all(|route| !route.contains("/waygate")),
        "the admin path was counted: {counted:?}"
    );
}

fn check_traffic(engine: &Engine) {
    let report = engine.traffic();
    let mut logged: Vec<(String, u64, u64)> = report
        .routes
        .iter()
        .map(|r| {
            (
                r.route.clone(),
                r.blocked.iter().sum(),
                r.rate_limited.iter().sum(),
            )
        })
        .collect();
    logged.sort();
    let mut expected: Vec<(String, u64, u64)> = TRAFFIC
        .iter()
        .map(|(route, blocked, limited)| ((*route).to_owned(), *blocked, *limited))
        .collect();
    expected.sort();
    assert_eq!(logged, expected);
}
