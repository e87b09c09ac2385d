use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(use_instead = "v2 users")]
async fn v1_users() {}

fn main() {}
