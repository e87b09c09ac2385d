use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason = 42)]
async fn payments() {}

fn main() {}
