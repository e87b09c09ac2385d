use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", key = user, on_missing_key = "block")]
async fn search() {}

fn main() {}
