use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(response = "down for maintenance")]
async fn payments() {}

fn main() {}
