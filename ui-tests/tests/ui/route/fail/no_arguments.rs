use waygate::prelude::*;

#[route]
async fn items() {}

fn main() {}
