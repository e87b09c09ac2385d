//! The command line: every command of the Python `waygate` CLI, with its names, aliases,
//! arguments and options, plus `--json`, `login --password-stdin`, `schedule --cancel`,
//! `log --limit` and `completions`.

use crate::route::Route;
use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Parser, Subcommand};

/// Rows per page of the listing commands (as in the Python CLI).
const PER_PAGE: &str = "20";

/// The rate-limit algorithms servers accept (`token_bucket`: waygate for Rust only).
const ALGORITHMS: [&str; 4] = [
    "fixed_window",
    "sliding_window",
    "moving_window",
    "token_bucket",
];
/// The rate-limit key strategies.
const KEY_STRATEGIES: [&str; 5] = ["ip", "user", "api_key", "global", "custom"];

/// waygate — route lifecycle management.
///
/// Talks to the admin API of a waygate service (Rust or Python) or a waygate server. The
/// server URL comes from WAYGATE_SERVER_URL, else a .waygate file in this directory or
/// above, else `waygate config set-url`, else http://localhost:8000/waygate.
#[derive(Debug, Parser)]
#[command(
    name = "waygate",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Examples:
  waygate config set-url http://localhost:8000/waygate
  waygate login admin
  waygate status
  waygate disable GET:/payments --reason \"hotfix\" --until 2h
  waygate log --limit 10

