use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route("/v2/users")]
async fn v1_users() {}

fn main() {}
