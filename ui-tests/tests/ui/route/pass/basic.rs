// The example of the docs: a route with a lifecycle attribute and a `response` factory.
use axum::extract::Path;
use axum::Router;
use waygate::prelude::*;
use waygate::registry::{registered_routes, InitialStatus};

#[route(GET, "/items/{id}")]
#[maintenance(reason = "x", start = "2026-12-01T02:00:00Z", end = "2026-12-01T04:00:00Z", response = my_factory)]
pub async fn get_item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

fn my_factory(blocked: waygate::Blocked) -> String {
    blocked.reason
}

#[route(POST, "/items")]
async fn create_item() -> &'static str {
    "created"
}

fn main() {
    let _app: Router = Router::new().merge(routes![get_item, create_item]);
    assert_eq!(get_item::KEY, "GET:/items/{id}");
    assert_eq!(get_item::METHOD, "GET");
    assert_eq!(get_item::PATH, "/items/{id}");
    assert_eq!(get_item::META.handler, "get_item");
    assert_eq!(get_item::META.module_path, module_path!());
    assert_eq!(
        get_item::META.initial,
        InitialStatus::Maintenance {
            reason: "x",
            window: Some((1796090400, 1796097600))
        }
    );
    assert!(get_item::META.response.is_some());
    assert_eq!(create_item::KEY, "POST:/items");
    assert_eq!(create_item::META.initial, InitialStatus::Active);
    assert!(!create_item::META.force_active);
    assert!(create_item::META.rate_limit.is_none());
    assert!(create_item::META.response.is_none());

    let mut keys: Vec<&str> = registered_routes().map(|meta| meta.key).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["GET:/items/{id}", "POST:/items"]);
}
