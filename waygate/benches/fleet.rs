//! A Waygate Server and its fleet, measured:
//!
//! * `propagation`: 20 services attached; 200 route changes made through the server's REST
//!   API (each on one service's route, round robin); the time from sending the change to the
//!   service's engine enforcing it — p50, p99, max;
//! * `flags`: 20 services attached; a flag turned off and on 50 times through the server's
//!   REST API; the time from sending each change to each service evaluating it — p50, p99,
//!   max over 1,000 samples;
//! * `fanout`: one server process (this binary, re-run as a child) holding 1,000 SDK streams
//!   of one service; its resident memory, and the time from a change to the last stream
//!   receiving it (p50/p99/max over 20 changes);
//! * `overhead`: an allowed request through the layer on an SDK-fed engine against the same
//!   request on an embedded engine, interleaved in one run (batches alternate), medians and
//!   their ratio.
//!
//! `cargo bench -p waygate --features server,sdk --bench fleet [-- propagation|flags|fanout|overhead]`

use axum::body::Body;
use axum::Router;
use http::{Request, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use waygate::backend::MemoryBackend;
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;
use waygate::RouteStatus;

#[route(GET, "/bench/item")]
async fn item() -> &'static str {
    "item"
}

#[route(GET, "/bench/other")]
async fn other() -> &'static str {
    "other"
}

