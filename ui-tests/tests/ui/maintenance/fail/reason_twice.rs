use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance("DB migration", reason = "again")]
async fn payments() {}

fn main() {}
