use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration", reason = "again")]
async fn payments() {}

fn main() {}
