use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(start = "2026-12-01 02:00", end = "2026-12-01T25:00:00Z")]
async fn payments() {}

fn main() {}
