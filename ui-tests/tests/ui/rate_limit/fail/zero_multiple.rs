use waygate::prelude::*;

#[route(GET, "/search")]
#[rate_limit("5/0 hours")]
async fn search() {}

fn main() {}
