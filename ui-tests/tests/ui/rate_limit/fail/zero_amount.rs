use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("0 per second")]
async fn search() {}

fn main() {}
