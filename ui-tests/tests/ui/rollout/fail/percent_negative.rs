use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = -5)]
async fn beta() {}

fn main() {}
