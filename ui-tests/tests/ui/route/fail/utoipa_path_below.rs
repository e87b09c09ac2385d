// utoipa expands first when written above `#[route]`: `#[route]` cannot see it.
use waygate::prelude::*;

#[utoipa::path(get, path = "/items", responses((status = 200)))]
#[route]
async fn items() {}

fn main() {}
