use waygate::prelude::*;

#[route(FETCH, "/items")]
async fn items() {}

fn main() {}
