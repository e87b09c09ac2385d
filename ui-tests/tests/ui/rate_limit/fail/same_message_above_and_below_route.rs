use waygate::prelude::*;

// Above or below `#[route]`, the same mistake gives the same error at the same token.
#[rate_limit("10/min", burst = 5)]
#[route(GET, "/above")]
async fn above() {}

#[route(GET, "/below")]
#[rate_limit("10/min", burst = 5)]
async fn below() {}

fn main() {}
