//! How fast a change reaches a connected dashboard: the time from a mutation to the
//! `event: waygate:update:..` frame on the SSE stream of a real connection on loopback,
//! over 100 mutations (p50, p99, max).
//!
//! `cargo bench -p waygate --features dashboard --bench dashboard_sse`

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use waygate::admin::WaygateAdmin;
use waygate::backend::{Backend, MemoryBackend};
use waygate::{Engine, RouteState};

const MUTATIONS: usize = 100;
const EVENT: &[u8] = b"event: waygate:update:GET--payments";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    backend
        .set_state(&RouteState::active("GET:/payments"))
        .await
        .unwrap();
    let engine = Engine::builder().shared_backend(backend).build();
    engine.start().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let admin: axum::Router = WaygateAdmin::new(engine.clone()).into_router();
    tokio::spawn(async move { axum::serve(listener, admin).await });

    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    read_until(&mut stream, &mut seen, b"\r\n\r\n").await;
    // Let the stream settle (an initial burst of rows, if any) before measuring.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drain(&mut stream).await;

    let mut latencies = Vec::with_capacity(MUTATIONS);
    for i in 0..MUTATIONS {
        let started = Instant::now();
        match i % 2 {
            0 => engine.disable("GET:/payments", "bench", "bench").await,
            _ => engine.enable("GET:/payments", "bench").await,
        }
        .unwrap();
        let mut frame = Vec::new();
        read_until(&mut stream, &mut frame, EVENT).await;
        latencies.push(started.elapsed());
        // The rest of the frame (the row's HTML) may still be arriving.
        tokio::time::sleep(Duration::from_millis(5)).await;
        drain(&mut stream).await;
    }
    latencies.sort();
    let at =
        |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).min(latencies.len()) - 1];
    println!(
        "dashboard SSE, mutation → event on the wire, {MUTATIONS} mutations: p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        latencies[latencies.len() - 1]
    );
    engine.shutdown().await;
}

/// Reads until `needle` has been seen in what was read since the call.
async fn read_until(stream: &mut TcpStream, buffer: &mut Vec<u8>, needle: &[u8]) {
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !buffer.windows(needle.len()).any(|w| w == needle) {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("no event within 5 s")
            .unwrap();
        assert!(read > 0, "the stream closed");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Discards whatever is already buffered on the connection.
async fn drain(stream: &mut TcpStream) {
    let mut chunk = [0u8; 8192];
    while let Ok(Ok(read)) =
        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut chunk)).await
    {
        if read == 0 {
            break;
        }
    }
}
