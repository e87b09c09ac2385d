use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25, percent = 30)]
async fn beta() {}

fn main() {}
