use waygate::prelude::*;

#[route(get, "/items")]
async fn items() {}

fn main() {}
