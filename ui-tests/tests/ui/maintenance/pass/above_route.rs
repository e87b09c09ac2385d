// Above `#[route]` (imported) or below it: the same route.
use axum::Router;
use waygate::prelude::*;

#[maintenance(
    reason = "x",
    start = "2026-12-01T02:00:00Z",
    end = "2026-12-01T04:00:00Z"
)]
#[route(GET, "/above")]
async fn above() {}

#[route(GET, "/below")]
#[maintenance(
    reason = "x",
    start = "2026-12-01T02:00:00Z",
    end = "2026-12-01T04:00:00Z"
)]
async fn below() {}

fn main() {
    let _app: Router = Router::new().merge(routes![above, below]);
    assert_eq!(above::META.initial, below::META.initial);
    assert_eq!(above::KEY, "GET:/above");
}
