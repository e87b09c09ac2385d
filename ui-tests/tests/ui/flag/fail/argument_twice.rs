use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false, default = true)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
