use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only("dev", "my staging")]
async fn debug() {}

fn main() {}
