use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: waygate::flags::BoolFlag = waygate::flags::BoolFlag;

fn main() {}
