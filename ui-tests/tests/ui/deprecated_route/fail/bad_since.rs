use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(since = "last tuesday")]
async fn v1_users() {}

fn main() {}