Exit codes: 0 success, 1 refused or failed (not found, ambiguous, protected, auth,
unreachable), 2 usage error."
)]
pub(crate) struct Cli {
    /// Print the server's JSON instead of tables and messages.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every top-level command.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in and store a token in ~/.waygate/config.json.
    #[command(after_help = "Examples:
  waygate login admin                      # prompts for the password (no echo)
  echo \"$PASSWORD\" | waygate login admin --password-stdin")]
    Login(Login),

    /// Revoke the stored token on the server and forget it.
    #[command(after_help = "Example:\n  waygate logout")]
    Logout,

    /// Show or set the server URL.
    #[command(
        subcommand,
        after_help = "Examples:
  waygate config set-url http://localhost:8000/waygate
  waygate config show"
    )]
    Config(ConfigCommand),

    /// Show the state of every route, or of one.
    #[command(after_help = "Examples:
  waygate status
  waygate status GET:/payments
  waygate status --service payments-service --page 2
  waygate status --json | jq '.[] | select(.status != \"active\") | .path'")]
    Status(Status),

    /// List the services that registered routes (waygate server).
    #[command(after_help = "Example:\n  waygate services")]
    Services,

    /// Show the service in WAYGATE_SERVICE (the default --service).
    #[command(after_help = "Example:\n  WAYGATE_SERVICE=payments-service waygate current-service")]
    CurrentService,

    /// Make a route active again.
    #[command(after_help = "Examples:
  waygate enable GET:/payments
  waygate enable /payments --reason \"migration done\"")]
    Enable(Change),

    /// Disable a route: 503 ROUTE_DISABLED to every caller.
    #[command(after_help = "Examples:
  waygate disable GET:/payments --reason \"hotfix\"
  waygate disable GET:/payments --until 2h    # maintenance window until now + 2h, then active")]
    Disable(Disable),

    /// Put a route in maintenance now, optionally with a window.
    #[command(after_help = "Examples:
  waygate maintenance GET:/payments --reason \"DB migration\"
  waygate maintenance GET:/payments --start 2026-12-01T02:00Z --end 2026-12-01T04:00Z")]
    Maintenance(Maintenance),

    /// Schedule a maintenance window, or cancel one.
    #[command(after_help = "Examples:
  waygate schedule GET:/payments --start 2026-12-01T02:00Z --end 2026-12-01T04:00Z -r \"upgrade\"
  waygate schedule GET:/payments --cancel")]
    Schedule(Schedule),

    /// Show the audit log, newest first.
    #[command(after_help = "Examples:
  waygate log
  waygate log --route GET:/payments --limit 5
  waygate log --page 2 --per-page 50")]
    Log(Log),

    /// Global maintenance: every route but the exempt ones answers 503.
    #[command(
        subcommand,
        after_help = "Examples:
  waygate global enable --reason \"deploy\" --exempt /health
  waygate global status
  waygate global disable"
    )]
    Global(GlobalCommand),

    /// Restrict a route to some environments, or lift the restriction.
    #[command(
        subcommand,
        after_help = "Examples:
  waygate env set GET:/debug dev staging
  waygate env clear GET:/debug"
    )]
    Env(EnvCommand),

    /// Serve a route to a percentage of its clients (a percentage rollout).
    #[command(after_help = "Examples:
  waygate rollout GET:/v2/search 25     # a quarter of the clients get the route, the rest 404
  waygate rollout GET:/v2/search 100    # everyone")]
    Rollout(Rollout),

    /// Maintenance bypass tokens: let a tester through maintenance and disabled routes.
    #[command(
        subcommand,
        after_help = "Examples:
  waygate bypass create --ttl 1h --reason \"QA of the migration\"
  waygate bypass revoke"
    )]
    Bypass(BypassCommand),

    /// Tokens for services: a service logs in with one instead of a password.
    #[command(
        subcommand,
        after_help = "Example:
  waygate token create --service payments --ttl 1y
  # then, in the service: WaygateSdk::builder(url, \"payments\").token(token)"
    )]
    Token(TokenCommand),

    /// Per-route rate limits and blocked requests.
    #[command(
        name = "rate-limits",
        visible_alias = "rl",
        subcommand,
        after_help = "Examples:
  waygate rl set GET:/payments 100/minute --algorithm sliding_window --key ip
  waygate rl set GET:/api/pay 10/minute --service payments-service
  waygate rl list
  waygate rl hits
  waygate rl delete GET:/payments"
    )]
    RateLimits(RateLimitCommand),

    /// The global rate limit, applied to every route.
    #[command(
        name = "global-rate-limit",
        visible_alias = "grl",
        subcommand,
        after_help = "Examples:
  waygate grl set 1000/minute --exempt /health
  waygate grl get
  waygate grl disable"
    )]
    GlobalRateLimit(GlobalRateLimitCommand),

    /// One service's rate limit, applied to each of its routes.
    #[command(
        name = "service-rate-limit",
        visible_alias = "srl",
        subcommand,
        after_help = "Examples:
  waygate srl set payments-service 500/minute
  waygate srl get payments-service"
    )]
    ServiceRateLimit(ServiceRateLimitCommand),

    /// One service's maintenance: every route of the service answers 503.
    #[command(
        name = "service-maintenance",
        visible_alias = "sm",
        subcommand,
        after_help = "Examples:
  waygate sm enable payments-service --reason \"DB migration\" --exempt /health
  waygate sm status payments-service
  waygate sm disable payments-service"
    )]
    ServiceMaintenance(ServiceMaintenanceCommand),

    /// Feature flags: list, inspect, evaluate, and change targeting.
    #[command(
        subcommand,
        after_help = "Examples:
  waygate flags list
  waygate flags create new-checkout --name \"New checkout\"
  waygate flags add-rule new-checkout --variation on --segment beta-users
  waygate flags eval new-checkout --key user_123 --attr plan=pro"
    )]
    Flags(crate::flag_cli::FlagCommand),

    /// Flag segments: named groups of contexts that rules target.
    #[command(
        visible_alias = "seg",
        subcommand,
        after_help = "Examples:
  waygate segments create beta-users --name \"Beta users\"
  waygate segments include beta-users --context-key alice,bob
  waygate seg get beta-users"
    )]
    Segments(crate::flag_cli::SegmentCommand),

    /// Run a Waygate Server: the admin API, dashboard and SDK endpoints for a fleet of
    /// services.
    #[cfg(feature = "server")]
    #[command(after_help = "Examples:
  waygate serve --port 8001 --auth admin:secret
  waygate serve --port 8001 --backend redis://127.0.0.1:6379 --auth admin:secret
  waygate serve --backend file:/var/lib/waygate/state.json --auth ops:s3cret --auth ci:t0ken
  WAYGATE_SERVER_AUTH=admin:secret WAYGATE_SECRET_KEY=... waygate serve --host 0.0.0.0
  waygate serve --log-format json 2>> /var/log/waygate.jsonl

