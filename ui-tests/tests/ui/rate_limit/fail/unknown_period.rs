use waygate::prelude::*;

// The grammar has no weeks: the error gives the rate in days.
#[route(GET, "/search")]
#[rate_limit("10/fortnight")]
async fn search() {}

fn main() {}
