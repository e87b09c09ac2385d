use waygate::prelude::*;

#[maintenance(reason = "DB migration", end = "2026-12-01T04:00:00Z")]
#[route(GET, "/payments")]
async fn payments() {}

fn main() {}
