use waygate::prelude::*;

#[route(GET, "/reports")]
#[rate_limit({}, key = user)]
async fn reports() {}

fn main() {}
