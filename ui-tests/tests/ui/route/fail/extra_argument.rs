use waygate::prelude::*;

#[route(GET, "/items", "/things")]
async fn items() {}

fn main() {}
