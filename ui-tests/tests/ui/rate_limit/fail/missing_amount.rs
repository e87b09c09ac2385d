use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("per minute")]
async fn search() {}

fn main() {}
