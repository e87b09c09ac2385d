use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Sat, 01 Jan 2027 00:00:00 GMT")]
async fn v1_users() {}

fn main() {}
