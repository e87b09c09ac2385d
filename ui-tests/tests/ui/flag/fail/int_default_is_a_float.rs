use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "page-size", default = 10.5)]
static PAGE_SIZE: IntFlag;

fn main() {}
