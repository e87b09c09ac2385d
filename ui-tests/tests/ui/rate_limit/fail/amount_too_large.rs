use waygate::prelude::*;

// More than a u64 holds.
#[route(GET, "/search")]
#[rate_limit("99999999999999999999/second")]
async fn search() {}

fn main() {}
