use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason)]
async fn payments() {}

fn main() {}
