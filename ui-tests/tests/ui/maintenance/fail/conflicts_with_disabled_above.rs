use waygate::prelude::*;

// The same error as below `#[route]`, whatever the order.
#[disabled(reason = "gone")]
#[maintenance(reason = "DB migration")]
#[route(GET, "/payments")]
async fn payments() {}

fn main() {}
