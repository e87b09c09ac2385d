//! The routes page's actions: each changes a route through the engine and answers the
//! route's new row (htmx swaps it in); global maintenance answers its panel. Errors answer
//! the API's `{"error": ..}` with its status, which the page shows as a toast.

use super::super::body::{capped, capped_list};
use super::super::error::ApiError;
use super::super::extract::PathKey;
use super::super::service_tokens::Holder;
use super::super::AdminState;
use super::context::Ctx;
use super::view::{
    render, Global, GlobalFragment, Row, RowFragment, ServiceFragment, ServicePanel,
    ServiceTokenFragment,
};
use crate::model::{MaintenanceWindow, RouteState};
use axum::extract::{Form, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

/// The fields of the action forms (each reads what it needs; the `csrf` field is the
/// middleware's).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    reason: String,
    start: String,
    end: String,
    envs: String,
    exempt_paths: String,
    include_force_active: String,
    service: String,
    limit: String,
    ttl_days: String,
}

impl Fields {
    /// The fields, if each is within the admin's caps (1 KB a text, 100 exempt paths).
    fn checked(self) -> Result<Self, ApiError> {
        capped("reason", &self.reason)?;
        capped("envs", &self.envs)?;
        capped("service", &self.service)?;
        capped("limit", &self.limit)?;
        capped("ttl_days", &self.ttl_days)?;
        let exempt: Vec<&str> = self.exempt_paths.lines().collect();
        capped_list("exempt_paths", &exempt)?;
        Ok(self)
    }
}

/// The row of a route's new state.
fn row(admin: &AdminState, state: &RouteState) -> Response {
    render(&RowFragment {
        row: Row::of(&admin.engine, state),
    })
}

/// A `datetime-local` value (`2026-05-01T12:00`, seconds optional), read as UTC; empty is
/// `None`.
fn datetime(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
    .map(|at| Some(at.and_utc()))
    .ok_or_else(|| ApiError::bad_request(format!("{field}: expected a date and time")))
}

/// The window of `start`..`end`, both or neither.
fn window(fields: &Fields) -> Result<Option<MaintenanceWindow>, ApiError> {
    match (
        datetime("start", &fields.start)?,
        datetime("end", &fields.end)?,
    ) {
        (Some(start), Some(end)) => Ok(Some(MaintenanceWindow::new(
            start,
            end,
            fields.reason.trim(),
        ))),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad_request("give both start and end, or neither")),
    }
}

/// `POST enable/{path_key}`.
pub(super) async fn enable(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
) -> Result<Response, ApiError> {
    let state = admin.engine.enable(&key, ctx.actor).await?;
    Ok(row(&admin, &state))
}

/// `POST disable/{path_key}` (field `reason`).
pub(super) async fn disable(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let state = admin
        .engine
        .disable(&key, fields.reason.trim(), ctx.actor)
        .await?;
    Ok(row(&admin, &state))
}

/// `POST maintenance/{path_key}` (fields `reason`, optional `start` and `end`).
pub(super) async fn maintenance(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let window = window(&fields)?;
    let state = admin
        .engine
        .set_maintenance(&key, fields.reason.trim(), window, ctx.actor)
        .await?;
    Ok(row(&admin, &state))
}

/// `POST env/{path_key}` (field `envs`, comma- or space-separated).
pub(super) async fn env(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let envs: Vec<&str> = fields
        .envs
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .collect();
    let state = admin.engine.set_env_only(&key, &envs, ctx.actor).await?;
    Ok(row(&admin, &state))
}

/// `POST schedule/{path_key}` (fields `start`, `end`, `reason`).
pub(super) async fn schedule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let Some(window) = window(&fields)? else {
        return Err(ApiError::bad_request("start and end are required"));
    };
    let state = admin
        .engine
        .schedule_maintenance(&key, window, ctx.actor)
        .await?;
    Ok(row(&admin, &state))
}

/// `POST cancel/{path_key}`: cancels the maintenance window.
pub(super) async fn cancel_schedule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
) -> Result<Response, ApiError> {
    let state = admin.engine.cancel_schedule(&key, ctx.actor).await?;
    Ok(row(&admin, &state))
}

/// `POST global-maintenance/enable` (fields `reason`, `exempt_paths` one a line,
/// `include_force_active=1`).
pub(super) async fn enable_global(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let exempt = fields
        .exempt_paths
        .lines()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let config = admin
        .engine
        .enable_global_maintenance(
            fields.reason.trim(),
            exempt,
            fields.include_force_active == "1",
            ctx.actor,
        )
        .await?;
    Ok(render(&GlobalFragment {
        global: Global::from(config),
    }))
}

/// `POST global-maintenance/disable`.
pub(super) async fn disable_global(
    State(admin): State<AdminState>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let config = admin.engine.disable_global_maintenance(ctx.actor).await?;
    Ok(render(&GlobalFragment {
        global: Global::from(config),
    }))
}

/// The service a service action names (field `service`).
fn service_of(fields: &Fields) -> Result<&str, ApiError> {
    match fields.service.trim() {
        "" => Err(ApiError::bad_request("service is required")),
        service => Ok(service),
    }
}

fn service_panel(admin: &AdminState, service: &str) -> Response {
    render(&ServiceFragment {
        panel: ServicePanel::of(admin, service),
    })
}

/// `POST service-maintenance/enable` (fields `service`, `reason`, `exempt_paths` one a line,
/// `include_force_active=1`): every route of the service answers `503`.
pub(super) async fn enable_service(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let service = service_of(&fields)?;
    let exempt = fields
        .exempt_paths
        .lines()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    admin
        .engine
        .enable_service_maintenance(
            service,
            fields.reason.trim(),
            exempt,
            fields.include_force_active == "1",
            ctx.actor,
        )
        .await?;
    Ok(service_panel(&admin, service))
}

/// `POST service-maintenance/disable` (field `service`).
pub(super) async fn disable_service(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let service = service_of(&fields)?;
    admin
        .engine
        .disable_service_maintenance(service, ctx.actor)
        .await?;
    Ok(service_panel(&admin, service))
}

/// `POST service-rl/set` (fields `service`, `limit`): every route of the service shares it.
pub(super) async fn set_service_limit(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let service = service_of(&fields)?;
    let policy = crate::rate_limit::GlobalRateLimitPolicy::new(fields.limit.trim());
    admin
        .engine
        .set_service_rate_limit(service, policy, ctx.actor)
        .await?;
    Ok(service_panel(&admin, service))
}

/// `POST service-rl/delete` (field `service`).
pub(super) async fn delete_service_limit(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let service = service_of(&fields)?;
    admin
        .engine
        .delete_service_rate_limit(service, ctx.actor)
        .await?;
    Ok(service_panel(&admin, service))
}

/// `POST service-token` (fields `service`, `ttl_days`, default 365): a token for the
/// service, shown once (see `api/tokens`).
pub(super) async fn create_service_token(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let fields = fields.checked()?;
    let service = service_of(&fields)?;
    let days: u64 = match fields.ttl_days.trim() {
        "" => 365,
        days => days
            .parse()
            .map_err(|_| ApiError::bad_request("ttl_days must be a whole number of days"))?,
    };
    let lifetime = std::time::Duration::from_secs(days.saturating_mul(86_400));
    let issued = admin
        .create_token(Holder::Service(service), Some(lifetime), &ctx.actor)
        .await?;
    Ok(render(&ServiceTokenFragment {
        service: service.to_owned(),
        token: issued.token,
        expires: issued.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }))
}
