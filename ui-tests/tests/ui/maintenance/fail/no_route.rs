use waygate::prelude::*;

#[maintenance(reason = "DB migration")]
async fn payments() {}

fn main() {}
