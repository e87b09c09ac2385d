//! What an app needs: `use waygate_actix::prelude::*;`.

pub use crate::{Engine, Gate, Waygate};

#[cfg(feature = "macros")]
pub use crate::{
    deprecated_route, disabled, env_only, force_active, maintenance, rate_limit, route, routes,
};
