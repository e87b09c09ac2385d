// `#[rate_limit]` with a status attribute, in every order; the rate limit keeps its own factory.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

fn down(_: waygate::Blocked) -> &'static str {
    "down"
}

fn slow_down(_: waygate::RateLimited) -> &'static str {
    "slow down"
}

#[route(GET, "/below")]
#[rate_limit("10/minute", response = slow_down)]
#[maintenance(reason = "m", response = down)]
async fn below() {}

#[rate_limit("10/minute", response = slow_down)]
#[maintenance(reason = "m", response = down)]
#[route(GET, "/above")]
async fn above() {}

#[rate_limit("10/minute", response = slow_down)]
#[route(GET, "/around")]
#[maintenance(reason = "m", response = down)]
async fn around() {}

#[route(GET, "/deprecated")]
#[deprecated_route(use_instead = "/v2")]
#[rate_limit("10/minute")]
async fn deprecated() {}

fn main() {
    let _app: Router = Router::new().merge(routes![below, above, around, deprecated]);
    for meta in [below::META, above::META, around::META] {
        assert_eq!(
            meta.initial,
            InitialStatus::Maintenance {
                reason: "m",
                window: None
            }
        );
        assert!(meta.response.is_some());
        assert!(meta.rate_limit.unwrap().response.is_some());
    }
    assert!(deprecated::META.rate_limit.is_some());
}
