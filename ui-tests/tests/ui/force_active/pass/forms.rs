// `#[force_active]` in both orders.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[force_active]
#[route(GET, "/ready")]
async fn ready() -> &'static str {
    "ok"
}

fn main() {
    let _app: Router = Router::new().merge(routes![health, ready]);
    assert!(health::META.force_active);
    assert!(ready::META.force_active);
    assert_eq!(ready::META.initial, InitialStatus::Active);
}
