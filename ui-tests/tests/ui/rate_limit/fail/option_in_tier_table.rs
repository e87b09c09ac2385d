use waygate::prelude::*;

// The table was closed too late: `key` is an option, not a tier.
#[route(GET, "/reports")]
#[rate_limit({ free = "10/minute", pro = "100/minute", key = api_key })]
async fn reports() {}

fn main() {}
