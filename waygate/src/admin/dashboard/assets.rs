//! The static files, built into the binary: htmx (vendored from the npm package
//! `htmx.org`, 0BSD), the dashboard's script and its style sheet.

use axum::http::header;
use axum::response::IntoResponse;

const HTMX: &str = include_str!("../../../static/htmx.min.js");
const SCRIPT: &str = include_str!("../../../static/waygate.js");
const STYLE: &str = include_str!("../../../static/waygate.css");

/// An hour: the files change only with the binary.
const CACHE: &str = "public, max-age=3600";

/// `GET static/htmx.min.js`.
pub(super) async fn htmx() -> impl IntoResponse {
    javascript(HTMX)
}

/// `GET static/waygate.js`.
pub(super) async fn script() -> impl IntoResponse {
    javascript(SCRIPT)
}

/// `GET static/waygate.css`.
pub(super) async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        STYLE,
    )
}

fn javascript(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
}
