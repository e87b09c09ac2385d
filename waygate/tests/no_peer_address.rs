//! A per-IP rate limit on an app served without the peer address (`axum::serve(listener,
//! app)`, no `ConnectInfo`): every client shares one counter, and the engine says so in the
//! log, once. One test in its own binary: it installs the process's subscriber.

use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use waygate::prelude::*;

#[route(GET, "/posts")]
#[rate_limit("2/minute")]
async fn posts() -> &'static str {
    "posts"
}

/// Every `warn!` message logged in the process.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        self.0.lock().unwrap().push(message);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

async fn status(address: SocketAddr) -> u16 {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = "GET /posts HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn per_ip_limits_without_the_peer_address_warn_once_and_share_one_counter() {
    let warnings = Warnings::default();
    tracing::subscriber::set_global_default(warnings.clone()).unwrap();
    let engine = Engine::new();
    engine.start().await.unwrap();
    let app = Router::new()
        .merge(routes![posts])
        .layer(WaygateLayer::new(engine));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let statuses = [
        status(address).await,
        status(address).await,
        status(address).await,
        status(address).await,
    ];
    assert_eq!(statuses, [200, 200, 429, 429], "one counter for everyone");
    let logged = warnings.0.lock().unwrap().clone();
    let about_the_peer: Vec<_> = logged
        .iter()
        .filter(|m| m.contains("without a peer address"))
        .collect();
    assert_eq!(
        about_the_peer.len(),
        1,
        "once, not per request: {logged:#?}"
    );
    assert!(
        about_the_peer[0].contains("into_make_service_with_connect_info"),
        "{}",
        about_the_peer[0]
    );
}
