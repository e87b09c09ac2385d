use waygate::prelude::*;

#[route(GET, "/health")]
#[force_active]
#[rollout(percent = 25)]
async fn health() {}

fn main() {}
