use waygate::prelude::*;

#[route(GET, "/health")]
#[force_active]
#[rate_limit("10/second")]
async fn health() {}

fn main() {}
