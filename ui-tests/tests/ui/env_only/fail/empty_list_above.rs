use waygate::prelude::*;

#[env_only()]
#[route(GET, "/debug")]
async fn debug() {}

fn main() {}
