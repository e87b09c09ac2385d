//! The SDK's connection to its Waygate Server, in Prometheus text: up while the server
//! serves, down (with the failed attempts counted) once it is gone.

use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use waygate::backend::MemoryBackend;
use waygate::metrics::WaygateMetrics;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;

const PATIENCE: Duration = Duration::from_secs(15);

/// The value of the sample line starting with `series`.
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse().ok())
}

/// Waits until the metrics say `want` for `series`.
async fn until(metrics: &WaygateMetrics, series: &str, want: impl Fn(u64) -> bool) -> String {
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            let text = metrics.render();
            if sample(&text, series).is_some_and(&want) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    waited.unwrap_or_else(|_| panic!("{series} never came: {}", metrics.render()))
}

#[tokio::test]
async fn the_sdk_connection_is_a_gauge_and_its_failures_a_counter() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        WaygateServer::new(MemoryBackend::new()).serve(listener, async {
            let _ = stopped.await;
        }),
    );
    let sdk = WaygateSdk::builder(&url, "orders-service")
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .build()
        .unwrap();
    sdk.start().await.unwrap();
    let metrics = WaygateMetrics::sdk(&sdk);

    let text = until(
        &metrics,
        "waygate_sdk_connected{app_id=\"orders-service\"}",
        |v| v == 1,
    )
    .await;
    assert!(
        text.contains("# TYPE waygate_sdk_connected gauge"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "waygate_sdk_failed_connections_total{app_id=\"orders-service\"}"
        ),
        Some(0),
        "{text}"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    until(
        &metrics,
        "waygate_sdk_connected{app_id=\"orders-service\"}",
        |v| v == 0,
    )
    .await;
    until(
        &metrics,
        "waygate_sdk_failed_connections_total{app_id=\"orders-service\"}",
        |v| v > 0,
    )
    .await;
    sdk.shutdown().await;
}
