use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", burst = -1)]
async fn search() {}

fn main() {}
