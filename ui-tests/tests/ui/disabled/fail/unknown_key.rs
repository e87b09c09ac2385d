use waygate::prelude::*;

#[route(GET, "/legacy")]
#[disabled(reason = "gone", start = "2026-12-01T02:00:00Z")]
async fn legacy() {}

fn main() {}
