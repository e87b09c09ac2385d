use waygate::prelude::*;

#[route(GET, "/items/{id")]
async fn item() {}

fn main() {}
