//! Wire compatibility with a client nobody here wrote: the Python original's CLI (PyPI package
//! `waygate`, the version pinned in `scripts/python-cli-env`) drives the admin API of the real
//! `basic` example — and its `flags` and `segments` commands the `feature_flags` example —
//! and both the CLI's output and the example's answers are checked.
//!
//! Built only with the `python-cli` feature, and it needs the CLI: `scripts/test` runs
//!
//! ```text
//! WAYGATE_PYTHON_CLI="$(scripts/python-cli-env)" \
//!   cargo test -p waygate-examples --features python-cli --test python_cli
//! ```
//!
//! Without `WAYGATE_PYTHON_CLI` the test fails: a skipped test checks nothing.
//!
//! The CLI runs with a fresh `HOME` (its config file is `$HOME/.waygate/config.json`) and
//! working directory (it also reads a `.waygate` file found walking up from there), no
//! `WAYGATE_*` variables, a wide terminal (`COLUMNS`) so that rich does not wrap or truncate
//! its tables, and no standard input: `login` gets the password through the CLI's own
//! `--password` option, since its prompt (`getpass`) reads the controlling terminal rather
//! than stdin. Assertions look for table cells and phrases, not for a layout.

#[path = "support/python_cli.rs"]
mod story;
mod support;

#[test]
fn python_cli_drives_the_admin_api_of_basic() {
    story::drive("basic");
}

#[test]
fn python_cli_drives_the_flags_of_feature_flags() {
    story::drive_flags();
}
