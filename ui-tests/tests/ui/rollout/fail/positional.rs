use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(25)]
async fn beta() {}

fn main() {}
