use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25.5)]
async fn beta() {}

fn main() {}
