use waygate::prelude::*;

#[env_only("dev")]
#[route(GET, "/debug")]
#[deprecated_route(use_instead = "/v2/debug")]
async fn debug() {}

fn main() {}
