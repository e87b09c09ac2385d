//! The web dashboard, at the admin's root (feature `dashboard`): server-rendered pages
//! (askama, HTML-escaped by default), htmx built into the binary for the actions, and live
//! row updates over SSE.
//!
//! | path | what |
//! |---|---|
//! | `GET login` · `POST login` · `GET logout` | the session (cookie `waygate_session`) |
//! | `GET /` | routes (`?service=`, `?page=`, 20 a page) and global maintenance |
//! | `GET audit` · `GET rate-limits` · `GET blocked` | audit log, rate-limit policies, blocked requests |
//! | `GET traffic` | charts of refused requests per minute over the last hour, in total and per route (the routes page shows the total above the table) |
//! | `GET events` | SSE: `event: waygate:update:{slug}` with the route's new row; `waygate:chart-strip` and `waygate:charts` with the charts when their numbers change |
//! | `POST enable/{path_key}` · `disable/..` · `maintenance/..` · `env/..` · `schedule/..` · `cancel/..` | a route action; answers the new row |
//! | `POST global-maintenance/enable` · `/disable` | answers the global panel |
//! | `POST rl/add` · `rl/edit/{k}` · `rl/reset/{k}` · `rl/delete/{k}` | answers the policies table |
//! | `GET static/*` | htmx, the dashboard's script and style sheet |
//!
//! Every `POST` needs the session's CSRF token ([`csrf`]): `403` without it.

mod actions;
mod assets;
mod charts;
mod context;
mod csrf;
mod events;
mod limits;
mod pages;
mod session;
mod view;

use super::AdminState;
use axum::extract::{OriginalUri, Request};
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// The dashboard's paths; the caller adds the auth middleware and the state.
pub(super) fn router(state: AdminState) -> Router<AdminState> {
    // Every state-changing path: behind the CSRF check.
    let actions = Router::new()
        .route("/enable/{path_key}", post(actions::enable))
        .route("/disable/{path_key}", post(actions::disable))
        .route("/maintenance/{path_key}", post(actions::maintenance))
        .route("/env/{path_key}", post(actions::env))
        .route("/schedule/{path_key}", post(actions::schedule))
        .route("/cancel/{path_key}", post(actions::cancel_schedule))
        .route("/global-maintenance/enable", post(actions::enable_global))
        .route("/global-maintenance/disable", post(actions::disable_global))
        .route("/service-maintenance/enable", post(actions::enable_service))
        .route(
            "/service-maintenance/disable",
            post(actions::disable_service),
        )
        .route("/service-rl/set", post(actions::set_service_limit))
        .route("/service-rl/delete", post(actions::delete_service_limit))
        .route("/service-token", post(actions::create_service_token))
        .route("/rl/add", post(limits::add))
        .route("/rl/edit/{path_key}", post(limits::edit))
        .route("/rl/reset/{path_key}", post(limits::reset))
        .route("/rl/delete/{path_key}", post(limits::delete))
        .route_layer(from_fn_with_state(state, csrf::require));
    Router::new()
        .route("/", get(pages::routes))
        .route("/audit", get(pages::audit))
        .route("/rate-limits", get(pages::rate_limits))
        .route("/blocked", get(pages::blocked))
        .route("/traffic", get(charts::page))
        .route("/events", get(events::events))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", get(session::logout))
        .route("/static/htmx.min.js", get(assets::htmx))
        .route("/static/waygate.js", get(assets::script))
        .route("/static/waygate.css", get(assets::style))
        .merge(actions)
}

/// Where the admin is mounted (`/waygate`; empty at the root), from the original URI and
/// the path the nested router sees.
pub(super) fn mount_prefix(original: Option<&OriginalUri>, path: &str) -> String {
    let Some(OriginalUri(original)) = original else {
        return String::new();
    };
    let full = original.path();
    match full.strip_suffix(path) {
        Some(prefix) => prefix.to_owned(),
        // `/waygate` nested at `/waygate` arrives as `/`.
        None if path == "/" => full.trim_end_matches('/').to_owned(),
        None => String::new(),
    }
}

/// `302` to the login page: what a page answers without a session.
pub(super) fn to_login(request: &Request) -> Response {
    let prefix = mount_prefix(request.extensions().get(), request.uri().path());
    redirect(&format!("{prefix}/login"))
}

/// `302 Found` to `location`.
fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}
