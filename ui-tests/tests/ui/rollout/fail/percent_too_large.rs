use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 101)]
async fn beta() {}

fn main() {}
