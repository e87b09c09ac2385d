use waygate::prelude::*;

#[rate_limit("10/second")]
#[route(GET, "/search")]
#[rate_limit("100/minute")]
async fn search() {}

fn main() {}
