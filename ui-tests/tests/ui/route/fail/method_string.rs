use waygate::prelude::*;

#[route("GET", "/items")]
async fn items() {}

fn main() {}
