use waygate::prelude::*;

// The runtime counts the period in seconds in a u64; this one does not fit.
#[route(GET, "/search")]
#[rate_limit("10/99999999999999999 years")]
async fn search() {}

fn main() {}
