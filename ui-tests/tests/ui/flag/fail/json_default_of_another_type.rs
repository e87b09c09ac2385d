use waygate::flags::*;
use waygate::prelude::*;

#[derive(serde::Deserialize, serde::Serialize)]
struct Config {
    sidebar: bool,
}

#[flag(key = "feature-config", default = 5)]
static CONFIG: JsonFlag<Config>;

fn main() {}
