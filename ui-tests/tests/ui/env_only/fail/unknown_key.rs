use waygate::prelude::*;

#[route(GET, "/debug")]
#[env_only(envs = ["dev"])]
async fn debug() {}

fn main() {}
