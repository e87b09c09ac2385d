use waygate::prelude::*;

// Written as a Python or JSON dictionary.
#[route(GET, "/reports")]
#[rate_limit({ "free": "10/minute", "pro": "100/minute" })]
async fn reports() {}

fn main() {}
