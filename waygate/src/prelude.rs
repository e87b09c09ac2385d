//! What an app needs: `use waygate::prelude::*;`.

pub use crate::{Engine, Gate, WaygateLayer, WaygateRouter};

#[cfg(feature = "macros")]
pub use crate::{
    deprecated_route, disabled, env_only, feature_flag, flag, force_active, maintenance,
    rate_limit, rollout, route, routes,
};

#[cfg(feature = "webhooks")]
pub use crate::webhooks::EngineWebhooks as _;
