use axum::Router;
use waygate::prelude::*;

// An invalid attribute is the only error: `routes![..]` still finds the handler's companion.
#[route(GET, "/items")]
#[maintenance(reson = "typo")]
async fn items() {}

fn main() {
    let _app: Router = Router::new().merge(routes![items]);
    assert_eq!(items::KEY, "GET:/items");
}
