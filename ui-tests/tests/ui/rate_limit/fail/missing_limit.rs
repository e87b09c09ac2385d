use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit(key = ip)]
async fn search() {}

fn main() {}
