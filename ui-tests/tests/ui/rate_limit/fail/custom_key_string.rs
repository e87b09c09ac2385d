use waygate::prelude::*;

fn tenant(parts: &axum::http::request::Parts) -> Option<String> {
    parts.headers.get("x-tenant")?.to_str().ok().map(str::to_owned)
}

#[route(GET, "/search")]
#[rate_limit("100/minute", key = custom("tenant"))]
async fn search() {}

fn main() {}
