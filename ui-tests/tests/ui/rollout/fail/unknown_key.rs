use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percnt = 25)]
async fn beta() {}

fn main() {}
