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
//! | `GET events` | SSE: `event: waygate:update:{slug}` with the route's new row; `waygate:chart-strip` and `waygate:charts` with the charts when their numbers change; `waygate:flags` when a flag or segment changed (the flag pages re-read their table or body) |
//! | `POST enable/{path_key}` · `disable/..` · `maintenance/..` · `env/..` · `schedule/..` · `cancel/..` | a route action; answers the new row |
//! | `POST global-maintenance/enable` · `/disable` | answers the global panel |
//! | `POST rl/add` · `rl/edit/{k}` · `rl/reset/{k}` · `rl/delete/{k}` | answers the policies table |
//! | `GET flags` · `GET flags/rows` · `GET flags/{key}` | feature flags (`?q=&type=&status=`), a flag's page |
//! | `POST flags/create` · `flags/{key}/enable` · `/disable` · `/delete` · `/settings` · `/variations` · `/rules` · `/rules/{id}/delete` · `/prerequisites` · `/prerequisites/remove` · `/targets` · `/evaluate` | flag actions; answer the table or the page body |
//! | `GET segments` · `GET segments/{key}` · `POST segments/create` · `segments/{key}/save` · `/rules` · `/rules/{id}/delete` · `/delete` | segments |
//! | `GET static/*` | htmx, the dashboard's script and style sheet |
//!
//! Every `POST` needs the session's CSRF token ([`csrf`]): `403` without it.

mod actions;
mod assets;
mod charts;
mod context;
mod csrf;
mod events;
mod flag_view;
mod flags;
mod limits;
mod pages;
mod segments;
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
        .route("/flags/create", post(flags::create))
        .route("/flags/{key}/enable", post(flags::enable))
        .route("/flags/{key}/disable", post(flags::disable))
        .route("/flags/{key}/delete", post(flags::delete))
        .route("/flags/{key}/settings", post(flags::settings))
        .route("/flags/{key}/variations", post(flags::variations))
        .route("/flags/{key}/rules", post(flags::add_rule))
        .route("/flags/{key}/rules/{id}/delete", post(flags::delete_rule))
        .route("/flags/{key}/prerequisites", post(flags::add_prerequisite))
        .route(
            "/flags/{key}/prerequisites/remove",
            post(flags::remove_prerequisite),
        )
        .route("/flags/{key}/targets", post(flags::targets))
        .route("/flags/{key}/evaluate", post(flags::evaluate))
        .route("/segments/create", post(segments::create))
        .route("/segments/{key}/save", post(segments::save))
        .route("/segments/{key}/rules", post(segments::add_rule))
        .route(
            "/segments/{key}/rules/{id}/delete",
            post(segments::delete_rule),
        )
        .route("/segments/{key}/delete", post(segments::delete))
        .route_layer(from_fn_with_state(state, csrf::require));
    Router::new()
        .route("/", get(pages::routes))
        .route("/audit", get(pages::audit))
        .route("/rate-limits", get(pages::rate_limits))
        .route("/blocked", get(pages::blocked))
        .route("/traffic", get(charts::page))
        .route("/flags", get(flags::page))
        .route("/flags/rows", get(flags::rows))
        .route("/flags/{key}", get(flags::detail))
        .route("/flags/{key}/body", get(flags::body))
        .route("/segments", get(segments::page))
        .route("/segments/rows", get(segments::rows))
        .route("/segments/{key}", get(segments::detail))
        .route("/segments/{key}/body", get(segments::body))
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

/// A page that says `message` (a flag or segment that does not exist), `404`.
fn missing(ctx: context::Ctx, message: &str, back: &'static str, label: &str) -> Response {
    let page = flag_view::MissingPage {
        ctx,
        message,
        back,
        label,
    };
    (StatusCode::NOT_FOUND, view::render(&page)).into_response()
}

/// `302 Found` to `location`.
fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}
