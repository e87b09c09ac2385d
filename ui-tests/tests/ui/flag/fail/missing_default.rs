use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout")]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
