use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
fn new_checkout() -> bool {
    false
}

fn main() {}
