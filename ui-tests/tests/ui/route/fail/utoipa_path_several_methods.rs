use waygate::prelude::*;

#[route]
#[utoipa::path(method(get, head), path = "/items", responses((status = 200)))]
async fn items() {}

fn main() {}
