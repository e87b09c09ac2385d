// The path read from utoipa is checked like a written one.
use waygate::prelude::*;

#[route]
#[utoipa::path(get, path = "/items/:id", responses((status = 200)))]
async fn item() {}

fn main() {}
