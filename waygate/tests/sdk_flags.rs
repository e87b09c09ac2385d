//! Feature flags in a fleet, over real HTTP on loopback: a service attached to a Waygate
//! Server evaluates in its own process the flags and segments the server holds, follows
//! every change over the SDK stream (`flag_updated`, `flag_deleted`, `segment_updated`,
//! `segment_deleted`), replaces its cache on every (re)connect, and says
//! `PROVIDER_NOT_READY` — never a silent `FLAG_NOT_FOUND` — before it has heard from the
//! server.

use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use waygate::admin::Auth;
use waygate::backend::{Backend, MemoryBackend};
use waygate::flags::{ErrorCode, EvaluationContext, Reason};
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;

const PATIENCE: Duration = Duration::from_secs(15);

struct Running {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

async fn serve(backend: Arc<dyn Backend>, listener: TcpListener) -> Running {
    let server = WaygateServer::with_shared_backend(backend)
        .secret_key("test-secret")
        .auth(Auth::single("admin", "secret"));
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        url,
        stop: Some(stop),
        task,
    }
}

/// An operator's token and a way to send it.
struct Operator {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Operator {
    async fn login(url: &str) -> Self {
        let http = reqwest::Client::new();
        let reply: Value = http
            .post(format!("{url}/api/auth/login"))
            .json(&json!({"username": "admin", "password": "secret"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            url: url.to_owned(),
            token: reply["token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .header("x-waygate-token", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        assert!(
            reply.status().is_success(),
            "{method} {path}: {}",
            reply.text().await.unwrap()
        );
    }
}

fn boolean_flag(key: &str, fallthrough: &str) -> Value {
    json!({
        "key": key, "name": key, "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": fallthrough
    })
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the service evaluates `key` for `user` to `want` (with `false` as default).
async fn until_flag(sdk: &WaygateSdk, key: &str, user: &str, want: bool) {
    let ctx = EvaluationContext::new(user);
    eventually(&format!("{key} is {want} for {user}"), || {
        let got = sdk.engine().flags().bool(key, &ctx, !want);
        async move { got == want }
    })
    .await;
}

async fn attach(url: &str, startup_wait: Duration) -> WaygateSdk {
    let sdk = WaygateSdk::builder(url, "shop")
        .login("admin", "secret")
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(300))
        .startup_wait(startup_wait)
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    sdk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_follows_the_flags_and_segments_its_server_holds() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve(backend.clone(), listener).await;
    let operator = Operator::login(&server.url).await;
    // Set before the service connects: read by its first synchronisation.
    operator
        .send("POST", "/api/flags", Some(boolean_flag("banner", "on")))
        .await;

    let sdk = attach(&server.url, PATIENCE).await;
    let anyone = EvaluationContext::new("u0");
    assert!(
        sdk.engine().flags().bool("banner", &anyone, false),
        "a flag set before the service started is in force once `start` returns"
    );

    // Created, targeted through a segment, disabled, deleted: each reaches the service.
    operator
        .send(
            "POST",
            "/api/flags",
            Some(boolean_flag("new-checkout", "off")),
        )
        .await;
    until_flag(&sdk, "new-checkout", "u1", false).await;
    operator
        .send(
            "POST",
            "/api/segments",
            Some(json!({"key": "beta", "name": "Beta", "included": ["u1"]})),
        )
        .await;
    operator
        .send(
            "PATCH",
            "/api/flags/new-checkout",
            Some(json!({"rules": [{"variation": "on", "clauses": [
                {"attribute": "key", "operator": "in_segment", "values": ["beta"]}
            ]}]})),
        )
        .await;
    until_flag(&sdk, "new-checkout", "u1", true).await;
    assert!(!sdk
        .engine()
        .flags()
        .bool("new-checkout", &EvaluationContext::new("u2"), true));
    // The segment grows: u2 is in it now.
    operator
        .send(
            "PUT",
            "/api/segments/beta",
            Some(json!({"key": "beta", "name": "Beta", "included": ["u1", "u2"]})),
        )
        .await;
    until_flag(&sdk, "new-checkout", "u2", true).await;
    operator
        .send("POST", "/api/flags/new-checkout/disable", None)
        .await;
    until_flag(&sdk, "new-checkout", "u1", false).await;
    let details = sdk
        .engine()
        .flags()
        .details("new-checkout", &EvaluationContext::new("u1"), true);
    assert_eq!((details.reason, details.error), (Reason::Off, None));
    operator.send("DELETE", "/api/segments/beta", None).await;
    operator
        .send("DELETE", "/api/flags/new-checkout", None)
        .await;
    eventually("the deleted flag is gone from the service", || {
        let details = sdk.engine().flags().details("new-checkout", &anyone, true);
        async move { details.error == Some(ErrorCode::FlagNotFound) }
    })
    .await;
    assert!(sdk.engine().flags().segment("beta").is_none());

    // While the service is cut off, the flags change on the backend; the reconnect
    // replaces its cache whole (a deletion the stream never announced included).
    server.stop().await;
    eventually("the service sees the server gone", || {
        let connected = sdk.backend().is_connected();
        async move { !connected }
    })
    .await;
    let offline = WaygateServer::with_shared_backend(backend.clone());
    offline.engine().start().await.unwrap();
    offline
        .engine()
        .delete_flag("banner", waygate::Actor::new("op"))
        .await
        .unwrap();
    let flag = serde_json::from_value(boolean_flag("late", "on")).unwrap();
    offline
        .engine()
        .save_flag(flag, waygate::Actor::new("op"))
        .await
        .unwrap();
    let listener = TcpListener::bind(addr).await.unwrap();
    let again = serve(backend, listener).await;
    until_flag(&sdk, "late", "u0", true).await;
    let banner = sdk.engine().flags().details("banner", &anyone, true);
    assert_eq!(banner.error, Some(ErrorCode::FlagNotFound));

    sdk.shutdown().await;
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_its_first_synchronisation_a_service_says_its_flags_are_not_ready() {
    // An address nothing listens on yet.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let sdk = attach(&format!("http://{addr}"), Duration::ZERO).await;
    let ctx = EvaluationContext::new("u1");
    let details = sdk.engine().flags().details("banner", &ctx, false);
    assert_eq!(
        (details.value, details.reason, details.error),
        (false, Reason::Error, Some(ErrorCode::ProviderNotReady))
    );

    // The server comes up with the flag; the first synchronisation brings it.
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let seeded = WaygateServer::with_shared_backend(backend.clone());
    seeded.engine().start().await.unwrap();
    let flag = serde_json::from_value(boolean_flag("banner", "on")).unwrap();
    seeded
        .engine()
        .save_flag(flag, waygate::Actor::new("op"))
        .await
        .unwrap();
    let server = serve(backend, TcpListener::bind(addr).await.unwrap()).await;
    until_flag(&sdk, "banner", "u1", true).await;
    // And an unknown key is now plainly unknown.
    let unknown = sdk.engine().flags().details("nope", &ctx, false);
    assert_eq!(unknown.error, Some(ErrorCode::FlagNotFound));

    sdk.shutdown().await;
    server.stop().await;
}
