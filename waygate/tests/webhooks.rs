//! Webhooks against real HTTP receivers on loopback: the Python original's `test_webhooks`
//! (formatters, every registration form, failing receivers) plus retries, signatures, the
//! events upstream never fired, and one delivery across engines sharing a backend.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::webhooks::{
    verify_signature, DefaultFormatter, SlackFormatter, Webhook, WebhookError,
};
use waygate::{MaintenanceWindow, RouteStatus};

// Declared for the engine to know; no test serves them.
#[allow(dead_code)]
#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[allow(dead_code)]
#[route(GET, "/orders")]
#[maintenance(reason = "stock sync")]
async fn orders() -> &'static str {
    "orders"
}

/// One received request.
#[derive(Debug, Clone)]
struct Received {
    receiver: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Log {
    received: Arc<Mutex<Vec<Received>>>,
    /// How many more requests each receiver answers with a 500.
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

/// A receiver on loopback: `POST /{name}` records the request and answers 200 (or 500 while
/// the receiver has failures left).
struct Receiver {
    base: String,
    log: Log,
}

async fn receive(
    State(log): State<Log>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    log.received.lock().unwrap().push(Received {
        receiver: name.clone(),
        headers,
        body,
    });
    let mut failures = log.failures.lock().unwrap();
    match failures.get_mut(&name) {
        Some(left) if *left > 0 => {
            *left -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::OK,
    }
}

impl Receiver {
    async fn start() -> Self {
        let log = Log::default();
        let app = Router::new()
            .route("/{name}", post(receive))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, log }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    fn fail(&self, name: &str, times: u32) {
        self.log
            .failures
            .lock()
            .unwrap()
            .insert(name.to_owned(), times);
    }

    fn received(&self) -> Vec<Received> {
        self.log.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `count` requests arrived, then returns them all.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} deliveries, got {}: {received:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until nothing has arrived for a while, then returns everything.
    async fn settle(&self) -> Vec<Received> {
        let mut seen = usize::MAX;
        loop {
            let received = self.received();
            if received.len() == seen {
                return received;
            }
            seen = received.len();
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

async fn engine() -> Engine {
    let engine = Engine::new();
    engine.start().await.unwrap();
    engine
}

/// A receiver, and a started engine posting to its `name` with `formatter`.
async fn hooked(name: &str, formatter: impl waygate::webhooks::Formatter) -> (Receiver, Engine) {
    let receiver = Receiver::start().await;
    let engine = engine().await;
    engine.add_webhook(&receiver.url(name), formatter).unwrap();
    (receiver, engine)
}

fn events(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.headers["x-waygate-event"].to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn default_body_on_disable_enable_and_maintenance() {
    let (receiver, engine) = hooked("generic", DefaultFormatter).await;

    engine
        .disable("GET:/payments", "hotfix", "alice")
        .await
        .unwrap();
    let first = &receiver.wait_for(1).await[0];
    let body = first.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{body}");
    for key in ["event", "path", "reason", "timestamp", "state"] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    assert_eq!(body["event"], "disable");
    assert_eq!(body["path"], "GET:/payments");
    assert_eq!(body["reason"], "hotfix");
    assert_eq!(body["state"]["status"], "disabled");
    assert_eq!(body["state"]["path"], "GET:/payments");
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(timestamp.ends_with("+00:00"), "{timestamp}");
    chrono::DateTime::parse_from_rfc3339(timestamp).unwrap();
    assert_eq!(first.headers["content-type"], "application/json");
    assert!(first.headers.get("x-waygate-delivery").is_some());
    assert!(first.headers.get("x-waygate-signature").is_none());

    engine.enable("GET:/payments", "alice").await.unwrap();
    engine
        .set_maintenance("GET:/payments", "migration", None, "alice")
        .await
        .unwrap();
    let received = receiver.wait_for(3).await;
    assert_eq!(events(&received), ["disable", "enable", "maintenance_on"]);
    assert_eq!(received[2].json()["state"]["status"], "maintenance");
    assert_eq!(received[2].json()["reason"], "migration");
}

#[tokio::test]
async fn slack_body_and_colours() {
    let (receiver, engine) = hooked("slack", SlackFormatter).await;
    engine
        .disable("GET:/payments", "hotfix", "alice")
        .await
        .unwrap();
    engine.enable("GET:/payments", "alice").await.unwrap();
    engine
        .set_maintenance("GET:/payments", "", None, "alice")
        .await
        .unwrap();
    engine
        .set_env_only("GET:/payments", &["dev"], "alice")
        .await
        .unwrap();
    let received = receiver.wait_for(4).await;
    let attachment = |i: usize| received[i].json()["attachments"][0].clone();
    let first = attachment(0);
    assert_eq!(first["color"], "#FF0000");
    assert_eq!(first["text"], "*DISABLE*: `GET:/payments`\n> hotfix");
    assert_eq!(first["footer"], "waygate");
    let ts = first["ts"].as_i64().unwrap();
    assert!((Utc::now().timestamp() - ts).abs() < 60);
    assert_eq!(attachment(1)["color"], "#36A64F");
    assert_eq!(attachment(2)["color"], "#FFA500");
    assert_eq!(attachment(2)["text"], "*MAINTENANCE_ON*: `GET:/payments`");
    assert_eq!(attachment(3)["color"], "#439FE0");
    assert_eq!(SlackFormatter::color("rl_policy_set"), "#888888");
    assert_eq!(SlackFormatter::color("maintenance_off"), "#36A64F");
}

#[tokio::test]
async fn custom_formatter_and_several_webhooks_all_called() {
    let (receiver, engine) = hooked("generic", DefaultFormatter).await;
    engine
        .add_webhook(&receiver.url("slack"), SlackFormatter)
        .unwrap();
    engine
        .add_webhook(&receiver.url("custom"), |change: &waygate::Change| {
            json!({
                "source": "waygate",
                "event": change.event,
                "route": change.key,
                "status": change.new_status,
                "actor": change.actor,
            })
        })
        .unwrap();
    assert_eq!(engine.webhooks().len(), 3);

    engine
        .disable("GET:/payments", "hotfix", "alice")
        .await
        .unwrap();
    let received = receiver.wait_for(3).await;
    let mut names: Vec<&str> = received.iter().map(|r| r.receiver.as_str()).collect();
    names.sort();
    assert_eq!(names, ["custom", "generic", "slack"]);
    let custom = received.iter().find(|r| r.receiver == "custom").unwrap();
    assert_eq!(
        custom.json(),
        json!({"source": "waygate", "event": "disable", "route": "GET:/payments",
               "status": "disabled", "actor": "alice"})
    );
    // Every receiver got the same change.
    let ids: Vec<_> = received
        .iter()
        .map(|r| r.headers["x-waygate-delivery"].clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_does_not_affect_state() {
    let receiver = Receiver::start().await;
    receiver.fail("flaky", 2);
    let engine = engine().await;
    engine
        .register_webhook(
            Webhook::new(&receiver.url("flaky"))
                .unwrap()
                .backoff(Duration::from_millis(50)),
        )
        .unwrap();
    let state = engine
        .disable("GET:/payments", "hotfix", "alice")
        .await
        .unwrap();
    assert_eq!(state.status, RouteStatus::Disabled);
    assert_eq!(
        engine.state("GET:/payments").unwrap().status,
        RouteStatus::Disabled
    );
    // Two 500s, then a 200: three attempts, the same body each time, then nothing more.
    let received = receiver.wait_for(3).await;
    assert!(received.windows(2).all(|w| w[0].body == w[1].body));
    assert_eq!(receiver.settle().await.len(), 3);
}

#[tokio::test]
async fn retries_stop_after_the_configured_attempts() {
    let receiver = Receiver::start().await;
    receiver.fail("down", 100);
    let engine = engine().await;
    engine
        .register_webhook(
            Webhook::new(&receiver.url("down"))
                .unwrap()
                .attempts(2)
                .backoff(Duration::from_millis(20)),
        )
        .unwrap();
    engine.disable("GET:/payments", "x", "alice").await.unwrap();
    receiver.wait_for(2).await;
    assert_eq!(receiver.settle().await.len(), 2);
}

#[tokio::test]
async fn an_unreachable_receiver_does_not_affect_state() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/gone", listener.local_addr().unwrap());
    drop(listener);
    let receiver = Receiver::start().await;
    let engine = engine().await;
    engine
        .register_webhook(
            Webhook::new(&url)
                .unwrap()
                .timeout(Duration::from_millis(500))
                .backoff(Duration::from_millis(10)),
        )
        .unwrap();
    engine
        .add_webhook(&receiver.url("ok"), DefaultFormatter)
        .unwrap();
    engine.disable("GET:/payments", "x", "alice").await.unwrap();
    engine.enable("GET:/payments", "alice").await.unwrap();
    assert_eq!(
        engine.state("GET:/payments").unwrap().status,
        RouteStatus::Active
    );
    // The healthy receiver gets both, whatever the other one does.
    assert_eq!(events(&receiver.wait_for(2).await), ["disable", "enable"]);
}

#[tokio::test]
async fn the_signature_verifies() {
    let receiver = Receiver::start().await;
    let engine = engine().await;
    engine
        .register_webhook(
            Webhook::new(&receiver.url("signed"))
                .unwrap()
                .secret("s3cret"),
        )
        .unwrap();
    engine.disable("GET:/payments", "x", "alice").await.unwrap();
    let received = &receiver.wait_for(1).await[0];
    let header = received.headers["x-waygate-signature"].to_str().unwrap();
    // As a receiver in any language would check it: HMAC-SHA256 of the raw body, in hex.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&received.body);
    let expected = format!("sha256={}", hex_lower(&mac.finalize().into_bytes()));
    assert_eq!(header, expected);
    assert!(verify_signature(b"s3cret", &received.body, header));
    assert!(!verify_signature(b"wrong", &received.body, header));
    assert!(!verify_signature(b"s3cret", b"{}", header));
    assert!(!verify_signature(b"s3cret", &received.body, "sha256=zz"));
    assert!(!verify_signature(b"s3cret", &received.body, ""));
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_state_change_fires_not_only_upstreams_three() {
    let (receiver, engine) = hooked("all", DefaultFormatter).await;
    engine
        .set_env_only("GET:/payments", &["dev"], "ops")
        .await
        .unwrap();
    engine
        .enable_global_maintenance("patch", vec!["/health".into()], false, "ops")
        .await
        .unwrap();
    engine.disable_global_maintenance("ops").await.unwrap();
    engine
        .set_rate_limit_policy(
            "GET:/payments",
            "10/minute",
            waygate::PolicyChange::new(),
            "ops",
        )
        .await
        .unwrap();
    engine
        .delete_rate_limit_policy("GET:/payments", "ops")
        .await
        .unwrap();
    let received = receiver.wait_for(5).await;
    assert_eq!(
        events(&received),
        [
            "env_gate",
            "global_maintenance_on",
            "global_maintenance_off",
            "rl_policy_set",
            "rl_policy_deleted"
        ]
    );
    let global = received[1].json();
    assert_eq!(global["path"], "__global__");
    assert_eq!(global["reason"], "patch");
    assert!(global["state"].is_null());
}

#[tokio::test]
async fn flag_and_segment_changes_are_announced() {
    let (receiver, engine) = hooked("flags", DefaultFormatter).await;
    let flag: waygate::flags::FeatureFlag = serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "off"
    }))
    .unwrap();
    let segment: waygate::flags::Segment =
        serde_json::from_value(json!({"key": "beta", "name": "Beta", "included": ["u1"]})).unwrap();
    engine.save_flag(flag.clone(), "ops").await.unwrap();
    engine.save_flag(flag, "ops").await.unwrap();
    engine
        .set_flag_enabled("new-checkout", false, "ops")
        .await
        .unwrap();
    engine
        .set_flag_enabled("new-checkout", true, "ops")
        .await
        .unwrap();
    engine.delete_flag("new-checkout", "ops").await.unwrap();
    engine.save_segment(segment.clone(), "ops").await.unwrap();
    engine.save_segment(segment, "ops").await.unwrap();
    engine.delete_segment("beta", "ops").await.unwrap();
    let received = receiver.wait_for(8).await;
    assert_eq!(
        events(&received),
        [
            "flag_created",
            "flag_updated",
            "flag_disabled",
            "flag_enabled",
            "flag_deleted",
            "segment_created",
            "segment_updated",
            "segment_deleted"
        ]
    );
    let body = received[2].json();
    assert_eq!(body["path"], "flag:new-checkout");
    assert_eq!(received[5].json()["path"], "segment:beta");
}

#[tokio::test]
async fn a_panicking_formatter_loses_one_body_not_the_webhook() {
    let (receiver, engine) = hooked("picky", |change: &waygate::Change| {
        assert_ne!(change.event, "disable", "this formatter refuses disables");
        json!({"event": change.event})
    })
    .await;
    engine.disable("GET:/payments", "x", "alice").await.unwrap();
    engine.enable("GET:/payments", "alice").await.unwrap();
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].json(), json!({"event": "enable"}));
    assert_eq!(receiver.settle().await.len(), 1);
}

#[tokio::test]
async fn bad_urls_are_refused() {
    let engine = engine().await;
    for url in ["not a url", "ftp://example.com/x", "file:///etc/passwd", ""] {
        assert!(
            matches!(
                engine.add_webhook(url, DefaultFormatter),
                Err(WebhookError::InvalidUrl { .. })
            ),
            "{url}"
        );
    }
    assert!(engine.webhooks().is_empty());
}

#[test]
fn registering_outside_a_runtime_is_an_error() {
    let engine = Engine::new();
    assert!(matches!(
        engine.add_webhook("http://127.0.0.1:9/x", DefaultFormatter),
        Err(WebhookError::NoRuntime)
    ));
}

/// Both engines run the window's timers; each opening and closing reaches the receiver once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_backend_deliver_each_event_once() {
    let receiver = Receiver::start().await;
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let a = Engine::builder().shared_backend(backend.clone()).build();
    let b = Engine::builder().shared_backend(backend.clone()).build();
    a.start().await.unwrap();
    b.start().await.unwrap();
    for engine in [&a, &b] {
        engine
            .add_webhook(&receiver.url("hook"), DefaultFormatter)
            .unwrap();
    }
    let start = Utc::now() + chrono::Duration::milliseconds(800);
    let window = MaintenanceWindow::new(
        start,
        start + chrono::Duration::milliseconds(800),
        "reindex",
    );
    a.schedule_maintenance("GET:/payments", window.clone(), "alice")
        .await
        .unwrap();
    // b learns of the window from the backend and arms its own timers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while b.state("GET:/payments").and_then(|s| s.window) != Some(window.clone()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "b never saw the window"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let received = receiver.settle().await;
    assert_eq!(
        events(&received),
        ["maintenance_on", "maintenance_on", "maintenance_off"],
        "{received:?}"
    );
    let mut ids: Vec<_> = received
        .iter()
        .map(|r| r.headers["x-waygate-delivery"].to_str().unwrap().to_owned())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(received[1].json()["reason"], "reindex");
    assert_eq!(
        a.state("GET:/payments").unwrap().status,
        RouteStatus::Active
    );
    assert_eq!(
        b.state("GET:/payments").unwrap().status,
        RouteStatus::Active
    );
}

#[tokio::test]
async fn the_orders_route_seeded_in_maintenance_fires_nothing() {
    // Seeding declared state is not a change: no webhook for /orders at start.
    let receiver = Receiver::start().await;
    let engine = Engine::new();
    engine
        .add_webhook(&receiver.url("seed"), DefaultFormatter)
        .unwrap();
    engine.start().await.unwrap();
    engine.enable("GET:/orders", "alice").await.unwrap();
    let received = receiver.wait_for(1).await;
    assert_eq!(events(&received), ["enable"]);
    assert_eq!(receiver.settle().await.len(), 1);
}
