// Every HTTP method, and the method filter `routes![..]` mounts each with.
use axum::routing::MethodFilter;
use axum::Router;
use waygate::prelude::*;

#[route(GET, "/r")]
async fn get() {}
#[route(POST, "/r")]
async fn post() {}
#[route(PUT, "/r")]
async fn put() {}
#[route(DELETE, "/r")]
async fn delete() {}
#[route(PATCH, "/r")]
async fn patch() {}
#[route(HEAD, "/r")]
async fn head() {}
#[route(OPTIONS, "/r")]
async fn options() {}
#[route(TRACE, "/r")]
async fn trace() {}
#[route(CONNECT, "/r")]
async fn connect() {}

fn main() {
    let _app: Router = Router::new().merge(routes![
        get, post, put, delete, patch, head, options, trace, connect
    ]);
    assert_eq!(get::METHOD_FILTER, MethodFilter::GET);
    assert_eq!(connect::METHOD_FILTER, MethodFilter::CONNECT);
    assert_eq!(options::KEY, "OPTIONS:/r");
    assert_eq!(trace::METHOD, "TRACE");
}
