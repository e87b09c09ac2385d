use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false, description = 42)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