Services attach with the SDK (Rust: waygate::sdk::WaygateSdk; Python: waygate.sdk.WaygateSDK)
at http://HOST:PORT; point this CLI at the same URL: waygate config set-url http://HOST:PORT.
GET /health answers {\"status\": \"ok\", ..} without a token. Logs go to stderr (RUST_LOG; --log-format json
for a log pipeline): every change applied, SDK streams opened and closed, registrations.")]
    Serve(Serve),

    /// Print a shell completion script.
    #[command(after_help = "Examples:
  waygate completions bash > ~/.local/share/bash-completion/completions/waygate
  waygate completions zsh > \"${fpath[1]}/_waygate\"
  waygate completions fish > ~/.config/fish/completions/waygate.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `serve`.
#[cfg(feature = "server")]
#[derive(Debug, Args)]
pub(crate) struct Serve {
    /// The address to listen on (0.0.0.0 for every interface).
    #[arg(long, env = "WAYGATE_SERVER_HOST", default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// The port to listen on.
    #[arg(long, env = "WAYGATE_SERVER_PORT", default_value = "8001")]
    pub(crate) port: u16,
    /// Where state lives: file:PATH (a JSON file; the default is
    /// ~/.waygate/server-state.json), a redis://host:port[/db] or rediss:// URL (several
    /// servers behind a load balancer share it), or memory (lost on restart: every route
    /// an operator changed is back to its declared default when services re-register).
    #[arg(long, env = "WAYGATE_SERVER_BACKEND")]
    pub(crate) backend: Option<String>,
    /// With a rediss:// backend: the PEM certificate of the CA that signed the Redis
    /// server's certificate, when the system does not trust it (a private CA).
    #[arg(long, env = "WAYGATE_REDIS_CA_FILE")]
    pub(crate) redis_ca_file: Option<std::path::PathBuf>,
    /// How long a connection may take to send a request head (and a kept-alive one may
    /// sit idle): 15s, 1m.
    #[arg(long, default_value = "15s", value_parser = crate::time::parse_duration)]
    pub(crate) header_read_timeout: TimeDelta,
    /// The most connections open at once; more wait in the listen queue.
    #[arg(long, default_value = "10000")]
    pub(crate) max_connections: usize,
    /// A user as user:password (repeat, or comma-separate in the env var, for more).
    /// Without any, the server is open to anyone who can reach it.
    #[arg(
        long,
        env = "WAYGATE_SERVER_AUTH",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub(crate) auth: Vec<String>,
    /// The key tokens are signed with; set it so tokens survive restarts and every
    /// instance accepts them. Random when unset.
    #[arg(long, env = "WAYGATE_SECRET_KEY", hide_env_values = true)]
    pub(crate) secret_key: Option<String>,
    /// How long CLI and dashboard logins last (30m, 8h, 1d).
    #[arg(long, default_value = "24h", value_parser = crate::time::parse_duration)]
    pub(crate) token_expiry: TimeDelta,
    /// How long service (SDK) tokens last.
    #[arg(long, default_value = "365d", value_parser = crate::time::parse_duration)]
    pub(crate) sdk_token_expiry: TimeDelta,
    /// An origin whose web pages may evaluate flags over OFREP from the browser (CORS on
    /// `/ofrep/v1/...` only); repeat it, or `*` for any. Hand such pages an evaluation-only
    /// key (`waygate token create --evaluate`).
    #[arg(long = "ofrep-cors-origin", value_name = "ORIGIN")]
    pub(crate) ofrep_cors_origins: Vec<String>,
    /// How log lines are written to stderr: text for people, json (one object per line)
    /// for a log pipeline. The level comes from RUST_LOG (default info).
    #[arg(long, env = "WAYGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

/// `serve --log-format`.
#[cfg(feature = "server")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`.
    Json,
}

