// Every form of `#[deprecated_route]`, in both orders.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

#[route(GET, "/v1/users")]
#[deprecated_route(
    sunset = "Fri, 01 Jan 2027 00:00:00 GMT",
    use_instead = "/v2/users",
    since = "2026-06-01T00:00:00Z"
)]
async fn v1_users() {}

#[deprecated_route(
    sunset = "Fri, 01 Jan 2027 00:00:00 GMT",
    use_instead = "/v2/users",
    since = "Mon, 01 Jun 2026 00:00:00 GMT"
)]
#[route(GET, "/v1/people")]
async fn v1_people() {}

#[route(GET, "/v1/bare")]
#[deprecated_route]
async fn v1_bare() {}

#[route(GET, "/v1/url")]
#[deprecated_route(use_instead = "https://api.example.com/v2/url")]
async fn v1_url() {}

fn main() {
    let _app: Router = Router::new().merge(routes![v1_users, v1_people, v1_bare, v1_url]);
    assert_eq!(
        v1_users::META.initial,
        InitialStatus::Deprecated {
            sunset: Some("Fri, 01 Jan 2027 00:00:00 GMT"),
            use_instead: Some("/v2/users"),
            since: Some(1780272000),
        }
    );
    assert_eq!(v1_users::META.initial, v1_people::META.initial);
    assert_eq!(
        v1_bare::META.initial,
        InitialStatus::Deprecated {
            sunset: None,
            use_instead: None,
            since: None
        }
    );
}
