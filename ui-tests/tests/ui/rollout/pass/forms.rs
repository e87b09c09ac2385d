// Every documented form of `#[rollout]`, in both orders.
use axum::http::request::Parts;
use axum::Router;
use waygate::prelude::*;
use waygate::registry::{InitialStatus, RolloutKeyMeta};

#[route(GET, "/a")]
#[rollout(percent = 25)]
async fn a() {}

#[rollout(percent = 0, key = user)]
#[route(GET, "/b")]
async fn b() {}

#[route(GET, "/c")]
#[rollout(percent = 100, key = ip)]
async fn c() {}

#[route(GET, "/d")]
#[rollout(key = api_key, percent = 50)]
async fn d() {}

fn tenant(parts: &Parts) -> Option<String> {
    parts.headers.get("x-tenant")?.to_str().ok().map(str::to_owned)
}

fn not_yet(_: waygate::Blocked) -> &'static str {
    "not yet"
}

#[route(GET, "/e")]
#[rollout(percent = 10, key = custom(tenant), response = not_yet)]
#[rate_limit("10/minute")]
async fn e() {}

#[route(GET, "/f")]
#[env_only("dev")]
#[rollout(percent = 30, response = |_: waygate::Blocked| async { "later" })]
async fn f() {}

fn main() {
    let _app: Router = Router::new().merge(routes![a, b, c, d, e, f]);
    let percent = |meta: &waygate::registry::RouteMeta| meta.rollout.unwrap().percent;
    assert_eq!(percent(a::META), 25);
    assert_eq!(percent(b::META), 0);
    assert_eq!(percent(c::META), 100);
    assert_eq!(percent(d::META), 50);
    assert_eq!(percent(e::META), 10);
    assert!(matches!(a::META.rollout.unwrap().key, RolloutKeyMeta::UserThenIp));
    assert!(matches!(b::META.rollout.unwrap().key, RolloutKeyMeta::User));
    assert!(matches!(c::META.rollout.unwrap().key, RolloutKeyMeta::Ip));
    assert!(matches!(d::META.rollout.unwrap().key, RolloutKeyMeta::ApiKey));
    assert!(matches!(e::META.rollout.unwrap().key, RolloutKeyMeta::Custom(_)));
    assert!(e::META.rollout.unwrap().response.is_some());
    assert!(e::META.rate_limit.is_some());
    assert!(a::META.rollout.unwrap().response.is_none());
    assert!(f::META.rollout.unwrap().response.is_some());
    assert!(matches!(f::META.initial, InitialStatus::EnvOnly { .. }));
}
