//! `serve`: a Waygate Server in this binary.

use crate::cli::{LogFormat, Serve};
use crate::error::{Error, Result};
use std::sync::Arc;
use waygate::admin::Auth;
use waygate::backend::{Backend, FileBackend, MemoryBackend, RedisBackend};
use waygate::serve::ConnectionLimits;
use waygate::server::WaygateServer;

/// Serves until Ctrl-C or SIGTERM.
pub(super) fn run(args: Serve) -> Result<()> {
    init_logging(args.log_format);
    let spec = match args.backend {
        Some(spec) => spec,
        None => default_backend()?,
    };
    let backend = backend(&spec, args.redis_ca_file.as_deref())?;
    if spec.trim() == "memory" {
        tracing::warn!(
            "waygate server: --backend memory keeps state in this process only: a restart \
             forgets every change an operator made, and routes go back to what services \
             declare when they register again. Use file:PATH or redis:// in production."
        );
    }
    let limits = ConnectionLimits::new()
        .header_read_timeout(args.header_read_timeout.to_std().unwrap_or_default())
        .max_connections(args.max_connections);
    let mut server = WaygateServer::with_shared_backend(backend)
        .connection_limits(limits)
        .token_expiry(args.token_expiry.to_std().unwrap_or_default())
        .sdk_token_expiry(args.sdk_token_expiry.to_std().unwrap_or_default())
        .ofrep_cors(args.ofrep_cors_origins);
    let users = users(&args.auth)?;
    if users.is_empty() {
        tracing::warn!(
            "waygate server: no --auth given; anyone who can reach it may change every route"
        );
    } else {
        server = server.auth(Auth::users(users));
    }
    if let Some(secret) = args.secret_key.filter(|s| !s.is_empty()) {
        server = server.secret_key(secret);
    }
    let address = format!("{}:{}", args.host, args.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {address}: {e}")))?;
        let shutdown = shutdown_signal();
        tracing::info!(backend = %spec, "waygate server: state backend");
        // For scripts (and `--port 0`): the address, on stdout.
        if let Ok(address) = listener.local_addr() {
            println!("listening on http://{address}");
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
        }
        server
            .serve(listener, shutdown)
            .await
            .map_err(|e| Error::Usage(format!("the server failed: {e}")))
    })
}

/// `file:~/.waygate/server-state.json` (the directory created when missing): state
/// survives a restart unless memory is asked for.
fn default_backend() -> Result<String> {
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .ok_or_else(|| {
            Error::Usage(
                "HOME is not set: give --backend file:PATH (or memory, redis://..)".to_owned(),
            )
        })?;
    let dir = std::path::Path::new(&home).join(".waygate");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Usage(format!("cannot create {}: {e}", dir.display())))?;
    Ok(format!("file:{}", dir.join("server-state.json").display()))
}

/// `memory`, `file:PATH` (or a path ending in `.json`), `redis://..`, `rediss://..` (with
/// the CA certificate in `ca_file`, if given).
fn backend(spec: &str, ca_file: Option<&std::path::Path>) -> Result<Arc<dyn Backend>> {
    let spec = spec.trim();
    let failed = |e: waygate::backend::BackendError| Error::Usage(format!("--backend {spec}: {e}"));
    if spec == "memory" {
        return Ok(Arc::new(MemoryBackend::new()));
    }
    if let Some(ca_file) = ca_file {
        if !spec.starts_with("rediss://") {
            return Err(Error::Usage(
                "--redis-ca-file is for a rediss:// backend".to_owned(),
            ));
        }
        let ca = std::fs::read(ca_file)
            .map_err(|e| Error::Usage(format!("--redis-ca-file {}: {e}", ca_file.display())))?;
        return Ok(Arc::new(
            RedisBackend::with_root_certificate(spec, &ca).map_err(failed)?,
        ));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        return Ok(Arc::new(RedisBackend::new(spec).map_err(failed)?));
    }
    if let Some(path) = spec
        .strip_prefix("file:")
        .or_else(|| spec.ends_with(".json").then_some(spec))
    {
        return Ok(Arc::new(FileBackend::open(path).map_err(failed)?));
    }
    Err(Error::Usage(format!(
        "--backend {spec}: expected memory, file:PATH or redis://host:port[/db]"
    )))
}

/// `user:password` pairs.
fn users(specs: &[String]) -> Result<Vec<(String, String)>> {
    specs
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|spec| match spec.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok((user.to_owned(), password.to_owned()))
            }
            _ => Err(Error::Usage(
                "--auth takes user:password, e.g. --auth admin:secret".to_owned(),
            )),
        })
        .collect()
}

/// Logs to stderr at `RUST_LOG`, default `info`, as text or one JSON object per line.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => logs.json().try_init(),
    };
}

/// Ctrl-C or SIGTERM.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // Registered now, before the address is printed: a SIGTERM sent the moment the server
    // says it listens shuts it down gracefully.
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_and_users() {
        assert!(backend("memory", None).is_ok());
        assert!(backend("postgres://x", None).is_err());
        assert!(backend("rediss://127.0.0.1:1", None).is_ok());
        assert!(backend("redis://127.0.0.1:1", Some("/nonexistent".as_ref())).is_err());
        assert_eq!(
            users(&["admin:secret".into(), "ci:a:b".into()]).unwrap(),
            vec![
                ("admin".into(), "secret".into()),
                ("ci".into(), "a:b".into())
            ]
        );
        assert!(users(&["admin".into()]).is_err());
    }
}
