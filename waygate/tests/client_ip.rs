//! The client address behind trusted proxies, over real HTTP on loopback: the app serves with
//! `into_make_service_with_connect_info`, so the peer is the test's own loopback socket, and
//! loopback is the trusted proxy.

use axum::Router;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use waygate::prelude::*;
use waygate::rate_limit::IpNetList;
use waygate::ClientIpHeader;

#[route(GET, "/posts")]
#[rate_limit("1/minute")]
async fn posts() -> &'static str {
    "posts"
}

/// Serves the app on a fresh loopback port, behind loopback as the trusted proxy.
async fn serve(header: ClientIpHeader) -> SocketAddr {
    let engine = Engine::builder()
        .trusted_proxies(IpNetList::parse(["127.0.0.0/8", "10.0.0.0/8"]).unwrap())
        .client_ip_header(header)
        .build();
    engine.start().await.unwrap();
    let app = Router::new()
        .merge(routes![posts])
        .layer(WaygateLayer::new(engine));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    address
}

/// The status of `GET /posts` sent with these headers.
async fn status(address: SocketAddr, headers: &[(&str, &str)]) -> u16 {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut request = "GET /posts HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n".to_owned();
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[tokio::test]
async fn behind_an_x_real_ip_proxy_the_client_cannot_choose_its_key_with_forwarded_for() {
    let app = serve(ClientIpHeader::XRealIp).await;
    let alice = [("x-real-ip", "1.1.1.1"), ("x-forwarded-for", "9.9.9.9")];
    let bob = [("x-real-ip", "2.2.2.2"), ("x-forwarded-for", "9.9.9.9")];
    assert_eq!(status(app, &alice).await, 200);
    assert_eq!(status(app, &bob).await, 200, "a counter per X-Real-IP");
    // Alice forges a new X-Forwarded-For: still her counter, already spent.
    let forged = [("x-real-ip", "1.1.1.1"), ("x-forwarded-for", "7.7.7.7")];
    assert_eq!(status(app, &forged).await, 429);
}

#[tokio::test]
async fn the_forwarded_for_walk_stops_at_the_first_unparseable_hop() {
    let app = serve(ClientIpHeader::XForwardedFor).await;
    // From the right: 10.0.0.5 is a trusted proxy, then an entry that is not an address:
    // the walk ends there, and the nearest trusted hop is the key — whatever the client
    // wrote to the left of the garbage.
    let first = [("x-forwarded-for", "1.1.1.1, not-an-ip, 10.0.0.5")];
    let other_left = [("x-forwarded-for", "3.3.3.3, not-an-ip, 10.0.0.5")];
    assert_eq!(status(app, &first).await, 200);
    assert_eq!(status(app, &other_left).await, 429);
    // A well-formed chain names its client: a fresh counter.
    let clean = [("x-forwarded-for", "4.4.4.4, 10.0.0.5")];
    assert_eq!(status(app, &clean).await, 200);
    assert_eq!(status(app, &clean).await, 429);
}

#[tokio::test]
async fn the_forwarded_header_is_read_when_configured() {
    let app = serve(ClientIpHeader::Forwarded).await;
    let alice = [("forwarded", "for=1.1.1.1;proto=https, for=10.0.0.5")];
    let bob = [("forwarded", "for=\"[2001:db8::1]:4711\", for=10.0.0.5")];
    assert_eq!(status(app, &alice).await, 200);
    assert_eq!(status(app, &bob).await, 200, "a counter per client");
    // X-Forwarded-For is not the configured header: ignored.
    let spoof = [
        ("forwarded", "for=1.1.1.1, for=10.0.0.5"),
        ("x-forwarded-for", "8.8.8.8"),
    ];
    assert_eq!(status(app, &spoof).await, 429);
}
