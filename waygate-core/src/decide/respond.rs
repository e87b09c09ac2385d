//! Which response a refused request gets, in the one order every adapter follows.

use super::{LimitExceeded, Refusal};
use crate::snapshot::{Block, BlockKind};
use std::any::Any;
use std::sync::Arc;

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

/// An adapter's defaults for refused requests, by kind of refusal: what its `Responses`
/// builder fills with its type-erased factories (`B` for blocked requests, `L` for
/// rate-limited ones), and what [`Refusal::choose`] asks.
pub struct ResponseDefaults<B: ?Sized, L: ?Sized> {
    maintenance: Option<Arc<B>>,
    disabled: Option<Arc<B>>,
    env_gated: Option<Arc<B>>,
    rate_limited: Option<Arc<L>>,
}

impl<B: ?Sized, L: ?Sized> ResponseDefaults<B, L> {
    /// Sets the default for requests blocked with `kind` (maintenance, disabled or
    /// env-gated; other kinds keep the built-in response).
    pub fn set_blocked(&mut self, kind: BlockKind, factory: Arc<B>) {
        match kind {
            BlockKind::Maintenance => self.maintenance = Some(factory),
            BlockKind::Disabled => self.disabled = Some(factory),
            BlockKind::EnvGated => self.env_gated = Some(factory),
        }
    }

    /// Sets the default for rate-limited requests.
    pub fn set_rate_limited(&mut self, factory: Arc<L>) {
        self.rate_limited = Some(factory);
    }
}

impl<B: ?Sized, L: ?Sized> DefaultResponses for ResponseDefaults<B, L> {
    type Blocked = B;
    type RateLimited = L;

    fn blocked(&self, kind: BlockKind) -> Option<&B> {
        match kind {
            BlockKind::Maintenance => self.maintenance.as_deref(),
            BlockKind::Disabled => self.disabled.as_deref(),
            BlockKind::EnvGated => self.env_gated.as_deref(),
        }
    }

    fn rate_limited(&self) -> Option<&L> {
        self.rate_limited.as_deref()
    }
}

impl<B: ?Sized, L: ?Sized> Default for ResponseDefaults<B, L> {
    fn default() -> Self {
        Self {
            maintenance: None,
            disabled: None,
            env_gated: None,
            rate_limited: None,
        }
    }
}

impl<B: ?Sized, L: ?Sized> Clone for ResponseDefaults<B, L> {
    fn clone(&self) -> Self {
        Self {
            maintenance: self.maintenance.clone(),
            disabled: self.disabled.clone(),
            env_gated: self.env_gated.clone(),
            rate_limited: self.rate_limited.clone(),
        }
    }
}

impl<B: ?Sized, L: ?Sized> std::fmt::Debug for ResponseDefaults<B, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseDefaults")
            .field("maintenance", &self.maintenance.is_some())
            .field("disabled", &self.disabled.is_some())
            .field("env_gated", &self.env_gated.is_some())
            .field("rate_limited", &self.rate_limited.is_some())
            .finish()
    }
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
