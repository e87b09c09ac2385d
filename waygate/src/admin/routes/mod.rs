//! The API's paths, methods and handlers (one module per area).

mod audit;
mod auth;
mod flags;
mod maintenance;
mod operator;
pub(super) mod rate_limits;
mod services;
mod states;

use super::error::ApiError;
use super::extract::authenticate;
use super::AdminState;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;

/// Every endpoint, behind the auth middleware (which lets only the exact public paths
/// through without a token, unknown paths included).
pub(super) fn router<S>(state: AdminState, extra: Router<AdminState>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let api = Router::new()
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/tokens", post(auth::create_service_token))
        .route("/api/routes", get(states::list))
        .route("/api/routes/{path_key}", get(states::get))
        .route("/api/routes/{path_key}/enable", post(states::enable))
        .route("/api/routes/{path_key}/disable", post(states::disable))
        .route(
            "/api/routes/{path_key}/maintenance",
            post(states::maintenance),
        )
        .route("/api/routes/{path_key}/env", post(states::env))
        .route("/api/routes/{path_key}/rollout", post(operator::rollout))
        .route("/api/bypass", post(operator::create_bypass))
        .route("/api/bypass/revoke", post(operator::revoke_bypass))
        .route("/bypass/{token}", get(operator::visit_bypass))
        .route(
            "/api/routes/{path_key}/schedule",
            post(states::schedule).delete(states::cancel_schedule),
        )
        .route("/api/audit", get(audit::list))
        .route("/api/flags", get(flags::list).post(flags::create))
        .route("/api/flags/stale", get(flags::stale))
        .route(
            "/api/flags/{key}",
            get(flags::get)
                .put(flags::replace)
                .patch(flags::patch)
                .delete(flags::delete),
        )
        .route("/api/flags/{key}/enable", post(flags::enable))
        .route("/api/flags/{key}/disable", post(flags::disable))
        .route("/api/flags/{key}/evaluate", post(flags::evaluate))
        .route(
            "/api/segments",
            get(flags::list_segments).post(flags::create_segment),
        )
        .route(
            "/api/segments/{key}",
            get(flags::get_segment)
                .put(flags::replace_segment)
                .delete(flags::delete_segment),
        )
        .route("/api/global", get(maintenance::global))
        .route("/api/global/enable", post(maintenance::enable_global))
        .route("/api/global/disable", post(maintenance::disable_global))
        .route("/api/services", get(services::list))
        .route(
            "/api/services/{service}/maintenance",
            get(maintenance::service),
        )
        .route(
            "/api/services/{service}/maintenance/enable",
            post(maintenance::enable_service),
        )
        .route(
            "/api/services/{service}/maintenance/disable",
            post(maintenance::disable_service),
        )
        .route(
            "/api/rate-limits",
            get(rate_limits::list).post(rate_limits::set),
        )
        .route("/api/rate-limits/hits", get(rate_limits::hits))
        .route("/api/rate-limits/{path_key}", delete(rate_limits::delete))
        .route(
            "/api/rate-limits/{path_key}/reset",
            delete(rate_limits::reset),
        )
        .route(
            "/api/global-rate-limit",
            get(rate_limits::global)
                .post(rate_limits::set_global)
                .delete(rate_limits::delete_global),
        )
        .route(
            "/api/global-rate-limit/reset",
            delete(rate_limits::reset_global),
        )
        .route(
            "/api/global-rate-limit/enable",
            post(rate_limits::enable_global),
        )
        .route(
            "/api/global-rate-limit/disable",
            post(rate_limits::disable_global),
        )
        .route(
            "/api/services/{service}/rate-limit",
            get(rate_limits::service)
                .post(rate_limits::set_service)
                .delete(rate_limits::delete_service),
        )
        .route(
            "/api/services/{service}/rate-limit/reset",
            delete(rate_limits::reset_service),
        )
        .route(
            "/api/services/{service}/rate-limit/enable",
            post(rate_limits::enable_service),
        )
        .route(
            "/api/services/{service}/rate-limit/disable",
            post(rate_limits::disable_service),
        );
    // The dashboard's pages at the root, behind the same auth.
    #[cfg(feature = "dashboard")]
    let api = api.merge(super::dashboard::router(state.clone()));
    // OFREP answers its own errors, and its preflights before auth.
    let ofrep = super::ofrep::router()
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(from_fn_with_state(state.clone(), super::cors::ofrep_cors));
    api.merge(extra)
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(from_fn(json_errors))
        .merge(ofrep)
        .with_state(state)
}

/// The longest error body of axum's own rejections that is kept as the message.
const MAX_ERROR_TEXT: usize = 4096;

/// Middleware around every API path: an error that axum answers itself (a body over the
/// limit, a wrong method, a wrong content type) is plain text or empty; it becomes the
/// API's `{"error": ..}` with the same status and headers (`Allow` included), so every
/// client reads every error the same way. The dashboard's pages keep their own errors.
async fn json_errors(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_ERROR_TEXT)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let message = match (status, text) {
        // axum adds `Allow` further out; the client sees it beside this.
        (StatusCode::METHOD_NOT_ALLOWED, _) => {
            format!("Method Not Allowed: this path does not take {method}")
        }
        (_, Some(text)) => text,
        (_, None) => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let body = serde_json::json!({ "error": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// Whether `path` (relative to the admin's mount point) is answered in JSON: everything
/// under `api/`, and with the dashboard off every path.
fn is_api(path: &str) -> bool {
    if cfg!(feature = "dashboard") {
        path == "/api" || path.starts_with("/api/")
    } else {
        true
    }
}

/// `404` as JSON, so the CLI shows a message.
async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// `{"ok": true}`.
fn ok() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"ok": true}))
}
