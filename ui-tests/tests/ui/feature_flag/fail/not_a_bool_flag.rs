use waygate::flags::IntFlag;
use waygate::prelude::*;

#[flag(key = "page-size", default = 10)]
static PAGE_SIZE: IntFlag;

#[route(GET, "/checkout/v2")]
#[feature_flag(PAGE_SIZE)]
async fn checkout_v2() {}

fn main() {}
