use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25%)]
async fn beta() {}

fn main() {}
