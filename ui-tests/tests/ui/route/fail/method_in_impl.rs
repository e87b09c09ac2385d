use waygate::prelude::*;

struct Api;

impl Api {
    #[route(GET, "/items")]
    async fn items(&self) {}
}

fn main() {}
