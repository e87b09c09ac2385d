use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25u8)]
async fn beta() {}

fn main() {}
