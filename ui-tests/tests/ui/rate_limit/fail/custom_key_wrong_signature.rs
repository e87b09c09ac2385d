use waygate::prelude::*;

// A custom key function's signature is checked by rustc, at the function.
fn tenant(_: &str) -> String {
    String::new()
}

#[route(GET, "/search")]
#[rate_limit("100/minute", key = custom(tenant))]
async fn search() {}

fn main() {}
