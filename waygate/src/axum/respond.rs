//! Turning a blocked request into a response: the route's factory, else the layer's
//! default for that kind of block, else the built-in JSON.

use super::layer::Responses;
use super::response::{builtin, BlockKind, Blocked, BoxResponseFuture, RouteResponse};
use crate::snapshot::Block;
use crate::Engine;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, Method, Uri};

/// The request as a factory may see it.
pub(crate) struct RequestView<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl<'a> From<&'a Parts> for RequestView<'a> {
    fn from(parts: &'a Parts) -> Self {
        Self {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
        }
    }
}

/// A response ready now, or one a factory is still producing.
pub(crate) enum Refusal {
    Ready(Response),
    Pending(BoxResponseFuture),
}

impl Refusal {
    pub(crate) async fn into_response(self) -> Response {
        match self {
            Self::Ready(response) => response,
            Self::Pending(future) => future.await,
        }
    }
}

pub(crate) fn refuse(
    engine: &Engine,
    block: &Block<'_>,
    request: RequestView<'_>,
    defaults: Option<&Responses>,
) -> Refusal {
    let kind = block.kind;
    engine.note_refused(
        block.rule.map_or(crate::UNMATCHED_ROUTE, |rule| rule.key()),
        crate::Refused::Blocked,
    );
    let route_factory = block
        .rule
        .and_then(|rule| rule.response())
        .and_then(|any| any.downcast_ref::<RouteResponse>())
        .map(|factory| factory.0);
    if let Some(factory) = route_factory {
        return Refusal::Pending(factory(blocked(engine, kind, block, &request)));
    }
    if let Some(factory) = defaults.and_then(|d| d.get(kind)) {
        return Refusal::Pending(factory(blocked(engine, kind, block, &request)));
    }
    Refusal::Ready(builtin(
        kind,
        block.reason,
        request.uri.path(),
        block.retry_after,
        || engine.now(),
    ))
}

fn blocked(
    engine: &Engine,
    kind: BlockKind,
    block: &Block<'_>,
    request: &RequestView<'_>,
) -> Blocked {
    Blocked {
        kind,
        reason: block.reason.to_owned(),
        path: request.uri.path().to_owned(),
        key: block.rule.map(|r| r.key().to_owned()),
        method: request.method.clone(),
        headers: request.headers.clone(),
        retry_after: block.retry_after,
        current_env: engine.current_env().to_owned(),
        allowed_envs: block.allowed_envs.to_vec(),
    }
}
