use waygate::prelude::*;

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
async fn checkout_v2() {}

fn main() {}
