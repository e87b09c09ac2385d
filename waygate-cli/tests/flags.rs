//! Our CLI's `flags` and `segments` commands against `waygate serve` (the same scenario
//! runs against the Python original's admin in `python_server.rs`).

mod support;

use support::{flag_scenario, Cli, Served};

#[test]
fn every_flag_and_segment_command_against_waygate_serve() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let cli = Cli::logged_in(&server.url);
    flag_scenario::run(&cli);
}
