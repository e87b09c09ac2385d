//! A request's head, as the core's decision reads it.

use http::request::Parts;
use http::{Method, Request};

/// The parts of a `method path` request without a body.
pub(crate) fn request(method: Method, path: &str) -> Parts {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .unwrap();
    request.into_parts().0
}
