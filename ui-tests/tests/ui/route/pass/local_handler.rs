// Handlers declared inside a function body (as tests often do) work too.
use axum::Router;
use waygate::prelude::*;
use waygate::registry::{registered_routes, InitialStatus};

fn main() {
    #[route(GET, "/local")]
    #[disabled(reason = "local", response = |_: waygate::Blocked| "gone")]
    async fn local() -> &'static str {
        "local"
    }

    let _app: Router = Router::new().merge(routes![local]);
    assert_eq!(local::KEY, "GET:/local");
    let meta = registered_routes().find(|meta| meta.key == "GET:/local").unwrap();
    assert_eq!(meta.initial, InitialStatus::Disabled { reason: "local" });
}
