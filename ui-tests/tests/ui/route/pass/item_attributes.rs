// The handler keeps its other attributes (docs, lints, cfg) and visibility; handlers in modules
// are named by path in `routes![..]`.
#![deny(missing_docs)]
//! Crate docs.

use axum::Router;
use waygate::prelude::*;

/// Handlers.
pub mod handlers {
    use waygate::prelude::*;

    /// A documented handler.
    #[route(GET, "/documented")]
    #[allow(clippy::unused_async)]
    pub async fn documented() -> &'static str {
        "documented"
    }

    #[route(GET, "/crate")]
    pub(crate) async fn crate_visible() -> &'static str {
        "crate"
    }

    #[route(GET, "/never")]
    #[cfg(any())]
    pub async fn compiled_out() -> &'static str {
        "never"
    }
}

#[route(DELETE, "/private")]
async fn private() {}

fn main() {
    let _app: Router = Router::new().merge(routes![
        handlers::documented,
        handlers::crate_visible,
        private
    ]);
    assert_eq!(handlers::documented::KEY, "GET:/documented");
    assert!(handlers::crate_visible::META
        .module_path
        .ends_with("::handlers"));
    // The companion of a compiled-out handler is compiled out too, and not registered.
    assert!(waygate::registry::registered_routes().all(|meta| meta.path != "/never"));
}
