use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new checkout", default = false)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
