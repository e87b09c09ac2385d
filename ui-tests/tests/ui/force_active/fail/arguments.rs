use waygate::prelude::*;

#[route(GET, "/health")]
#[force_active(true)]
async fn health() {}

fn main() {}
