use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", exempt_ips = ["10.0.0.0/33", "fd00::/129", "10.0.0.0/x"])]
async fn search() {}

fn main() {}
