// `waygate::x` and `::waygate::x` paths, without imports: attributes below `#[route]` are
// taken off the function before rustc resolves them.
use axum::Router;

#[waygate::route(GET, "/a")]
#[waygate::disabled(reason = "a")]
async fn a() {}

#[::waygate::route(PUT, "/b")]
#[::waygate::rate_limit("1/second")]
#[maintenance]
async fn b() {}

#[waygate::maintenance("c")]
#[waygate::route(PATCH, "/c")]
async fn c() {}

fn main() {
    let _app: Router = Router::new().merge(waygate::routes![a, b, c]);
    assert_eq!(a::KEY, "GET:/a");
    assert!(b::META.rate_limit.is_some());
    assert_eq!(
        c::META.initial,
        waygate::registry::InitialStatus::Maintenance {
            reason: "c",
            window: None
        }
    );
}
