use waygate::flags::*;
use waygate::prelude::*;

#[flag(default = false)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
