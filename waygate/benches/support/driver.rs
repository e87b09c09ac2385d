//! What the callgrind drivers share: which variant to run and how often, and one request.

use axum::body::Body;
use axum::Router;
use http::{Request, StatusCode};
use tower::ServiceExt;

/// The variant named on the command line (the first argument not starting with `-`, else
/// `default`) and `N`, the number of requests (default 1,000).
pub(crate) fn variant_and_n(default: &str) -> (String, usize) {
    let variant = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| default.to_owned());
    let n = std::env::var("N").map_or(1_000, |n| n.parse().expect("N is a number"));
    (variant, n)
}

/// The status of a `GET uri` through `app`.
pub(crate) async fn serve(app: &Router, uri: &str) -> StatusCode {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}
