// Every form of `#[rate_limit]`: rate strings, every key, tiers, custom keys and factories.
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Router;
use waygate::prelude::*;
use waygate::rate_limit::{Algorithm, OnMissingKey};
use waygate::registry::{KeyMeta, LimitMeta};
use waygate::RateLimited;

#[route(GET, "/single")]
#[rate_limit("100/minute")]
async fn single() {}

#[route(GET, "/all")]
#[rate_limit(
    " 5 per 2 Hours ",
    algorithm = token_bucket,
    key = api_key,
    burst = 20,
    exempt_ips = ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"],
    exempt_roles = ["admin", "ops"],
    on_missing_key = fallback_ip,
    response = too_many,
)]
async fn all() {}

#[route(GET, "/tiers")]
#[rate_limit({ free = "10/minute", pro = "100/minute", enterprise = "unlimited" })]
async fn tiers() {}

#[route(GET, "/tiers-by-ip")]
#[rate_limit({ free = "10/minute" }, key = ip, algorithm = fixed_window)]
async fn tiers_by_ip() {}

#[route(GET, "/custom")]
#[rate_limit("10 per second", key = custom(tenant), on_missing_key = block)]
async fn custom() {}

#[route(GET, "/global")]
#[rate_limit("unlimited", key = global, algorithm = moving_window, on_missing_key = exempt)]
async fn global() {}

#[route(GET, "/user")]
#[rate_limit("1/day", key = user, algorithm = sliding_window, response = |_: RateLimited| async {
    StatusCode::TOO_MANY_REQUESTS
})]
async fn user() {}

#[route(GET, "/sync-factory")]
#[rate_limit("3/years", response = |limited: RateLimited| format!("retry in {}", limited.retry_after_seconds))]
async fn sync_factory() {}

fn tenant(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-tenant")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

async fn too_many(limited: RateLimited) -> (StatusCode, String) {
    (StatusCode::TOO_MANY_REQUESTS, limited.limit)
}

fn main() {
    let _app: Router = Router::new().merge(routes![
        single,
        all,
        tiers,
        tiers_by_ip,
        custom,
        global,
        user,
        sync_factory
    ]);

    let single = single::META.rate_limit.unwrap();
    assert_eq!(single.limit, LimitMeta::Single("100/minute"));
    assert!(matches!(single.key, KeyMeta::Ip));
    assert_eq!(single.algorithm, None);
    assert_eq!(single.burst, 0);
    assert!(single.response.is_none());

    let all = all::META.rate_limit.unwrap();
    assert_eq!(all.limit, LimitMeta::Single("5 per 2 Hours"));
    assert_eq!(all.algorithm, Some(Algorithm::TokenBucket));
    assert!(matches!(all.key, KeyMeta::ApiKey));
    assert_eq!(all.burst, 20);
    assert_eq!(
        all.exempt_ips,
        ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]
    );
    assert_eq!(all.exempt_roles, ["admin", "ops"]);
    assert_eq!(all.on_missing_key, Some(OnMissingKey::FallbackIp));
    assert!(all.response.is_some());

    let tiers = tiers::META.rate_limit.unwrap();
    assert_eq!(
        tiers.limit,
        LimitMeta::Tiers(&[
            ("free", "10/minute"),
            ("pro", "100/minute"),
            ("enterprise", "unlimited")
        ])
    );
    assert!(
        matches!(tiers.key, KeyMeta::User),
        "tiers default to the user key"
    );
    assert!(matches!(
        tiers_by_ip::META.rate_limit.unwrap().key,
        KeyMeta::Ip
    ));

    let KeyMeta::Custom(key) = custom::META.rate_limit.unwrap().key else {
        panic!("expected a custom key");
    };
    let (parts, ()) = axum::http::Request::builder()
        .header("x-tenant", "acme")
        .body(())
        .unwrap()
        .into_parts();
    assert_eq!(key(&parts).as_deref(), Some("acme"));
    assert!(matches!(
        global::META.rate_limit.unwrap().key,
        KeyMeta::Global
    ));
    assert!(user::META.rate_limit.unwrap().response.is_some());
}
