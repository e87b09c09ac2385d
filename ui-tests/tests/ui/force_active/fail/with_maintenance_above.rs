use waygate::prelude::*;

#[force_active]
#[maintenance]
#[route(GET, "/health")]
async fn health() {}

fn main() {}
