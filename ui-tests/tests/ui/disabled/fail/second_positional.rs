use waygate::prelude::*;

#[route(GET, "/legacy")]
#[disabled("gone", "really")]
async fn legacy() {}

fn main() {}
