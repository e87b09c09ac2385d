use waygate::prelude::*;

#[maintenance(reason = "first")]
#[route(GET, "/payments")]
#[maintenance(reason = "second")]
async fn payments() {}

fn main() {}
