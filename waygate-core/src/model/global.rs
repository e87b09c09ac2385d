use serde::{Deserialize, Serialize};

/// Global maintenance: when `enabled`, every route answers `503` except the exempt paths
/// (bare `"/health"` or method-qualified `"GET:/health"`) and, unless `include_force_active`,
/// the `#[force_active]` routes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
