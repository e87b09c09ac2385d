use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only("dev", "")]
async fn debug() {}

fn main() {}
