use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a route is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteStatus {
    /// Served normally.
    #[default]
    Active,
    /// Temporarily unavailable: `503 MAINTENANCE_MODE`.
    Maintenance,
    /// Switched off: `503 ROUTE_DISABLED`.
    Disabled,
    /// Served only in the listed environments; `404` elsewhere.
    EnvGated,
    /// Served, with `Deprecation`, `Sunset` and `Link` headers.
    Deprecated,
}

impl RouteStatus {
    /// The wire name: `"active"`, `"maintenance"`, `"disabled"`, `"env_gated"`, `"deprecated"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Maintenance => "maintenance",
            Self::Disabled => "disabled",
            Self::EnvGated => "env_gated",
            Self::Deprecated => "deprecated",
        }
    }
}

impl fmt::Display for RouteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
