//! What every example does the same way: logging, the port, and shutting down on a signal.
//! (Each example includes this module with `mod support;`.)

use tracing_subscriber::EnvFilter;
use waygate::{Engine, EngineBuilder};

/// Logs to stderr, at `RUST_LOG` or `info`.
pub(crate) fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
}

/// An engine builder whose env is `APP_ENV` when set (as the reference examples read it);
/// otherwise `build_from_env` takes `WAYGATE_ENV`, the `.waygate` file, or `dev`.
// Not every example builds its own engine (a service attached to a server gets its engine
// from the SDK).
#[allow(dead_code)]
pub(crate) fn engine_builder() -> EngineBuilder {
    let builder = Engine::builder();
    match std::env::var("APP_ENV") {
        Ok(env) => builder.env(env),
        Err(_) => builder,
    }
}

/// `PORT`, or 8000.
#[allow(dead_code)]
pub(crate) fn port() -> Result<u16, String> {
    port_or(8000)
}

/// `PORT`, or `default`.
#[allow(dead_code)]
pub(crate) fn port_or(default: u16) -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|error| format!("PORT={port:?} is not a port number: {error}")),
        Err(_) => Ok(default),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("failed to listen for Ctrl-C");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("failed to listen for SIGTERM")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
