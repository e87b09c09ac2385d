use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit(unlimited)]
async fn search() {}

fn main() {}
