use waygate::prelude::*;

// The Python `limits` library reads lists; a waygate route has one rate.
#[route(GET, "/search")]
#[rate_limit("1/second;100/hour")]
async fn search() {}

fn main() {}
