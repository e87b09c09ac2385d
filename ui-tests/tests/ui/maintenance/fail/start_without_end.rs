use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration", start = "2026-12-01T02:00:00Z")]
async fn payments() {}

fn main() {}
