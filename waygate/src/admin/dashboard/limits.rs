//! The rate-limit page's actions: each answers the policies table (with the error, if
//! any, above it).

use super::super::extract::PathKey;
use super::super::routes::rate_limits::route_key;
use super::super::AdminState;
use super::context::Ctx;
use super::view::{render, PoliciesFragment};
use crate::rate_limit::{Algorithm, KeyStrategy};
use crate::{Engine, EngineError, PolicyChange};
use axum::extract::{Form, State};
use axum::response::Response;
use serde::Deserialize;

/// The policy form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PolicyForm {
    path: String,
    method: String,
    limit: String,
    algorithm: String,
    key_strategy: String,
    burst: String,
}

/// The policies table, with `error` above it.
fn table(engine: &Engine, error: Option<EngineError>) -> Response {
    render(&PoliciesFragment {
        policies: engine
            .rate_limit_policies()
            .into_iter()
            .map(Into::into)
            .collect(),
        error: error.map(|e| e.to_string()).unwrap_or_default(),
    })
}

/// `METHOD:path` (a policy's id in the page) → the route key.
fn policy_key(engine: &Engine, key: &str) -> String {
    match key.split_once(':') {
        Some((method, path)) => route_key(engine, method, path),
        None => key.to_owned(),
    }
}

/// The change a form asks for (empty fields keep what is there).
fn change(form: &PolicyForm) -> Result<PolicyChange, EngineError> {
    let mut change = PolicyChange::new();
    if !form.algorithm.is_empty() {
        let algorithm: Algorithm =
            form.algorithm
                .parse()
                .map_err(|e: crate::rate_limit::ParseEnumError| {
                    EngineError::invalid("algorithm", e.to_string())
                })?;
        change = change.algorithm(algorithm);
    }
    if !form.key_strategy.is_empty() {
        let strategy: KeyStrategy =
            form.key_strategy
                .parse()
                .map_err(|e: crate::rate_limit::ParseEnumError| {
                    EngineError::invalid("key_strategy", e.to_string())
                })?;
        change = change.key_strategy(strategy);
    }
    if !form.burst.trim().is_empty() {
        let burst = form
            .burst
            .trim()
            .parse()
            .map_err(|_| EngineError::invalid("burst", "expected a whole number".to_owned()))?;
        change = change.burst(burst);
    }
    Ok(change)
}

/// `POST rl/add` (fields `path`, `method`, `limit`, `algorithm`, `key_strategy`, `burst`).
pub(super) async fn add(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(form): Form<PolicyForm>,
) -> Response {
    let engine = &admin.engine;
    let method = match form.method.trim() {
        "" => "GET".to_owned(),
        method => method.to_ascii_uppercase(),
    };
    let key = route_key(engine, &method, form.path.trim());
    let result = save(engine, &key, &form, ctx).await;
    table(engine, result.err())
}

/// `POST rl/edit/{path_key}` (key `METHOD:/path`; fields `limit`, `algorithm`,
/// `key_strategy`, `burst`).
pub(super) async fn edit(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
    Form(form): Form<PolicyForm>,
) -> Response {
    let engine = &admin.engine;
    let key = policy_key(engine, &key);
    let result = save(engine, &key, &form, ctx).await;
    table(engine, result.err())
}

/// Sets the policy of `key` from the form's fields.
async fn save(engine: &Engine, key: &str, form: &PolicyForm, ctx: Ctx) -> Result<(), EngineError> {
    let change = change(form)?;
    engine
        .set_rate_limit_policy(key, form.limit.trim(), change, ctx.actor)
        .await
        .map(drop)
}

/// `POST rl/reset/{path_key}` (key `METHOD:/path`): clears the policy's counters.
pub(super) async fn reset(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
) -> Response {
    let engine = &admin.engine;
    let key = policy_key(engine, &key);
    let result = engine.reset_rate_limit(&key, ctx.actor).await;
    table(engine, result.err())
}

/// `POST rl/delete/{path_key}` (key `METHOD:/path`).
pub(super) async fn delete(
    State(admin): State<AdminState>,
    ctx: Ctx,
    PathKey(key): PathKey,
) -> Response {
    let engine = &admin.engine;
    let key = policy_key(engine, &key);
    let result = engine.delete_rate_limit_policy(&key, ctx.actor).await;
    table(engine, result.err())
}
