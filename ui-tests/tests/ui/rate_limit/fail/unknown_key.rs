use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", algoritm = token_bucket)]
async fn search() {}

fn main() {}
