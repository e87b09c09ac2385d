use waygate::prelude::*;

#[feature_flag("new-checkout")]
async fn checkout_v2() {}

fn main() {}
