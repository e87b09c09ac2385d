use waygate::prelude::*;

#[route(GET, "/files/{*path}/meta")]
async fn file() {}

fn main() {}
