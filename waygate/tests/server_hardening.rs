//! A Waygate Server attacked over real HTTP on loopback, as the hardening issue saw it: wrong
//! passwords from many addresses, sdk tokens naming no service or reading other services,
//! forged audit entries, streams that outlive their token, half-sent requests and idle
//! connections, control characters and oversized registrations.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use waygate::admin::{Auth, LoginThrottle};
use waygate::backend::MemoryBackend;
use waygate::serve::ConnectionLimits;
use waygate::server::WaygateServer;

/// How long anything that should happen may take on a busy machine.
const PATIENCE: Duration = Duration::from_secs(15);

/// A server on `127.0.0.1:0`, stopped when dropped.
struct Running {
    url: String,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn run(server: WaygateServer) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        url: format!("http://{addr}"),
        addr,
        _stop: stop,
    }
}

fn secured() -> WaygateServer {
    WaygateServer::new(MemoryBackend::new())
        .secret_key("test-secret")
        .auth(Auth::single("admin", "secret"))
}

/// A client whose connections come from `source` (any of 127.0.0.0/8 on loopback).
fn client_from(source: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source)
        .timeout(PATIENCE)
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    client_from(IpAddr::from([127, 0, 0, 1]))
}

async fn send(
    request: reqwest::RequestBuilder,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = request;
    if let Some(token) = token {
        request = request.header("x-waygate-token", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status();
    let text = reply.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn login(url: &str, body: Value) -> (StatusCode, Value) {
    send(
        client().post(format!("{url}/api/auth/login")),
        None,
        Some(body),
    )
    .await
}

async fn user_token(url: &str) -> String {
    let (status, reply) = login(url, json!({"username": "admin", "password": "secret"})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["token"].as_str().unwrap().to_owned()
}

async fn get(url: &str, path: &str, token: &str) -> (StatusCode, Value) {
    send(client().get(format!("{url}{path}")), Some(token), None).await
}

async fn post(url: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    send(
        client().post(format!("{url}{path}")),
        Some(token),
        Some(body),
    )
    .await
}

fn b64u(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// Registers `routes` (local keys) for `app` with `token`.
async fn register(url: &str, token: &str, app: &str, routes: &[&str]) -> (StatusCode, Value) {
    let states: Vec<Value> = routes
        .iter()
        .map(|key| json!({"path": key, "status": "active"}))
        .collect();
    post(
        url,
        "/api/sdk/register",
        token,
        json!({"app_id": app, "states": states}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_many_addresses_lock_those_addresses_not_the_operator() {
    let server =
        run(secured().login_throttle(LoginThrottle::new().per_username(5).per_ip(20))).await;
    let url = &server.url;
    let wrong = json!({"username": "admin", "password": "guess"});
    for n in 2..12u8 {
        let attacker = client_from(IpAddr::from([127, 0, 0, n]));
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let (status, _) = send(
                attacker.post(format!("{url}/api/auth/login")),
                None,
                Some(wrong.clone()),
            )
            .await;
            statuses.push(status);
        }
        assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
        assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    }
    // The operator, from an address that has not failed, is answered at once.
    let operator = client_from(IpAddr::from([127, 0, 0, 200]));
    let (status, reply) = send(
        operator.post(format!("{url}/api/auth/login")),
        None,
        Some(json!({"username": "admin", "password": "secret"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let token = reply["token"].as_str().unwrap();
    // Each lockout is audited.
    let (_, audit) = get(url, "/api/audit?limit=100", token).await;
    let locked = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login_locked" && e["path"] == "__auth__")
        .count();
    assert_eq!(locked, 10, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_token_replaces_the_password_and_stays_in_its_service() {
    let server = run(secured()).await;
    let url = &server.url;
    let admin = user_token(url).await;
    let (status, issued) = post(
        url,
        "/api/tokens",
        &admin,
        json!({"service": "pay", "ttl_seconds": 365 * 86_400}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["service"], "pay");
    let token = issued["token"].as_str().unwrap();
    let (status, me) = get(url, "/api/auth/me", token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me, json!({"username": "pay", "platform": "sdk"}));
    let (status, _) = register(url, token, "pay", &["GET:/pay"]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = register(url, token, "orders", &["GET:/orders"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A service token makes no tokens; bad requests are named.
    let (status, _) = post(url, "/api/tokens", token, json!({"service": "pay"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({"service": "a b"}), "service"),
        (json!({"service": "pay", "ttl_seconds": 0}), "ttl_seconds"),
        (json!({"service": "pay", "ttl_seconds": -5}), "ttl_seconds"),
    ] {
        let (status, reply) = post(url, "/api/tokens", &admin, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(reply["error"].as_str().unwrap().contains(field), "{reply}");
    }
    // Audited without the token.
    let (_, audit) = get(url, "/api/audit", &admin).await;
    let created = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "token_created")
        .expect("token_created audited");
    assert_eq!(created["actor"], "admin");
    assert_eq!(created["service"], "pay");
    assert!(!audit.to_string().contains(token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_tokens_are_bound_to_one_service_and_read_only_its_records() {
    let server = run(secured()).await;
    let url = &server.url;
    let admin = user_token(url).await;
    // Naming no service: refused, saying why.
    let (status, reply) = login(
        url,
        json!({"username": "admin", "password": "secret", "platform": "sdk"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("must name its service"),
        "{reply}"
    );
    // The header the Python SDK sends names it.
    let (status, reply) = send(
        client()
            .post(format!("{url}/api/auth/login"))
            .header("x-waygate-app-id", "pay"),
        None,
        Some(json!({"username": "admin", "password": "secret", "platform": "sdk"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let pay = reply["token"].as_str().unwrap().to_owned();
    assert_eq!(
        register(url, &admin, "orders", &["GET:/orders"]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        register(url, &pay, "pay", &["GET:/pay"]).await.0,
        StatusCode::OK
    );

    // Its own records and the fleet-wide ones.
    let (status, routes) = get(url, "/api/routes", &pay).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&str> = routes
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["pay:GET:/pay"], "narrowed to its service");
    for path in [
        "/api/routes?service=pay",
        "/api/global",
        "/api/global-rate-limit",
        "/api/services/pay/maintenance",
        "/api/rate-limits?service=pay",
        &format!("/api/routes/{}", b64u("pay:GET:/pay")),
    ] {
        assert_eq!(get(url, path, &pay).await.0, StatusCode::OK, "{path}");
    }
    // Nothing of another service, nor the fleet's lists.
    for path in [
        "/api/routes?service=orders",
        "/api/rate-limits?service=orders",
        "/api/services",
        "/api/audit",
        "/api/rate-limits/hits",
        "/api/services/orders/maintenance",
        &format!("/api/routes/{}", b64u("orders:GET:/orders")),
    ] {
        let (status, reply) = get(url, path, &pay).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {reply}");
    }
    let (status, _) = post(
        url,
        &format!("/api/routes/{}/disable", b64u("orders:GET:/orders")),
        &pay,
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A forged audit entry gets the server's actor, platform, time and id.
    let (status, _) = post(
        url,
        "/api/sdk/audit",
        &pay,
        json!({
            "id": "forged-id",
            "timestamp": "2030-01-01T00:00:00Z",
            "path": "__global__",
            "action": "global_maintenance_on",
            "actor": "alice",
            "platform": "cli",
            "reason": "forged"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = get(url, "/api/audit", &admin).await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "forged")
        .expect("the entry is stored");
    assert_eq!(entry["actor"], "admin", "the token's user");
    assert_eq!(entry["platform"], "sdk");
    assert_eq!(entry["service"], "pay");
    assert_ne!(entry["id"], "forged-id");
    assert!(entry["timestamp"].as_str().unwrap() < "2030", "{entry}");
}

/// Opens `api/sdk/events` with `token`.
async fn open_stream(url: &str, token: &str) -> reqwest::Response {
    let stream = reqwest::Client::new()
        .get(format!("{url}/api/sdk/events"))
        .header("x-waygate-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    stream
}

/// Reads the stream until it ends; panics if it is still open after [`PATIENCE`].
async fn until_closed(mut stream: reqwest::Response) {
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .expect("the stream ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_is_revoked_or_expires() {
    let server = run(secured()).await;
    let url = &server.url;
    let (_, reply) = login(
        url,
        json!({"username": "admin", "password": "secret", "platform": "sdk", "app_id": "pay"}),
    )
    .await;
    let token = reply["token"].as_str().unwrap().to_owned();
    let stream = open_stream(url, &token).await;
    let (status, _) = send(
        client().post(format!("{url}/api/auth/logout")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    until_closed(stream).await;
    // Reconnecting with the revoked token: a 401, after a delay, so a client that
    // reconnects at once does not spin.
    let started = Instant::now();
    let reconnect = reqwest::Client::new()
        .get(format!("{url}/api/sdk/events"))
        .header("x-waygate-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(reconnect.status(), StatusCode::UNAUTHORIZED);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A token that expires ends its stream too.
    let short = run(secured().sdk_token_expiry(Duration::from_secs(2))).await;
    let (_, reply) = login(
        &short.url,
        json!({"username": "admin", "password": "secret", "platform": "sdk", "app_id": "pay"}),
    )
    .await;
    let stream = open_stream(&short.url, reply["token"].as_str().unwrap()).await;
    until_closed(stream).await;
}

/// Reads from `stream` until the server closes it; how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_closed_but_streams_are_not() {
    let limits = ConnectionLimits::new()
        .header_read_timeout(Duration::from_secs(1))
        .max_connections(3);
    let server = run(secured().connection_limits(limits)).await;
    let url = &server.url;
    let token = user_token(url).await;

    // Half a request head: closed.
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    closed_after(&mut half).await;
    // A kept-alive connection with no request in flight: closed.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    closed_after(&mut idle).await;
    // A body declared and then not sent: the request fails once the body has been silent for
    // the timeout, and the connection closes.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"username\"",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stalled.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes the connection")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // An SSE stream quiet for longer than the timeout stays open and gets the next change.
    let (status, _) = register(url, &token, "pay", &["GET:/pay"]).await;
    assert_eq!(status, StatusCode::OK);
    let mut stream = open_stream(url, &token).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, _) = post(
        url,
        &format!("/api/routes/{}/disable", b64u("pay:GET:/pay")),
        &token,
        json!({"reason": "hotfix"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = tokio::time::timeout(PATIENCE, async {
        let mut seen = String::new();
        while !seen.contains("hotfix") {
            let chunk = stream.chunk().await.unwrap().expect("the stream is open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        seen
    })
    .await
    .expect("the change arrives on the stream");
    assert!(seen.contains("\"disabled\""), "{seen}");

    // The cap: with the stream and two silent connections open, a fourth waits until the
    // silent ones are closed, then is served.
    let _silent: Vec<TcpStream> = vec![
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, health) = send(client().get(format!("{url}/health")), None, None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "answered after {:?}: the cap did not hold it",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_and_oversized_registrations_are_refused() {
    let server = run(secured()).await;
    let url = &server.url;
    let token = user_token(url).await;
    assert_eq!(
        register(url, &token, "pay", &["GET:/pay"]).await.0,
        StatusCode::OK
    );
    let key = b64u("pay:GET:/pay");
    for reason in ["red \u{1b}[31m", "nul \u{0}", "rtl \u{202e}gnp.exe"] {
        let (status, reply) = post(
            url,
            &format!("/api/routes/{key}/disable"),
            &token,
            json!({ "reason": reason }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reason:?}");
        assert!(
            reply["error"]
                .as_str()
                .unwrap()
                .starts_with("reason holds a control character"),
            "{reply}"
        );
    }
    let (status, reply) = post(
        url,
        "/api/sdk/register",
        &token,
        json!({"app_id": "pa\u{1b}y", "states": []}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .starts_with("app_id holds a control character"),
        "{reply}"
    );
    let (status, reply) = post(
        url,
        "/api/sdk/audit",
        &token,
        json!({"id": "x", "timestamp": "2026-01-01T00:00:00Z", "path": "GET:/pay", "action": "dis\u{1b}able"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");

    // Invalid entries are skipped with 200, and listed.
    let long_key = format!("GET:/{}", "k".repeat(64 * 1024));
    let (status, reply) = post(
        url,
        "/api/sdk/register",
        &token,
        json!({"app_id": "pay", "states": [
            {"path": "GET:/ok", "status": "active"},
            {"path": long_key, "status": "active"},
            {"path": "GET:/bad", "status": "sleeping"},
            {"path": "GET:/esc", "status": "active", "reason": "\u{1b}]0;owned\u{7}"},
            {"path": "GET:/big", "status": "active", "reason": "r".repeat(1 << 20)},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let skipped: Vec<u64> = reply["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(skipped, [1, 2, 3, 4], "{reply}");
    assert_eq!(reply["states"].as_array().unwrap().len(), 1);

    // Too many routes in a call.
    let many: Vec<Value> = (0..2_001)
        .map(|n| json!({"path": format!("GET:/r{n}"), "status": "active"}))
        .collect();
    let (status, reply) = post(
        url,
        "/api/sdk/register",
        &token,
        json!({"app_id": "pay", "states": many}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
}
