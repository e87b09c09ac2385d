use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", response = "slow down")]
async fn search() {}

fn main() {}
