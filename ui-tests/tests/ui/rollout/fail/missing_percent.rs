use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(key = user)]
async fn beta() {}

fn main() {}
