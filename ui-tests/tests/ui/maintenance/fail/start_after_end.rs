use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(start = "2026-12-01T04:00:00Z", end = "2026-12-01T02:00:00Z")]
async fn payments() {}

fn main() {}
