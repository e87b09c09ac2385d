//! Loading the stored rate-limit policies into the engine's view (stored policies win over
//! declared ones on restart).

use super::Engine;
use crate::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use crate::EngineError;

impl Engine {
    /// Reads every stored policy.
    pub(super) async fn stored_policies(&self) -> Result<StoredPolicies, EngineError> {
        let backend = &self.inner.backend;
        Ok(StoredPolicies {
            routes: backend.rate_limit_policies().await?,
            global: backend.global_rate_limit_policy().await?,
            services: backend.service_rate_limit_policies().await?,
        })
    }
}

/// The policies a backend holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StoredPolicies {
    routes: Vec<RateLimitPolicy>,
    global: Option<GlobalRateLimitPolicy>,
    services: Vec<(String, GlobalRateLimitPolicy)>,
}

impl super::view::View {
    /// Puts stored policies over the declared ones (stored wins).
    /// Call it after [`replace_states`](Self::replace_states): the routes whose policy was
    /// deleted come from the stored records.
    pub(super) fn apply_policies(&mut self, stored: StoredPolicies) {
        self.limits.deleted = self.records.policies_off.clone();
        self.loaded_policies = Some(stored.clone());
        let metas = self.metas.clone();
        self.limits
            .apply_stored(&metas, stored.routes, stored.global, stored.services);
    }
}
