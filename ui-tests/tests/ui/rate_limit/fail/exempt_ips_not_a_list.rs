use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", exempt_ips = "127.0.0.1")]
async fn search() {}

fn main() {}
