//! The middleware benches' app: routes `0..count`, half of them parameterised, each answering
//! `ok`, and the requests the benches send.

// Each bench uses a part of it.
#![allow(dead_code)]

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::web;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use waygate_actix::Engine;

/// Route `i`'s template: `/static/r{i}` for even `i`, `/items{i}/{id}` for odd.
pub(crate) fn path(i: usize) -> String {
    match i % 2 {
        0 => format!("/static/r{i}"),
        _ => format!("/items{i}/{{id}}"),
    }
}

pub(crate) fn concrete(i: usize) -> String {
    path(i).replace("{id}", "42")
}

/// Every route, each answering `ok`.
pub(crate) fn routes(count: usize) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        for i in 0..count {
            config.route(&path(i), web::get().to(|| async { "ok" }));
        }
    }
}

pub(crate) fn request(i: usize) -> actix_http::Request {
    TestRequest::get().uri(&concrete(i)).to_request()
}

/// Route `i` (parameterised: odd) with an id no request had before.
pub(crate) fn fresh_request(i: usize) -> actix_http::Request {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = path(i).replace("{id}", &id.to_string());
    TestRequest::get().uri(&path).to_request()
}

/// Lets the middleware register `wanted` routes (each is seen once), then disables
/// `blocked`.
pub(crate) async fn register_all<S, B>(engine: &Engine, app: &S, wanted: &[usize], blocked: usize)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let missing: Vec<usize> = wanted
            .iter()
            .copied()
            .filter(|i| !engine.snapshot().knows(&http::Method::GET, &path(*i)))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routes not registered"
        );
        for i in missing {
            let response = app.call(request(i)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine
        .disable(&format!("GET:{}", path(blocked)), "bench", "bench")
        .await
        .unwrap();
}
