use waygate::prelude::*;

// Every problem is reported, each at its place.
#[route(get, "items")]
#[maintenance(start = "2026-12-01T02:00:00Z")]
#[rate_limit("100/fortnight")]
async fn items() {}

fn main() {}
