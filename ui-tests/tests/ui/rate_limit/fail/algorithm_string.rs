use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", algorithm = "fixed_window")]
async fn search() {}

fn main() {}
