use waygate::prelude::*;

#[route(GET, "/reports")]
#[rate_limit({ free = "10/minute", pro = "100/minute", free = "20/minute" })]
async fn reports() {}

fn main() {}
