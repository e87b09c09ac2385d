use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minute", key = custom())]
async fn search() {}

fn main() {}
