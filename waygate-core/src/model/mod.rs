//! The data every part of waygate shares: route states, maintenance windows, the global
//! maintenance switch and audit entries. Their JSON form is the Python original's, field for
//! field, so both ecosystems' tools read each other's data.

mod audit;
mod global;
mod state;
mod status;

pub use audit::{Actor, AuditEntry, AuditQuery, HitQuery};
pub use global::GlobalMaintenanceConfig;
pub use state::{MaintenanceWindow, RouteState};
pub use status::RouteStatus;
