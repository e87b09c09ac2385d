//! `api/services`: the services that registered routes (server mode).

use super::super::AdminState;
use axum::extract::State;
use axum::Json;
use std::collections::BTreeSet;

/// `GET api/services`: sorted, distinct.
pub(super) async fn list(State(admin): State<AdminState>) -> Json<Vec<String>> {
    let services: BTreeSet<String> = admin
        .engine
        .list_states()
        .into_iter()
        .filter_map(|state| state.service)
        .collect();
    Json(services.into_iter().collect())
}
