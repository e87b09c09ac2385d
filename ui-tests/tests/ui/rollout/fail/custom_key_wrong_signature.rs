use waygate::prelude::*;

// A custom key function's signature is checked by rustc, at the function.
fn tenant(_: &str) -> String {
    String::new()
}

#[route(GET, "/beta")]
#[rollout(percent = 25, key = custom(tenant))]
async fn beta() {}

fn main() {}