/// `login`.
#[derive(Debug, Args)]
pub(crate) struct Login {
    /// The user; prompted for when omitted.
    pub(crate) username: Option<String>,
    /// The password (visible in the process list and shell history: prefer the prompt or
    /// --password-stdin).
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub(crate) password: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

/// `config ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Store the server URL (where the waygate admin is mounted) in the config file.
    #[command(after_help = "Examples:
  waygate config set-url http://localhost:8000/waygate   # an app with the admin at /waygate
  waygate config set-url http://waygate-server:9000      # a waygate server")]
    SetUrl {
        /// The URL, e.g. http://localhost:8000/waygate.
        url: String,
    },
    /// Show the server URL and where it came from, the login and the config file.
    #[command(after_help = "Example:\n  waygate config show")]
    Show,
}

/// The `--service` option of the route commands.
#[derive(Debug, Args)]
pub(crate) struct ServiceArg {
    /// The service the route belongs to (waygate server); default WAYGATE_SERVICE.
    #[arg(short, long, env = "WAYGATE_SERVICE")]
    pub(crate) service: Option<String>,
}

impl ServiceArg {
    /// The service, if one is named (an empty `WAYGATE_SERVICE` names none).
    pub(crate) fn get(&self) -> Option<&str> {
        self.service
            .as_deref()
            .filter(|service| !service.is_empty())
    }
}

/// `--page` and `--per-page`.
#[derive(Debug, Args)]
pub(crate) struct Paging {
    /// The page to show, from 1.
    #[arg(short, long, default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) page: u32,
    /// Rows per page.
    #[arg(long, default_value = PER_PAGE, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) per_page: u32,
}

/// `status`.
#[derive(Debug, Args)]
pub(crate) struct Status {
    /// One route: /path or METHOD:/path (a bare path shows every method's route).
    #[arg(value_parser = Route::parse)]
    pub(crate) route: Option<Route>,
    #[command(flatten)]
    pub(crate) service: ServiceArg,
    #[command(flatten)]
    pub(crate) paging: Paging,
}

/// `enable` (and the options every route change has).
#[derive(Debug, Args)]
pub(crate) struct Change {
    /// The route: /path or METHOD:/path.
    #[arg(value_parser = Route::parse)]
    pub(crate) route: Route,
    /// A note for the audit log (and, for disable and maintenance, the 503 body).
    #[arg(short, long, default_value = "")]
    pub(crate) reason: String,
    #[command(flatten)]
    pub(crate) service: ServiceArg,
}

/// `disable`.
#[derive(Debug, Args)]
pub(crate) struct Disable {
    #[command(flatten)]
    pub(crate) change: Change,
    /// Enable again after this long (30m, 2h, 1d): the route is in a maintenance window
    /// from now until then, as with the Python CLI.
    #[arg(long, value_parser = crate::time::parse_duration)]
    pub(crate) until: Option<TimeDelta>,
}

/// `maintenance`.
#[derive(Debug, Args)]
pub(crate) struct Maintenance {
    #[command(flatten)]
    pub(crate) change: Change,
    /// The window's start (ISO 8601; UTC without an offset). Needs --end.
    #[arg(long, value_parser = crate::time::parse_datetime, requires = "end")]
    pub(crate) start: Option<DateTime<Utc>>,
    /// The window's end (ISO 8601). Needs --start.
    #[arg(long, value_parser = crate::time::parse_datetime, requires = "start")]
    pub(crate) end: Option<DateTime<Utc>>,
}

