// `#[route]` without arguments reads its method and path from the `#[utoipa::path]` below it,
// which utoipa then expands as usual: the path is written once.
use axum::extract::Path;
use axum::Router;
use utoipa::OpenApi;
use waygate::prelude::*;
use waygate::registry::InitialStatus;

/// One item.
#[route]
#[utoipa::path(
    get,
    path = "/items/{id}",
    params(("id" = u32, Path, description = "The item's id")),
    responses((status = 200, description = "The item"))
)]
#[maintenance(reason = "reindex")]
async fn get_item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

#[route]
#[utoipa::path(post, path = "/items", context_path = "/api", responses((status = 201)))]
async fn create_item() -> &'static str {
    "created"
}

#[route]
#[utoipa::path(method(put), path = "/items/{id}", responses((status = 200)))]
async fn put_item(Path(id): Path<u32>) -> String {
    format!("put {id}")
}

#[derive(OpenApi)]
#[openapi(paths(get_item, create_item, put_item))]
struct ApiDoc;

fn main() {
    let _app: Router = Router::new().merge(routes![get_item, create_item, put_item]);
    assert_eq!(get_item::KEY, "GET:/items/{id}");
    assert_eq!(
        get_item::META.initial,
        InitialStatus::Maintenance {
            reason: "reindex",
            window: None
        }
    );
    assert_eq!(create_item::KEY, "POST:/api/items");
    assert_eq!(put_item::KEY, "PUT:/items/{id}");
    let doc = ApiDoc::openapi();
    assert!(doc.paths.paths.contains_key("/items/{id}"));
    assert!(doc.paths.paths.contains_key("/api/items"));
}
