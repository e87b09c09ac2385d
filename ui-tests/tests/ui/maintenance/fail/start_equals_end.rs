use waygate::prelude::*;

#[maintenance(start = "2026-12-01T04:00:00+02:00", end = "2026-12-01T02:00:00Z")]
#[route(GET, "/payments")]
async fn payments() {}

fn main() {}
