//! Runnable examples of waygate, one file each beside this crate's `Cargo.toml`: axum ports
//! of the Python original's FastAPI examples, with the same endpoints and behaviour.
//!
//! | example | shows |
//! |---|---|
//! | `basic` | every lifecycle attribute, enforced by `WaygateLayer` |
//! | `dependency_injection` | the same routes enforced per handler by the `Gate` extractor, no layer |
//! | `scheduled_maintenance` | a maintenance window that starts and ends by itself |
//! | `global_maintenance` | one switch that blocks every route, with exemptions |
//! | `custom_responses` | HTML pages, a redirect and plain text instead of the built-in JSON |
//! | `rate_limiting` | per-IP, per-user, per-API-key, global and tiered limits, window algorithms, burst, exempt IPs and a custom `429` |
//!
//! Run one from the repository root with `cargo run --example basic`; each file's header lists
//! its endpoints, the expected responses and the environment variables it reads.
//! `tests/examples.rs` starts every example binary and checks those promises over HTTP.
