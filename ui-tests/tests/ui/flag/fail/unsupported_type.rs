use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: bool;

fn main() {}
