// `response = ..` factories: sync and async functions, closures, paths into modules.
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::Router;
use waygate::prelude::*;
use waygate::Blocked;

fn sync_page(blocked: Blocked) -> Html<String> {
    Html(format!("<p>{}</p>", blocked.reason))
}

async fn async_page(blocked: Blocked) -> impl IntoResponse {
    (StatusCode::SERVICE_UNAVAILABLE, blocked.path)
}

mod pages {
    pub fn plain(_: waygate::Blocked) -> &'static str {
        "down"
    }
}

#[route(GET, "/sync")]
#[maintenance(response = sync_page)]
async fn sync() {}

#[route(GET, "/async")]
#[maintenance(reason = "r", response = async_page)]
async fn asynchronous() {}

#[route(GET, "/closure")]
#[maintenance(response = |blocked: Blocked| format!("down: {}", blocked.reason))]
async fn closure() {}

#[route(GET, "/async-closure")]
#[maintenance(response = |_| async { StatusCode::IM_A_TEAPOT })]
async fn async_closure() {}

#[maintenance(response = pages::plain)]
#[route(GET, "/module")]
async fn module() {}

fn main() {
    let _app: Router =
        Router::new().merge(routes![sync, asynchronous, closure, async_closure, module]);
    assert!(sync::META.response.is_some());
    assert!(module::META.response.is_some());
}
