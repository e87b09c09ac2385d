use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration")]
#[disabled(reason = "gone")]
async fn payments() {}

fn main() {}
