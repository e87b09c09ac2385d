//! The layer benches' router: 1,000 routes, half of them parameterised.

use axum::routing::get;
use axum::Router;

/// How many routes the router has.
pub(crate) const ROUTES: usize = 1_000;

/// Route `i`'s template: `/static/r{i}` for even `i`, `/items{i}/{id}` for odd.
pub(crate) fn path(i: usize) -> String {
    match i % 2 {
        0 => format!("/static/r{i}"),
        _ => format!("/items{i}/{{id}}"),
    }
}

/// A plain axum router of every route, each answering `ok`.
pub(crate) fn router() -> Router {
    (0..ROUTES).fold(Router::new(), |router, i| {
        router.route(&path(i), get(|| async { "ok" }))
    })
}

/// `app` as `axum::serve` runs it: `into_make_service` calls `with_state(())`, which turns
/// every handler into its service once, instead of on every request as an unfinished
/// `Router` called directly does (and which would charge each layer its own conversion).
pub(crate) fn as_served(app: Router) -> Router {
    app.with_state(())
}