fn b64u(key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.2?} p99={:.2?} max={:.2?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

async fn start_server() -> (WaygateServer, String) {
    let server = WaygateServer::new(MemoryBackend::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = server.clone();
    tokio::spawn(serving.serve(listener, std::future::pending()));
    server.start().await.unwrap();
    (server, url)
}

async fn propagation() {
    const SERVICES: usize = 20;
    const CHANGES: usize = 200;
    let (_server, url) = start_server().await;
    let mut sdks = Vec::new();
    for i in 0..SERVICES {
        let sdk = WaygateSdk::builder(&url, format!("svc-{i}"))
            .build()
            .unwrap();
        sdk.start().await.unwrap();
        sdks.push(sdk);
    }
    let http = reqwest::Client::new();
    let mut samples = Vec::with_capacity(CHANGES);
    for change in 0..CHANGES {
        let i = change % SERVICES;
        let sdk = &sdks[i];
        let disable = (change / SERVICES).is_multiple_of(2);
        let want = if disable {
            RouteStatus::Disabled
        } else {
            RouteStatus::Active
        };
        let mut events = sdk.engine().subscribe();
        let key = b64u(&format!("svc-{i}:GET:/bench/item"));
        let action = if disable { "disable" } else { "enable" };
        let began = Instant::now();
        let reply = http
            .post(format!("{url}/api/routes/{key}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        loop {
            if sdk.engine().state("GET:/bench/item").map(|s| s.status) == Some(want) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .expect("the change reaches the service");
        }
        samples.push(began.elapsed());
    }
    summary(
        &format!("propagation ({SERVICES} services, {CHANGES} changes, REST call to enforcement)"),
        samples,
    );
}

/// 20 services attached; a flag turned off and on 50 times through the server's REST API;
/// for each change and each service, the time from sending it to the service's engine
/// evaluating the new value (1,000 samples).
async fn flag_propagation() {
    const SERVICES: usize = 20;
    const CHANGES: usize = 50;
    let (server, url) = start_server().await;
    let flag = serde_json::from_value(serde_json::json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "on"
    }))
    .unwrap();
    server
        .engine()
        .save_flag(flag, waygate::Actor::new("bench"))
        .await
        .unwrap();
    let mut sdks = Vec::new();
    for i in 0..SERVICES {
        let sdk = WaygateSdk::builder(&url, format!("svc-{i}"))
            .build()
            .unwrap();
        sdk.start().await.unwrap();
        sdks.push(sdk);
    }
    let ctx = waygate::flags::EvaluationContext::new("user-1");
    let http = reqwest::Client::new();
    let mut samples = Vec::with_capacity(SERVICES * CHANGES);
    for change in 0..CHANGES {
        let on = change % 2 == 1;
        let mut waiting: Vec<_> = sdks
            .iter()
            .map(|sdk| (sdk, sdk.engine().subscribe()))
            .collect();
        let action = if on { "enable" } else { "disable" };
        let began = Instant::now();
        let reply = http
            .post(format!("{url}/api/flags/new-checkout/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        // Each service in turn; a later one's time includes the wait for the earlier ones,
        // which only makes the figure larger (never smaller) than its own.
        for (sdk, events) in &mut waiting {
            while sdk.engine().flags().bool("new-checkout", &ctx, !on) != on {
                let _ = tokio::time::timeout(Duration::from_secs(5), events.recv())
                    .await
                    .expect("the flag change reaches the service");
            }
            samples.push(began.elapsed());
        }
    }
    summary(
        &format!(
            "flag propagation ({SERVICES} services, {CHANGES} changes, REST call to evaluation)"
        ),
        samples,
    );
}

/// The child: a server on a free port, printing it, until stdin closes.
async fn serve_child() {
    let server = WaygateServer::new(MemoryBackend::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        let _ = closed.send(());
    });
    let serving = server.serve(listener, async {
        let _ = on_close.await;
    });
    serving.await.unwrap();
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One raw SSE stream: `GET api/sdk/events` for service `fan`, the response headers read.
async fn open_stream(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /api/sdk/events HTTP/1.1\r\nHost: x\r\nX-Waygate-App-Id: fan\r\nAccept: text/event-stream\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Reads until `needle` arrives.
async fn read_until(stream: &mut TcpStream, needle: &[u8]) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "stream closed");
        seen.extend_from_slice(&buffer[..n]);
        if seen.windows(needle.len()).any(|w| w == needle) {
            return;
        }
        if seen.len() > 1 << 16 {
            seen.drain(..seen.len() - needle.len());
        }
    }
}

async fn fanout() {
    const STREAMS: usize = 1000;
    const CHANGES: usize = 20;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--serve-child")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr: SocketAddr = line.trim().parse().unwrap();
    let url = format!("http://{addr}");
    let pid = child.id();
    let http = reqwest::Client::new();
    let register = http
        .post(format!("{url}/api/sdk/register"))
        .json(&serde_json::json!({"app_id": "fan", "states": [{"path": "fan:GET:/x", "service": "fan"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::OK);
    let idle = rss_kib(pid);
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        streams.push(open_stream(addr).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = rss_kib(pid);
    println!(
        "fanout: server RSS {:.1} MiB idle, {:.1} MiB holding {STREAMS} SDK streams",
        idle as f64 / 1024.0,
        held as f64 / 1024.0
    );
    let streams: Vec<_> = streams
        .into_iter()
        .map(|s| Arc::new(tokio::sync::Mutex::new(s)))
        .collect();
    let mut samples = Vec::new();
    let key = b64u("fan:GET:/x");
    for change in 0..CHANGES {
        let (action, needle) = if change % 2 == 0 {
            ("disable", &b"\"status\":\"disabled\""[..])
        } else {
            ("enable", &b"\"status\":\"active\""[..])
        };
        let began = Instant::now();
        let readers: Vec<_> = streams
            .iter()
            .map(|s| {
                let s = s.clone();
                let needle = needle.to_vec();
                tokio::spawn(async move {
                    let mut s = s.lock().await;
                    read_until(&mut s, &needle).await;
                })
            })
            .collect();
        let reply = http
            .post(format!("{url}/api/routes/{key}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        for reader in readers {
            reader.await.unwrap();
        }
        samples.push(began.elapsed());
    }
    summary(
        &format!("fanout (a change reaching all {STREAMS} streams)"),
        samples,
    );
    println!(
        "fanout: server RSS {:.1} MiB after the changes",
        rss_kib(pid) as f64 / 1024.0
    );
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
}

async fn overhead() {
    const BATCH: usize = 2000;
    const ROUNDS: usize = 40;
    let (_server, url) = start_server().await;
    let sdk = WaygateSdk::builder(&url, "overhead").build().unwrap();
    sdk.start().await.unwrap();
    let embedded = Engine::builder().build();
    embedded.start().await.unwrap();
    let app = |engine: &Engine| -> Router {
        Router::new()
            .merge(routes![item, other])
            .layer(WaygateLayer::new(engine.clone()))
    };
    let fed = app(sdk.engine());
    let local = app(&embedded);
    async fn batch(app: &Router) -> Duration {
        let began = Instant::now();
        for _ in 0..BATCH {
            let request = Request::get("/bench/item").body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        began.elapsed() / BATCH as u32
    }
    // Warm both.
    for _ in 0..3 {
        batch(&fed).await;
        batch(&local).await;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always runs on a warmer cache.
        if round % 2 == 0 {
            a.push(batch(&fed).await);
            b.push(batch(&local).await);
        } else {
            b.push(batch(&local).await);
            a.push(batch(&fed).await);
        }
    }
    a.sort();
    b.sort();
    let (fed_median, local_median) = (a[ROUNDS / 2], b[ROUNDS / 2]);
    println!(
        "overhead: allowed request, SDK-fed {} ns vs embedded {} ns per request (median of {ROUNDS} interleaved batches of {BATCH}): ratio {:.3}",
        fed_median.as_nanos(),
        local_median.as_nanos(),
        fed_median.as_secs_f64() / local_median.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if args.iter().any(|a| a == "--serve-child") {
        runtime.block_on(serve_child());
        return;
    }
    let picked: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["propagation", "flags", "fanout", "overhead"].contains(a))
        .collect();
    let all = picked.is_empty();
    runtime.block_on(async {
        if all || picked.contains(&"propagation") {
            propagation().await;
        }
        if all || picked.contains(&"flags") {
            flag_propagation().await;
        }
        if all || picked.contains(&"fanout") {
            fanout().await;
        }
        if all || picked.contains(&"overhead") {
            overhead().await;
        }
    });
}