/// `schedule`.
#[derive(Debug, Args)]
pub(crate) struct Schedule {
    #[command(flatten)]
    pub(crate) change: Change,
    /// The window's start (ISO 8601; UTC without an offset).
    #[arg(long, value_parser = crate::time::parse_datetime, required_unless_present = "cancel")]
    pub(crate) start: Option<DateTime<Utc>>,
    /// The window's end (ISO 8601).
    #[arg(long, value_parser = crate::time::parse_datetime, required_unless_present = "cancel")]
    pub(crate) end: Option<DateTime<Utc>>,
    /// Cancel the route's scheduled window instead.
    #[arg(long, conflicts_with_all = ["start", "end"])]
    pub(crate) cancel: bool,
}

/// `log`.
#[derive(Debug, Args)]
pub(crate) struct Log {
    /// Only this route's entries (its exact key, e.g. GET:/payments).
    #[arg(long)]
    pub(crate) route: Option<String>,
    /// The page to show, from 1.
    #[arg(short, long, default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) page: u32,
    /// Entries per page (--limit N: the N newest).
    #[arg(
        long,
        short = 'n',
        visible_alias = "limit",
        default_value = PER_PAGE,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub(crate) per_page: u32,
}

/// The options of `global enable` and `sm enable`.
#[derive(Debug, Args)]
pub(crate) struct MaintenanceOptions {
    /// Shown in the 503 bodies.
    #[arg(short, long, default_value = "")]
    pub(crate) reason: String,
    /// A route that keeps answering: /path or METHOD:/path (repeat for more).
    #[arg(short, long)]
    pub(crate) exempt: Vec<String>,
    /// Block force-active routes too.
    #[arg(long, overrides_with = "no_include_force_active")]
    pub(crate) include_force_active: bool,
    /// Leave force-active routes alone (the default).
    #[arg(long)]
    pub(crate) no_include_force_active: bool,
}

/// `global ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum GlobalCommand {
    /// Show the global maintenance configuration.
    #[command(after_help = "Example:\n  waygate global status")]
    Status,
    /// Turn global maintenance on (replaces the whole configuration).
    #[command(after_help = "Examples:
  waygate global enable --reason \"deploy\"
  waygate global enable -r \"incident\" -e /health -e GET:/status --include-force-active")]
    Enable(MaintenanceOptions),
    /// Turn global maintenance off.
    #[command(after_help = "Example:\n  waygate global disable")]
    Disable,
    /// Add a route to the exempt list (this also turns global maintenance on).
    #[command(after_help = "Example:\n  waygate global exempt-add /health")]
    ExemptAdd {
        /// /path or METHOD:/path.
        route: String,
    },
    /// Remove a route from the exempt list.
    #[command(after_help = "Example:\n  waygate global exempt-remove /health")]
    ExemptRemove {
        /// /path or METHOD:/path.
        route: String,
    },
}

/// `rollout`.
#[derive(Debug, Args)]
pub(crate) struct Rollout {
    /// The route: /path or METHOD:/path.
    #[arg(value_parser = Route::parse)]
    pub(crate) route: Route,
    /// The share of clients served, 0 to 100.
    #[arg(value_parser = clap::value_parser!(u8).range(0..=100))]
    pub(crate) percentage: u8,
    #[command(flatten)]
    pub(crate) service: ServiceArg,
}

/// `bypass ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum BypassCommand {
    /// Issue a token: requests carrying it pass maintenance, disabled routes and global
    /// maintenance (never env gates or rate limits) until it expires.
    #[command(after_help = "Example:\n  waygate bypass create --ttl 1h --reason \"QA\"")]
    Create {
        /// How long the token is valid (30m, 2h, 1d; at most 30d).
        #[arg(long, default_value = "1h", value_parser = crate::time::parse_duration)]
        ttl: TimeDelta,
        /// Why, for the audit log.
        #[arg(short, long, default_value = "")]
        reason: String,
    },
    /// Void every bypass token issued so far (on every instance sharing the backend).
    #[command(after_help = "Example:\n  waygate bypass revoke")]
    Revoke,
}

