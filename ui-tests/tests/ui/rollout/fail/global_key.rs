use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25, key = global)]
async fn beta() {}

fn main() {}
