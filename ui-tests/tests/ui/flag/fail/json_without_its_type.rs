use waygate::prelude::*;

#[flag(key = "feature-config", default = 5)]
static CONFIG: waygate::flags::JsonFlag;

fn main() {}
