use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", burst = 4294967296)]
async fn search() {}

fn main() {}
