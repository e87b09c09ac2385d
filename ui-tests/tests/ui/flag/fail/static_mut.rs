use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
static mut NEW_CHECKOUT: waygate::flags::BoolFlag;

fn main() {}
