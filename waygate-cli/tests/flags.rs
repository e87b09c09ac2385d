//! Our CLI's `flags` and `segments` commands against `waygate serve` (the same scenario
//! runs against the Python original's admin in `python_server.rs`), and our SDK following
//! what they change there.

mod support;

use support::{flag_scenario, Cli, Served};

#[test]
fn every_flag_and_segment_command_against_waygate_serve() {
    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let cli = Cli::logged_in(&server.url);
    flag_scenario::run(&cli);
}

/// Our SDK, attached to a `waygate serve` process, evaluates what our CLI changes there.
#[test]
fn our_sdk_follows_what_the_cli_changes_on_waygate_serve() {
    use std::time::{Duration, Instant};
    use waygate::flags::EvaluationContext;
    use waygate::sdk::WaygateSdk;

    let server = Served::start(&["--auth", "admin:secret", "--secret-key", "k"]);
    let cli = Cli::logged_in(&server.url);
    cli.ok(&["flags", "create", "new-checkout", "-n", "New checkout"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sdk = runtime.block_on(async {
        let sdk = WaygateSdk::builder(&server.url, "shop")
            .login("admin", "secret")
            .build()
            .unwrap();
        sdk.start().await.unwrap();
        sdk
    });
    let evaluates = |user: &str, want: bool| {
        let ctx = EvaluationContext::new(user);
        let deadline = Instant::now() + Duration::from_secs(15);
        while sdk.engine().flags().bool("new-checkout", &ctx, !want) != want {
            assert!(
                Instant::now() < deadline,
                "new-checkout for {user} never became {want}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    evaluates("u1", false);
    cli.ok(&["flags", "target", "new-checkout", "-v", "on", "-k", "u1"]);
    evaluates("u1", true);
    evaluates("u2", false);
    cli.ok(&["flags", "edit", "new-checkout", "--fallthrough", "on"]);
    evaluates("u2", true);
    cli.ok(&["flags", "disable", "new-checkout"]);
    evaluates("u1", false);
    cli.ok(&["flags", "delete", "new-checkout", "-y"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while sdk.engine().flags().flag("new-checkout").is_some() {
        assert!(
            Instant::now() < deadline,
            "the deleted flag stays in the service"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    runtime.block_on(sdk.shutdown());
}
