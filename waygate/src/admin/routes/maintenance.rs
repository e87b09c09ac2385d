//! `api/global/*` and `api/services/{service}/maintenance/*`: maintenance of every route,
//! or of every route of one service.

use super::super::body::JsonObject;
use super::super::error::ApiError;
use super::super::extract::{Caller, Service};
use super::super::AdminState;
use crate::model::GlobalMaintenanceConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;

/// The body of an enable: `{"reason"?, "exempt_paths"?, "include_force_active"?}`, all
/// optional (so is the body).
struct Enable {
    reason: String,
    exempt_paths: Vec<String>,
    include_force_active: bool,
}

impl Enable {
    fn read(body: &[u8]) -> Result<Self, ApiError> {
        let body = JsonObject::optional(body)?;
        Ok(Self {
            reason: body.string("reason")?.unwrap_or_default().to_owned(),
            exempt_paths: body.strings("exempt_paths")?.unwrap_or_default(),
            include_force_active: body.bool("include_force_active")?.unwrap_or(false),
        })
    }
}

/// `GET api/global`.
pub(super) async fn global(State(admin): State<AdminState>) -> Json<GlobalMaintenanceConfig> {
    Json(admin.engine.global_maintenance())
}

/// `POST api/global/enable`: replaces the whole configuration (the exempt list is not
/// merged).
pub(super) async fn enable_global(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<GlobalMaintenanceConfig>, ApiError> {
    let enable = Enable::read(&body)?;
    let config = admin
        .engine
        .enable_global_maintenance(
            &enable.reason,
            enable.exempt_paths,
            enable.include_force_active,
            caller.actor(),
        )
        .await?;
    Ok(Json(config))
}

/// `POST api/global/disable`.
pub(super) async fn disable_global(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<GlobalMaintenanceConfig>, ApiError> {
    let config = admin
        .engine
        .disable_global_maintenance(caller.actor())
        .await?;
    Ok(Json(config))
}

/// `GET api/services/{service}/maintenance`: disabled when never set.
pub(super) async fn service(
    State(admin): State<AdminState>,
    Service(service): Service,
) -> Json<GlobalMaintenanceConfig> {
    Json(admin.engine.service_maintenance(&service))
}

/// `POST api/services/{service}/maintenance/enable`.
pub(super) async fn enable_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
    body: Bytes,
) -> Result<Json<GlobalMaintenanceConfig>, ApiError> {
    let enable = Enable::read(&body)?;
    let config = admin
        .engine
        .enable_service_maintenance(
            &service,
            &enable.reason,
            enable.exempt_paths,
            enable.include_force_active,
            caller.actor(),
        )
        .await?;
    Ok(Json(config))
}

/// `POST api/services/{service}/maintenance/disable`.
pub(super) async fn disable_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
) -> Result<Json<GlobalMaintenanceConfig>, ApiError> {
    let config = admin
        .engine
        .disable_service_maintenance(&service, caller.actor())
        .await?;
    Ok(Json(config))
}
