use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", key = ip, key = user)]
async fn search() {}

fn main() {}
