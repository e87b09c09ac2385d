//! The full pages: routes, audit log, rate limits, blocked requests.

use super::super::extract::Params;
use super::super::AdminState;
use super::context::Ctx;
use super::view::{render, AuditPage, BlockedPage, Global, RateLimitsPage, RoutesPage, Row};
use crate::model::{AuditQuery, HitQuery};
use axum::extract::State;
use axum::response::Response;
use std::collections::BTreeSet;

/// Rows on a page of the routes table.
const PAGE_SIZE: usize = 20;
/// Entries on the audit and blocked pages.
const NEWEST: usize = 100;

/// `GET /?service=&page=`: the routes, 20 a page, and global maintenance.
pub(super) async fn routes(State(admin): State<AdminState>, ctx: Ctx, params: Params) -> Response {
    let engine = &admin.engine;
    let mut states = engine.list_states();
    let services: BTreeSet<String> = states.iter().filter_map(|s| s.service.clone()).collect();
    let service = params.get("service").unwrap_or_default().to_owned();
    if !service.is_empty() {
        states.retain(|s| s.service.as_deref() == Some(service.as_str()));
    }
    let total = states.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = params
        .get("page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let now = engine.now();
    let counts = super::view::status_counts(&states, now);
    let rows = states
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|state| Row::of(engine, state))
        .collect();
    render(&RoutesPage {
        ctx,
        rows,
        global: Global::from(engine.global_maintenance()),
        services: services.into_iter().collect(),
        panel: (!service.is_empty()).then(|| super::view::ServicePanel::of(&admin, &service)),
        service,
        page,
        pages,
        total,
        counts,
        env: engine.current_env().to_owned(),
        strip: super::charts::strip(&admin).chart,
    })
}

/// `GET audit`: the newest 100 entries.
pub(super) async fn audit(State(admin): State<AdminState>, ctx: Ctx) -> Response {
    let entries = match admin.engine.audit_log(&AuditQuery::latest(NEWEST)).await {
        Ok(entries) => entries.into_iter().map(Into::into).collect(),
        Err(error) => {
            tracing::warn!(%error, "dashboard: could not read the audit log");
            Vec::new()
        }
    };
    render(&AuditPage { ctx, entries })
}

/// `GET rate-limits`: every per-route policy, with forms to add, edit, reset and delete.
pub(super) async fn rate_limits(State(admin): State<AdminState>, ctx: Ctx) -> Response {
    let policies = admin
        .engine
        .rate_limit_policies()
        .into_iter()
        .map(Into::into)
        .collect();
    render(&RateLimitsPage {
        ctx,
        policies,
        error: String::new(),
    })
}

/// `GET blocked`: the newest 100 blocked requests.
pub(super) async fn blocked(State(admin): State<AdminState>, ctx: Ctx) -> Response {
    let hits = match admin
        .engine
        .rate_limit_hits(&HitQuery::latest(NEWEST))
        .await
    {
        Ok(hits) => hits.into_iter().map(Into::into).collect(),
        Err(error) => {
            tracing::warn!(%error, "dashboard: could not read the blocked requests");
            Vec::new()
        }
    };
    render(&BlockedPage { ctx, hits })
}
