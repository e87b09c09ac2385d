use waygate::prelude::*;

#[route(GET, "/reports")]
#[rate_limit("10/minute", { pro = "100/minute", enterprise = "unlimited" })]
async fn reports() {}

fn main() {}
