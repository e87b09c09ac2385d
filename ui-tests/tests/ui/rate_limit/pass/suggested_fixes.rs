// What the compile-fail messages of `#[rate_limit]` tell the user to write compiles.
use axum::http::request::Parts;
use axum::Router;
use waygate::prelude::*;
use waygate::registry::{KeyMeta, LimitMeta};

fn tenant(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-tenant")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

// fail/unknown_period.rs, missing_amount.rs, zero_multiple.rs, rate_list.rs.
#[route(GET, "/fortnight")]
#[rate_limit("10/14 days")]
async fn fortnight() {}

#[route(GET, "/per-minute")]
#[rate_limit("1 per minute")]
async fn per_minute() {}

#[route(GET, "/hourly")]
#[rate_limit("5/hour")]
async fn hourly() {}

// fail/response_string.rs, exempt_roles_not_a_list.rs, on_missing_key_string.rs,
// custom_key_string.rs.
#[route(GET, "/text")]
#[rate_limit(
    "1/second",
    response = |_: waygate::RateLimited| "slow down",
    exempt_roles = ["admin"],
    key = custom(tenant),
    on_missing_key = block,
)]
async fn text() {}

// The blocking attributes' factories get the same advice.
#[route(GET, "/down")]
#[maintenance(response = |_: waygate::Blocked| "down for maintenance")]
async fn down() {}

// fail/rate_and_tiers.rs, two_limits.rs, option_in_tier_table.rs.
#[route(GET, "/reports")]
#[rate_limit({ free = "10/minute", pro = "100/minute", enterprise = "unlimited" }, key = api_key)]
async fn reports() {}

fn main() {
    let _app: Router = Router::new().merge(routes![fortnight, per_minute, hourly, text, down, reports]);
    assert_eq!(
        fortnight::META.rate_limit.unwrap().limit,
        LimitMeta::Single("10/14 days")
    );
    let text = text::META.rate_limit.unwrap();
    assert!(text.response.is_some());
    assert!(matches!(text.key, KeyMeta::Custom(_)));
    assert!(down::META.response.is_some());
    assert!(matches!(reports::META.rate_limit.unwrap().key, KeyMeta::ApiKey));
}
