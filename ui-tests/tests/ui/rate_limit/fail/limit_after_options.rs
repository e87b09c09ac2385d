use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit(key = ip, "100/minute")]
async fn search() {}

fn main() {}
