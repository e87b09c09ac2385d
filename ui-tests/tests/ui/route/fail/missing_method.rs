use waygate::prelude::*;

#[route("/items")]
async fn items() {}

fn main() {}