/// `token ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token bound to one service (it registers, streams and changes that
    /// service's routes, and reads nothing of the other services), or with `--evaluate` an
    /// evaluation-only key for OFREP clients (it can evaluate flags and nothing else).
    #[command(after_help = "Examples:
  waygate token create --service payments --ttl 1y
  waygate token create --evaluate --name web-shop --ttl 90d")]
    Create {
        /// The service the token acts for.
        #[arg(
            long,
            required_unless_present = "evaluate",
            conflicts_with = "evaluate"
        )]
        service: Option<String>,
        /// An evaluation-only key (OFREP: `Authorization: Bearer <key>`), safe to ship to
        /// browsers and apps.
        #[arg(long)]
        evaluate: bool,
        /// Whom an evaluation-only key is for, as the audit log shows it.
        #[arg(long, requires = "evaluate")]
        name: Option<String>,
        /// How long the token is valid (30d, 52w, 1y; at most 10y); default the server's
        /// service token lifetime (one year unless configured).
        #[arg(long, value_parser = crate::time::parse_duration)]
        ttl: Option<TimeDelta>,
    },
}

/// `env ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum EnvCommand {
    /// Allow a route only in these environments (elsewhere it answers 404).
    #[command(after_help = "Examples:
  waygate env set GET:/debug dev
  waygate env set /internal dev staging")]
    Set {
        /// The route: /path or METHOD:/path.
        #[arg(value_parser = Route::parse)]
        route: Route,
        /// The environments (e.g. dev staging).
        #[arg(required = true)]
        envs: Vec<String>,
        /// A note for the audit log.
        #[arg(short, long, default_value = "")]
        reason: String,
        #[command(flatten)]
        service: ServiceArg,
    },
    /// Lift the restriction: the route is active again.
    #[command(after_help = "Example:\n  waygate env clear GET:/debug")]
    Clear {
        /// The route: /path or METHOD:/path.
        #[arg(value_parser = Route::parse)]
        route: Route,
        /// A note for the audit log.
        #[arg(short, long, default_value = "")]
        reason: String,
        #[command(flatten)]
        service: ServiceArg,
    },
}

/// The options of the `set` commands of every rate-limit group.
#[derive(Debug, Args)]
pub(crate) struct LimitOptions {
    /// The algorithm (the server's default when omitted).
    #[arg(short, long, value_parser = ALGORITHMS)]
    pub(crate) algorithm: Option<String>,
    /// What requests are counted by.
    #[arg(short, long = "key", value_parser = KEY_STRATEGIES)]
    pub(crate) key_strategy: Option<String>,
    /// Extra requests allowed in a burst.
    #[arg(short, long, default_value = "0")]
    pub(crate) burst: u32,
}

/// `rl ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum RateLimitCommand {
    /// List the per-route policies.
    #[command(after_help = "Example:\n  waygate rl list")]
    List(Paging),
    /// Show recent blocked requests, newest first.
    #[command(after_help = "Examples:\n  waygate rl hits\n  waygate rl hits --route /payments")]
    Hits {
        /// Only this route's path.
        #[arg(short, long)]
        route: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Clear a route's counters (a bare path: every method).
    #[command(
        after_help = "Examples:\n  waygate rl reset GET:/payments\n  waygate rl reset /payments"
    )]
    Reset {
        /// /path or METHOD:/path.
        #[arg(value_parser = Route::parse)]
        route: Route,
        #[command(flatten)]
        service: ServiceArg,
    },
    /// Set or change a route's policy (a bare path means GET).
    #[command(after_help = "Examples:
  waygate rl set GET:/payments 100/minute
  waygate rl set POST:/pay 10/second --algorithm fixed_window --key ip --burst 5")]
    Set {
        /// /path or METHOD:/path.
        #[arg(value_parser = Route::parse)]
        route: Route,
        /// The limit: 100/minute, 5 per 2 hours, ...
        limit: String,
        #[command(flatten)]
        options: LimitOptions,
        #[command(flatten)]
        service: ServiceArg,
    },
    /// Delete a route's policy (a bare path means GET).
    #[command(after_help = "Example:\n  waygate rl delete GET:/payments")]
    Delete {
        /// /path or METHOD:/path.
        #[arg(value_parser = Route::parse)]
        route: Route,
        #[command(flatten)]
        service: ServiceArg,
    },
}

