use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only]
async fn debug() {}

fn main() {}
