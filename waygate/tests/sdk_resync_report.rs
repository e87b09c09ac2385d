//! A server that lost its state (restarted on memory) undoes what an operator set: the
//! service, resynchronising, enforces the server's state again — and says so, once per route
//! whose state changed under it.

use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use waygate::admin::Auth;
use waygate::backend::MemoryBackend;
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;

const APP: &str = "payments-service";
const PATIENCE: Duration = Duration::from_secs(15);

#[route(GET, "/api/orders")]
async fn orders() -> &'static str {
    "orders"
}

#[route(GET, "/api/refunds")]
async fn refunds() -> &'static str {
    "refunds"
}

/// Every log line, kept.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines_with(&self, text: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(text))
            .map(str::to_owned)
            .collect()
    }
}

async fn server_at(
    addr: &str,
) -> (
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let server = WaygateServer::new(MemoryBackend::new())
        .auth(Auth::single("admin", "secret"))
        .secret_key("k");
    let listener = TcpListener::bind(addr).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    (url, stop, task)
}

async fn status(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

async fn until(url: &str, want: u16) {
    tokio::time::timeout(PATIENCE, async {
        while status(url).await != want {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("GET {url} never answered {want}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_that_undoes_an_operators_change_is_logged_once_per_route() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();

    let (url, stop, task) = server_at("127.0.0.1:0").await;
    let addr = url.trim_start_matches("http://").to_owned();
    let sdk = WaygateSdk::builder(&url, APP)
        .login("admin", "secret")
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400))
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    let app: Router = Router::new()
        .merge(routes![orders, refunds])
        .layer(WaygateLayer::new(sdk.engine().clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let svc = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The operator disables a route on the server; the service enforces it.
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": "secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = URL_SAFE_NO_PAD.encode(format!("{APP}:GET:/api/orders"));
    let disabled = reqwest::Client::new()
        .post(format!("{url}/api/routes/{key}/disable"))
        .header("x-waygate-token", token["token"].as_str().unwrap())
        .json(&serde_json::json!({"reason": "hotfix"}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    until(&format!("{svc}/api/orders"), 503).await;

    // The server restarts on an empty memory backend, on the same address.
    let mut syncs = sdk.backend().synchronisations();
    let before = *syncs.borrow_and_update();
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    let (_, stop, task) = server_at(&addr).await;
    tokio::time::timeout(PATIENCE, syncs.wait_for(|n| *n > before))
        .await
        .expect("the service synchronises with the restarted server")
        .unwrap();
    until(&format!("{svc}/api/orders"), 200).await;

    let reported = logs.lines_with("differs from what the service enforced");
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert!(reported[0].contains("GET:/api/orders"), "{}", reported[0]);
    assert!(reported[0].contains("WARN"), "{}", reported[0]);

    sdk.shutdown().await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
