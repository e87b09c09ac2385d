use waygate::prelude::*;

#[force_active]
#[disabled]
async fn health() {}

fn main() {}
