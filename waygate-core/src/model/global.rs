use serde::{Deserialize, Serialize};

/// Global maintenance: when `enabled`, every route answers `503` except the exempt paths
/// (bare `"/health"` or method-qualified `"GET:/health"`) and, unless `include_force_active`,
/// the `#[force_active]` routes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GlobalMaintenanceConfig {
    /// Whether global maintenance is on.
    #[serde(default)]
    pub enabled: bool,
    /// Why; shown in the `503` body.
    #[serde(default)]
    pub reason: String,
    /// Paths still served during global maintenance.
    #[serde(default)]
    pub exempt_paths: Vec<String>,
    /// Whether `#[force_active]` routes are blocked too.
    #[serde(default)]
    pub include_force_active: bool,
}

impl GlobalMaintenanceConfig {
    /// Global maintenance on, for `reason`, with no exempt paths.
    pub fn enabled(reason: impl Into<String>) -> Self {
        Self {
            enabled: true,
            reason: reason.into(),
            ..Self::default()
        }
    }

    /// These paths (bare `"/health"` or `"GET:/health"`) are still served.
    pub fn exempt_paths(mut self, paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exempt_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `#[force_active]` routes are blocked too.
    pub fn include_force_active(mut self, include: bool) -> Self {
        self.include_force_active = include;
        self
    }
}
