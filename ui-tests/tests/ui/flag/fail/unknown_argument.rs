use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false, owner = "payments")]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
