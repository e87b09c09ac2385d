use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reson = "DB migration")]
async fn payments() {}

fn main() {}
