//! `api/audit`: the audit log.

use super::super::error::ApiError;
use super::super::extract::Params;
use super::super::AdminState;
use crate::backend::AUDIT_CAPACITY;
use crate::model::{AuditEntry, AuditQuery};
use axum::extract::State;
use axum::Json;

/// `GET api/audit?route=&service=&limit=50`: newest first. `route` is an exact key;
/// `service` is applied before the limit (the Python original applied it after, returning
/// fewer entries than asked for).
pub(super) async fn list(
    State(admin): State<AdminState>,
    params: Params,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let limit = params.limit();
    let service = params.get("service");
    let mut query = AuditQuery::latest(match service {
        Some(_) => limit.max(AUDIT_CAPACITY),
        None => limit,
    });
    if let Some(route) = params.get("route") {
        query = query.route(route);
    }
    let mut entries = admin.engine.audit_log(&query).await?;
    if let Some(service) = service {
        entries.retain(|e| e.service.as_deref() == Some(service));
        entries.truncate(limit);
    }
    Ok(Json(entries))
}
