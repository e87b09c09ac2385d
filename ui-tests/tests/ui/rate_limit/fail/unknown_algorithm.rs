use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", algorithm = leaky_bucket)]
async fn search() {}

fn main() {}
