// Every form of `#[maintenance]`: bare, positional reason, keys, a window with offsets.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

#[route(GET, "/bare")]
#[maintenance]
async fn bare() {}

#[route(GET, "/positional")]
#[maintenance("DB migration")]
async fn positional() {}

#[route(GET, "/keyed")]
#[maintenance(reason = "DB migration")]
async fn keyed() {}

#[route(GET, "/window")]
#[maintenance(
    "DB migration",
    start = "2026-12-01T03:00:00+01:00",
    end = "2026-12-01T04:00:00Z"
)]
async fn window() {}

fn main() {
    let _app: Router = Router::new().merge(routes![bare, positional, keyed, window]);
    assert_eq!(
        bare::META.initial,
        InitialStatus::Maintenance {
            reason: "",
            window: None
        }
    );
    assert_eq!(
        positional::META.initial,
        InitialStatus::Maintenance {
            reason: "DB migration",
            window: None
        }
    );
    assert_eq!(keyed::META.initial, positional::META.initial);
    assert_eq!(
        window::META.initial,
        InitialStatus::Maintenance {
            reason: "DB migration",
            window: Some((1796090400, 1796097600))
        }
    );
}
