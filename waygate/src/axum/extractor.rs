use super::limit::{enforce, enforce_shared, needs_shared, LimitHeaders, LimitsEnforced};
use super::respond::{refuse, RequestView};
use crate::snapshot::{DeprecationHeaders, Pass, Verdict};
use crate::Engine;
use axum::extract::{FromRef, FromRequestParts, MatchedPath};
use axum::response::{IntoResponseParts, Response, ResponseParts};
use http::header;
use http::request::Parts;
use std::convert::Infallible;
use std::sync::Arc;

/// Enforces the handler's route state without [`WaygateLayer`](super::WaygateLayer): for
/// apps (or single routes) that run without the middleware. A blocked request is refused
/// with the same response the layer would send (the route's `response = ..` factory, else
/// the built-in JSON).
///
/// The engine comes from the router state (`Engine: FromRef<S>`). Return the gate from the
/// handler to add the `Deprecation`/`Sunset`/`Link` headers of a deprecated route and the
/// `X-RateLimit-*` headers of a rate-limited one. The gate applies the route's rate limit
/// with the same counters as the layer.
///
/// ```
/// use axum::{routing::get, Router};
/// use waygate::prelude::*;
///
/// #[route(GET, "/v1/users")]
/// #[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
/// async fn v1_users(gate: Gate) -> (Gate, &'static str) {
///     (gate, "[]")
/// }
///
/// let engine = Engine::new();
/// let app: Router = Router::new().merge(routes![v1_users]).with_state(engine);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Gate {
    deprecation: Option<DeprecationHeaders>,
    limits: Option<LimitHeaders>,
}

impl Gate {
    /// Whether the route is deprecated (its response should carry the deprecation headers).
    pub fn is_deprecated(&self) -> bool {
        self.deprecation.is_some()
    }
}

impl<S> FromRequestParts<S> for Gate
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let engine = Engine::from_ref(state);
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let refusal = {
            let snapshot = engine.snapshot();
            match snapshot.check(&parts.method, template, parts.uri.path(), || engine.now()) {
                Verdict::Pass(Pass::ForceActive) => return Ok(Self::default()),
                Verdict::Pass(Pass::Unknown) => {
                    if let Some(template) = template {
                        engine.note_unknown_route(&parts.method, template);
                    }
                    return Ok(Self::default());
                }
                Verdict::Pass(Pass::Route(rule))
                    if parts.extensions.get::<LimitsEnforced>().is_some() =>
                {
                    return Ok(Self {
                        deprecation: rule.deprecation().cloned(),
                        limits: None,
                    })
                }
                Verdict::Pass(Pass::Route(rule))
                    if needs_shared(&snapshot, rule, parts, template.unwrap_or_default()) =>
                {
                    // Counted below, once the snapshot guard (not `Send`) is released.
                    Err(Arc::clone(rule))
                }
                Verdict::Pass(Pass::Route(rule)) => {
                    let template = template.unwrap_or_default();
                    match enforce(&engine, &snapshot, rule, parts, template, None) {
                        Ok(limits) => {
                            return Ok(Self {
                                deprecation: rule.deprecation().cloned(),
                                limits,
                            })
                        }
                        Err(refusal) => Ok(refusal),
                    }
                }
                Verdict::Block(block) => {
                    Ok(refuse(&engine, &block, RequestView::from(&*parts), None))
                }
            }
        };
        let refusal = match refusal {
            Ok(refusal) => refusal,
            Err(rule) => {
                let snapshot = engine.snapshot_full();
                let template = template.unwrap_or_default();
                match enforce_shared(&engine, &snapshot, &rule, parts, template, None).await {
                    Ok(limits) => {
                        return Ok(Self {
                            deprecation: rule.deprecation().cloned(),
                            limits,
                        })
                    }
                    Err(refusal) => refusal,
                }
            }
        };
        Err(refusal.into_response().await)
    }
}

impl IntoResponseParts for Gate {
    type Error = Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(limits) = &self.limits {
            limits.apply(parts.headers_mut());
        }
        if let Some(headers) = self.deprecation {
            let map = parts.headers_mut();
            map.insert("deprecation", headers.deprecation);
            if let Some(sunset) = headers.sunset {
                map.insert("sunset", sunset);
            }
            if let Some(link) = headers.link {
                map.append(header::LINK, link);
            }
        }
        Ok(parts)
    }
}
