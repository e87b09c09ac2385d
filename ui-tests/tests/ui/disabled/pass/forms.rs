// Every form of `#[disabled]`, in both orders.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

#[route(GET, "/bare")]
#[disabled]
async fn bare() {}

#[route(GET, "/positional")]
#[disabled("use /v2")]
async fn positional() {}

#[disabled(reason = "use /v2", response = |_: waygate::Blocked| async { "gone" })]
#[route(GET, "/above")]
async fn above() {}

#[route(GET, "/below")]
#[disabled(reason = "use /v2", response = |_: waygate::Blocked| async { "gone" })]
async fn below() {}

fn main() {
    let _app: Router = Router::new().merge(routes![bare, positional, above, below]);
    assert_eq!(bare::META.initial, InitialStatus::Disabled { reason: "" });
    assert_eq!(
        positional::META.initial,
        InitialStatus::Disabled { reason: "use /v2" }
    );
    assert_eq!(above::META.initial, below::META.initial);
    assert!(above::META.response.is_some());
}
