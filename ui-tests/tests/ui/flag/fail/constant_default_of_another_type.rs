use waygate::flags::*;
use waygate::prelude::*;

const LIMIT: i64 = 10;

#[flag(key = "new-checkout", default = LIMIT)]
static NEW_CHECKOUT: BoolFlag;

fn main() {}
