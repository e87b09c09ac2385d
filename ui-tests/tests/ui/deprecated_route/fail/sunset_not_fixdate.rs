use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Friday, 01-Jan-27 00:00:00 GMT")]
async fn v1_users() {}

fn main() {}
