use waygate::prelude::*;

#[route(GET, "/items")]
async fn items<T: Default>() {}

fn main() {}
