//! A custom backend: route state and the audit log in SQLite, by implementing
//! [`waygate::backend::Backend`] — the port of the Python original's "Custom backend
//! (SQLite)" example. Restart the server and the state survives.
//!
//! ```sh
//! cargo run --example custom_backend_sqlite          # state in ./waygate-state.db
//! WAYGATE_SQLITE_PATH=/tmp/w.db cargo run --example custom_backend_sqlite
//! ```
//!
//! | request | response |
//! |---|---|
//! | `GET /health` | 200 always, `"backend": "sqlite"` in the body (`#[force_active]`) |
//! | `GET /payments` | 503 `MAINTENANCE_MODE` (persisted in SQLite) |
//! | `GET /legacy` | 503 `ROUTE_DISABLED` (persisted in SQLite) |
//! | `GET /orders` | 200, until disabled at runtime — and still disabled after a restart |
//!
//! The admin API (and the Python `waygate` CLI) at `/waygate`, login `admin` / `secret`:
//!
//! ```sh
//! waygate config set-url http://localhost:8000/waygate
//! waygate login admin                   # password: secret
//! waygate disable GET:/orders --reason "hotfix"
//! # stop the server, start it again: /orders is still 503
//! waygate log
//! ```
//!
//! The contract is six async methods (`get_state`, `set_state`, `delete_state`,
//! `list_states`, `write_audit`, `audit_log`); global maintenance, rate-limit policies and
//! token revocations are stored through them as sentinel states by the trait's provided
//! methods. rusqlite is synchronous, so every call runs on tokio's blocking pool.

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use async_trait::async_trait;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::backend::{Backend, BackendError, AUDIT_CAPACITY};
use waygate::prelude::*;
use waygate::{AuditEntry, AuditQuery, RouteState};

/// Route states and audit entries in a SQLite file, as JSON, in the reference's tables.
#[derive(Debug, Clone)]
struct SqliteBackend {
    db: Arc<Mutex<Connection>>,
}

impl SqliteBackend {
    /// Opens (or creates) the database and its tables.
    fn open(path: &Path) -> Result<Self, BackendError> {
        let db = Connection::open(path).map_err(sql)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS waygate_states (
                 path TEXT PRIMARY KEY,
                 state_json TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS waygate_audit (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 id TEXT UNIQUE NOT NULL,
                 timestamp TEXT NOT NULL,
                 path TEXT NOT NULL,
                 entry_json TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS waygate_audit_path ON waygate_audit (path, seq);",
        )
        .map_err(sql)?;
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Runs `f` on the connection on tokio's blocking pool (SQLite calls block).
    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let db = db.lock().unwrap_or_else(|e| e.into_inner());
            f(&db)
        })
        .await
        .map_err(|e| BackendError::other(format!("sqlite task failed: {e}")))?
    }
}

fn sql(error: rusqlite::Error) -> BackendError {
    BackendError::other(format!("sqlite: {error}"))
}

fn decode<T: serde::de::DeserializeOwned>(location: &str, json: &str) -> Result<T, BackendError> {
    serde_json::from_str(json).map_err(|e| BackendError::corrupt(location, e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, BackendError> {
    serde_json::to_string(value).map_err(|e| BackendError::other(e.to_string()))
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError> {
        let key = key.to_owned();
        self.with_db(move |db| {
            let json: Option<String> = db
                .query_row(
                    "SELECT state_json FROM waygate_states WHERE path = ?1",
                    params![key],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql)?;
            json.map(|j| decode(&key, &j)).transpose()
        })
        .await
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        let (path, json) = (state.path.clone(), encode(state)?);
        self.with_db(move |db| {
            db.execute(
                "INSERT INTO waygate_states (path, state_json) VALUES (?1, ?2)
                 ON CONFLICT(path) DO UPDATE SET state_json = excluded.state_json",
                params![path, json],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn delete_state(&self, key: &str) -> Result<(), BackendError> {
        let key = key.to_owned();
        self.with_db(move |db| {
            db.execute("DELETE FROM waygate_states WHERE path = ?1", params![key])
                .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        self.with_db(|db| {
            let mut query = db
                .prepare("SELECT path, state_json FROM waygate_states ORDER BY path")
                .map_err(sql)?;
            let rows = query
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(sql)?;
            rows.map(|row| {
                let (path, json) = row.map_err(sql)?;
                decode(&path, &json)
            })
            .collect()
        })
        .await
    }

    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let json = encode(entry)?;
        let (id, timestamp, path) = (
            entry.id.clone(),
            entry.timestamp.to_rfc3339(),
            entry.path.clone(),
        );
        self.with_db(move |db| {
            db.execute(
                "INSERT OR IGNORE INTO waygate_audit (id, timestamp, path, entry_json)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, timestamp, path, json],
            )
            .map_err(sql)?;
            // Keep the newest entries only, as every built-in backend does.
            db.execute(
                "DELETE FROM waygate_audit
                 WHERE seq <= (SELECT MAX(seq) FROM waygate_audit) - ?1",
                params![AUDIT_CAPACITY as i64],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        let (route, limit) = (
            query.route.clone(),
            i64::try_from(query.limit).unwrap_or(i64::MAX),
        );
        self.with_db(move |db| {
            let mut statement = db
                .prepare(
                    "SELECT entry_json FROM waygate_audit
                     WHERE ?1 IS NULL OR path = ?1
                     ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(sql)?;
            let rows = statement
                .query_map(params![route, limit], |row| row.get::<_, String>(0))
                .map_err(sql)?;
            rows.map(|row| decode("waygate_audit", &row.map_err(sql)?))
                .collect()
        })
        .await
    }
}

/// Always 200: bypasses every check.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "backend": "sqlite"}))
}

/// 503 `MAINTENANCE_MODE`, persisted in SQLite.
#[route(GET, "/payments")]
#[maintenance(reason = "DB migration — back at 04:00 UTC")]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": []}))
}

/// 503 `ROUTE_DISABLED`, persisted in SQLite.
#[route(GET, "/legacy")]
#[disabled(reason = "Use /payments instead")]
async fn legacy() -> Json<Value> {
    Json(json!({}))
}

/// 200 until changed at runtime; the change survives a restart.
#[route(GET, "/orders")]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": [{"id": 1, "total": 49.99}]}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let path = std::env::var("WAYGATE_SQLITE_PATH").unwrap_or_else(|_| "waygate-state.db".into());
    let backend = SqliteBackend::open(Path::new(&path))?;
    let engine = engine_builder().backend(backend).build();
    engine.start().await?;
    tracing::info!(%path, "waygate engine started on SQLite");

    let admin = WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret"));
    let app = admin
        .nest_in(
            Router::new().merge(routes![health, get_payments, legacy, get_orders]),
            "/waygate",
        )
        .layer(WaygateLayer::new(engine.clone()));

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // The peer address: the admin's login throttle counts failures per client too.
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
