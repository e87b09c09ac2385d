use waygate::prelude::*;

#[route(GET, "/legacy")]
#[disabled = "gone"]
async fn legacy() {}

fn main() {}
