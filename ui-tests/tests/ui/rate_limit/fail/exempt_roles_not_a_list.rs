use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", exempt_roles = "admin")]
async fn search() {}

fn main() {}
