use waygate::prelude::*;

#[route(GET)]
async fn items() {}

fn main() {}
