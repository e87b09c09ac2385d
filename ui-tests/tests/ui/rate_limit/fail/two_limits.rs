use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("1/second", "2/second")]
async fn search() {}

fn main() {}