/// `grl ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum GlobalRateLimitCommand {
    /// Show the global policy.
    #[command(after_help = "Example:\n  waygate grl get")]
    Get,
    /// Set or change the global policy.
    #[command(after_help = "Example:\n  waygate grl set 1000/minute --key ip --exempt /health")]
    Set {
        /// The limit: 1000/minute, ...
        limit: String,
        #[command(flatten)]
        options: LimitOptions,
        /// A route the limit does not apply to (repeat for more).
        #[arg(short, long)]
        exempt: Vec<String>,
    },
    /// Delete the global policy.
    #[command(after_help = "Example:\n  waygate grl delete")]
    Delete,
    /// Clear the global counters.
    #[command(after_help = "Example:\n  waygate grl reset")]
    Reset,
    /// Resume the paused global policy.
    #[command(after_help = "Example:\n  waygate grl enable")]
    Enable,
    /// Pause the global policy without deleting it.
    #[command(after_help = "Example:\n  waygate grl disable")]
    Disable,
}

/// A service name argument.
#[derive(Debug, Args)]
pub(crate) struct ServiceName {
    /// The service, e.g. payments-service.
    pub(crate) service: String,
}

/// `srl ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceRateLimitCommand {
    /// Show a service's policy.
    #[command(after_help = "Example:\n  waygate srl get payments-service")]
    Get(ServiceName),
    /// Set or change a service's policy.
    #[command(
        after_help = "Example:\n  waygate srl set payments-service 500/minute --exempt /health"
    )]
    Set {
        /// The service, e.g. payments-service.
        service: String,
        /// The limit: 500/minute, ...
        limit: String,
        #[command(flatten)]
        options: LimitOptions,
        /// A route the limit does not apply to (repeat for more).
        #[arg(short, long)]
        exempt: Vec<String>,
    },
    /// Delete a service's policy.
    #[command(after_help = "Example:\n  waygate srl delete payments-service")]
    Delete(ServiceName),
    /// Clear a service's counters.
    #[command(after_help = "Example:\n  waygate srl reset payments-service")]
    Reset(ServiceName),
    /// Resume a service's paused policy.
    #[command(after_help = "Example:\n  waygate srl enable payments-service")]
    Enable(ServiceName),
    /// Pause a service's policy without deleting it.
    #[command(after_help = "Example:\n  waygate srl disable payments-service")]
    Disable(ServiceName),
}

/// `sm ..`.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceMaintenanceCommand {
    /// Show a service's maintenance configuration.
    #[command(after_help = "Example:\n  waygate sm status payments-service")]
    Status(ServiceName),
    /// Turn a service's maintenance on.
    #[command(
        after_help = "Example:\n  waygate sm enable payments-service --reason \"DB migration\" -e /health"
    )]
    Enable {
        /// The service, e.g. payments-service.
        service: String,
        #[command(flatten)]
        options: MaintenanceOptions,
    },
    /// Turn a service's maintenance off.
    #[command(after_help = "Example:\n  waygate sm disable payments-service")]
    Disable(ServiceName),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example() {
        fn walk(command: &clap::Command, path: &str) {
            let path = format!("{path} {}", command.get_name());
            if command.get_subcommands().next().is_none() || command.get_name() != "waygate" {
                let help = command
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("waygate "), "{path} has no example");
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path);
                }
            }
        }
        walk(&Cli::command(), "");
    }
}
