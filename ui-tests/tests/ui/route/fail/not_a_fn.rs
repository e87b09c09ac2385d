use waygate::prelude::*;

#[route(GET, "/items")]
pub struct Items {
    count: u32,
}

fn main() {}
