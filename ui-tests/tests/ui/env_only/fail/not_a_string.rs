use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only(dev, staging)]
async fn debug() {}

fn main() {}
