use waygate::prelude::*;

#[rate_limit("100 minute")]
#[route(GET, "/search")]
async fn search() {}

fn main() {}
