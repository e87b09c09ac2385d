// `#[env_only]` with one or more environments and a factory, in both orders.
use axum::http::StatusCode;
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug() {}

#[env_only("dev", "staging", "qa-1", "eu_west.2", response = not_here)]
#[route(GET, "/above")]
async fn above() {}

#[route(GET, "/below")]
#[env_only("dev", "staging", "qa-1", "eu_west.2", response = not_here)]
async fn below() {}

fn not_here(_: waygate::Blocked) -> StatusCode {
    StatusCode::NOT_FOUND
}

fn main() {
    let _app: Router = Router::new().merge(routes![debug, above, below]);
    assert_eq!(
        debug::META.initial,
        InitialStatus::EnvOnly { envs: &["dev"] }
    );
    assert_eq!(
        above::META.initial,
        InitialStatus::EnvOnly {
            envs: &["dev", "staging", "qa-1", "eu_west.2"]
        }
    );
    assert_eq!(above::META.initial, below::META.initial);
}
