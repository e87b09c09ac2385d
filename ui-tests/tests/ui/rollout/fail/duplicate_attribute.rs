use waygate::prelude::*;

#[route(GET, "/beta")]
#[rollout(percent = 25)]
#[rollout(percent = 50)]
async fn beta() {}

fn main() {}
