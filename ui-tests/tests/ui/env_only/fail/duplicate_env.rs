use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only("dev", "staging", "dev")]
async fn debug() {}

fn main() {}
