//! Which response a refused request gets, in the one order every adapter follows.

use super::{LimitExceeded, Refusal};
use crate::snapshot::{Block, BlockKind};
use std::any::Any;

/// An adapter's own default responses, by kind of refusal (its `Responses`).
pub trait DefaultResponses {
    /// A default response for blocked requests (the adapter's factory type).
    type Blocked: ?Sized;
    /// A default response for rate-limited requests.
    type RateLimited: ?Sized;

    /// The default for requests blocked with `kind`, if one is set.
    fn blocked(&self, kind: BlockKind) -> Option<&Self::Blocked>;

    /// The default for rate-limited requests, if one is set.
    fn rate_limited(&self) -> Option<&Self::RateLimited>;
}

/// The response a refusal gets: the route's own `response = ..` factory (`RB`, `RL`: the
/// types the adapter's attribute macros generate), else the adapter's default for that
/// kind of refusal (`D`), else the built-in JSON ([`Refusal::builtin_response`]).
#[derive(Debug)]
pub enum ResponseChoice<'r, 's, RB: 'static, RL: 'static, DB: ?Sized, DL: ?Sized> {
    /// The route's factory for a blocked request.
    RouteBlocked(&'static RB, &'r Block<'s>),
    /// The adapter's default for a blocked request.
    DefaultBlocked(&'r DB, &'r Block<'s>),
    /// The route's factory for a rate-limited request.
    RouteRateLimited(&'static RL, &'r LimitExceeded),
    /// The adapter's default for a rate-limited request.
    DefaultRateLimited(&'r DL, &'r LimitExceeded),
    /// The built-in response.
    Builtin,
}

impl<'s> Refusal<'s> {
    /// Chooses the response, in the order every adapter follows (see [`ResponseChoice`]).
    pub fn choose<'r, RB: Any, RL: Any, D: DefaultResponses>(
        &'r self,
        defaults: Option<&'r D>,
    ) -> ResponseChoice<'r, 's, RB, RL, D::Blocked, D::RateLimited> {
        let factory = self.route_factory();
        match self {
            Self::Blocked { block, .. } => {
                if let Some(factory) = factory.and_then(|f| f.downcast_ref::<RB>()) {
                    return ResponseChoice::RouteBlocked(factory, block);
                }
                if let Some(default) = defaults.and_then(|d| d.blocked(block.kind)) {
                    return ResponseChoice::DefaultBlocked(default, block);
                }
            }
            Self::RateLimited(limited) => {
                if let Some(factory) = factory.and_then(|f| f.downcast_ref::<RL>()) {
                    return ResponseChoice::RouteRateLimited(factory, limited);
                }
                if let Some(default) = defaults.and_then(DefaultResponses::rate_limited) {
                    return ResponseChoice::DefaultRateLimited(default, limited);
                }
            }
        }
        ResponseChoice::Builtin
    }
}
