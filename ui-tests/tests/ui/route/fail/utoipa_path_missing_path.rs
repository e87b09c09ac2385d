use waygate::prelude::*;

#[route]
#[utoipa::path(get, responses((status = 200)))]
async fn items() {}

fn main() {}
