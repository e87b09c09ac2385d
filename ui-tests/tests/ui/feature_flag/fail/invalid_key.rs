use waygate::prelude::*;

#[route(GET, "/checkout/v2")]
#[feature_flag("new checkout")]
async fn checkout_v2() {}

fn main() {}
