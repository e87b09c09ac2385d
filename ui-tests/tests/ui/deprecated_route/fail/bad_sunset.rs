use waygate::prelude::*;

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "2027-01-01")]
async fn v1_users() {}

fn main() {}
