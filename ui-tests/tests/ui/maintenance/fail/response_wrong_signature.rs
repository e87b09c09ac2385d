use waygate::prelude::*;

// A factory's signature is checked by rustc, at the factory.
fn page(reason: String) -> String {
    reason
}

#[route(GET, "/payments")]
#[maintenance(response = page)]
async fn payments() {}

fn main() {}
