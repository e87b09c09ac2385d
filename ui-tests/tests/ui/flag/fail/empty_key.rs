use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "", default = false)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
