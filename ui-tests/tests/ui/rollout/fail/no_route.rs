use waygate::prelude::*;

#[rollout(percent = 25)]
async fn beta() {}

fn main() {}
