use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", burst = "10")]
async fn search() {}

fn main() {}
