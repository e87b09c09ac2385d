use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("100/minit")]
async fn search() {}

fn main() {}
