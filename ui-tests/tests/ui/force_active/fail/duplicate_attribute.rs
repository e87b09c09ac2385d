use waygate::prelude::*;

#[route(GET, "/health")]
#[force_active]
#[force_active]
async fn health() {}

fn main() {}
