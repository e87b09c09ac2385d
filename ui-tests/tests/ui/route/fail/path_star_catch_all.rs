use waygate::prelude::*;

#[route(GET, "/files/*path")]
async fn file() {}

fn main() {}
