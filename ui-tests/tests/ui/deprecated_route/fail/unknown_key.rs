use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(successor = "/v2/users")]
async fn v1_users() {}

fn main() {}
