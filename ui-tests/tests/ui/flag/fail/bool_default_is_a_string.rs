use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = "yes")]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
