use waygate::prelude::*;

#[disabled]
async fn legacy() {}

fn main() {}
