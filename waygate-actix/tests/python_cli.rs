//! Wire compatibility through actix-web: the Python original's CLI (PyPI package `waygate`,
//! the version pinned in `scripts/python-cli-env`) drives the admin API of the real
//! `actix_basic` example, with the same story and checks as the axum `basic` example's test
//! (`examples/tests/python_cli.rs`; the story is `examples/tests/support/python_cli.rs`).
//!
//! Built only with the `python-cli` feature, and it needs the CLI: `scripts/test` runs
//!
//! ```text
//! WAYGATE_PYTHON_CLI="$(scripts/python-cli-env)" \
//!   cargo test -p waygate-actix --features python-cli --test python_cli
//! ```
//!
//! Without `WAYGATE_PYTHON_CLI` the test fails: a skipped test checks nothing.

// `drive_flags` drives the axum-only `feature_flags` example: unused here.
#[allow(dead_code)]
#[path = "../../examples/tests/support/python_cli.rs"]
mod story;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

#[test]
fn python_cli_drives_the_admin_api_of_actix_basic() {
    story::drive("actix_basic");
}
