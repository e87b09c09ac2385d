use waygate::prelude::*;

#[route(GET, "/reports")]
#[rate_limit({ free = "10/minute", pro = "lots" })]
async fn reports() {}

fn main() {}
