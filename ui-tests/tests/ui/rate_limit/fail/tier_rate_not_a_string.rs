use waygate::prelude::*;

#[route(GET, "/reports")]
#[rate_limit({ free = 10 })]
async fn reports() {}

fn main() {}
