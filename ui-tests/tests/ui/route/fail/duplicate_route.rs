use waygate::prelude::*;

#[route(GET, "/items")]
#[route(POST, "/items")]
async fn items() {}

fn main() {}
