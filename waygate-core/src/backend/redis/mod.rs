//! [`RedisBackend`]: state shared by every instance on one Redis, with changes pushed to
//! every engine over pub/sub, and rate-limit counters counted for the whole fleet.

mod counters;
mod follow;
mod keys;

use super::{select_newest, Backend, BackendError, AUDIT_CAPACITY};
use crate::model::{AuditEntry, AuditQuery, HitQuery, RouteState};
use crate::rate_limit::{RateLimitHit, RateLimitPolicy, SharedCounters};
use crate::stored::Sentinel;
use async_trait::async_trait;
use keys::Keys;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::{watch, OnceCell};
use tokio::task::JoinHandle;

/// Makes ring the process's rustls crypto provider, unless one is installed already (by the
/// app, or by an earlier backend): rustls then never finds none, nor two to choose from,
/// whatever other crates enable.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How many blocked requests the shared log keeps (oldest dropped first), as the Python
/// original's `max_rl_hit_entries`.
pub const HIT_LOG_CAPACITY: usize = 10_000;

/// The default key prefix: the Python original's key names.
pub const DEFAULT_KEY_PREFIX: &str = "waygate:";

/// How long one command may take before it fails (and the engine fails open).
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads a whole index (the route states, the policies) in one round trip (`indexed.lua`).
/// It reads keys it is not given in `KEYS`: fine on one server, not on a Redis Cluster.
static INDEXED: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("indexed.lua")));

/// State in Redis, shared by every instance that uses the same server and key prefix.
///
/// Stores route states, global and per-service maintenance, the audit log (the newest
/// [`AUDIT_CAPACITY`] entries), rate-limit policies, the log of blocked requests (the newest
/// [`HIT_LOG_CAPACITY`]) and token revocations, under the Python original's key names
/// (`waygate:state:{key}`, `waygate:audit`, `waygate:rlpolicy:{METHOD}:{path}`, ...). Every
/// change, deletions included, is published; every engine on the backend reloads its
/// snapshot when one arrives, and after a lost subscription it resubscribes (with backoff)
/// and reloads everything, so nothing is missed.
///
/// Rate limits are counted in Redis too ([`rate_limit_counters`](Backend::rate_limit_counters)):
/// one script call per check, on Redis's clock, so a `10/minute` limit is ten a minute across
/// the fleet.
///
/// Connecting is lazy: [`new`](Self::new) only parses the URL, and a Redis that is down
/// fails operations with [`BackendError::Unavailable`] until it is back (the connection is
/// re-established on its own).
///
/// ```no_run
/// use waygate_core::{backend::RedisBackend, Engine};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let backend = RedisBackend::new("redis://127.0.0.1:6379/0")?.with_key_prefix("shop:");
/// let engine = Engine::builder().backend(backend).build();
/// engine.start().await?;
/// # Ok(())
/// # }
/// ```
pub struct RedisBackend {
    shared: Arc<Shared>,
}

struct Shared {
    client: redis::Client,
    keys: Keys,
    response_timeout: Duration,
    keepalive: Duration,
    connection: OnceCell<ConnectionManager>,
    changes: watch::Sender<u64>,
    follower: Mutex<Option<JoinHandle<()>>>,
}

impl RedisBackend {
    /// A backend on the Redis at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` for TLS, as managed Redis services require: the server's certificate is
    /// checked against the system's roots), with the key prefix `waygate:`. Nothing is
    /// connected yet.
    pub fn new(url: &str) -> Result<Self, BackendError> {
        install_crypto_provider();
        let client = redis::Client::open(url)
            .map_err(|e| BackendError::other(format!("invalid Redis URL: {e}")))?;
        Ok(Self::from_client(client))
    }

    /// A backend on the Redis at a `rediss://` `url` whose certificate is signed by
    /// `root_certificate` (PEM) rather than by a root the system trusts: a private CA, or a
    /// self-signed certificate.
    ///
    /// ```no_run
    /// use waygate_core::backend::RedisBackend;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ca = std::fs::read("/etc/redis/ca.pem")?;
    /// let backend = RedisBackend::with_root_certificate("rediss://redis.internal:6380", &ca)?;
    /// # let _ = backend;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_root_certificate(url: &str, root_certificate: &[u8]) -> Result<Self, BackendError> {
        install_crypto_provider();
        if !url.starts_with("rediss://") {
            return Err(BackendError::other(
                "a root certificate is for TLS: the URL must start with rediss://",
            ));
        }
        let client = redis::Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_certificate.to_vec()),
            },
        )
        .map_err(|e| BackendError::other(format!("invalid Redis URL or certificate: {e}")))?;
        Ok(Self::from_client(client))
    }

    fn from_client(client: redis::Client) -> Self {
        Self::from_parts(
            client,
            DEFAULT_KEY_PREFIX,
            DEFAULT_RESPONSE_TIMEOUT,
            follow::DEFAULT_KEEPALIVE,
        )
    }

    fn from_parts(
        client: redis::Client,
        prefix: &str,
        response_timeout: Duration,
        keepalive: Duration,
    ) -> Self {
        let keys = Keys::new(prefix);
        let connection = OnceCell::new();
        Self {
            shared: Arc::new(Shared {
                client,
                keys,
                response_timeout,
                keepalive,
                connection,
                changes: watch::channel(0).0,
                follower: Mutex::new(None),
            }),
        }
    }

    /// Puts every key and channel under `prefix` instead of `waygate:`, so that several
    /// apps (or tests) share one Redis without seeing each other.
    pub fn with_key_prefix(self, prefix: &str) -> Self {
        let shared = &self.shared;
        Self::from_parts(
            shared.client.clone(),
            prefix,
            shared.response_timeout,
            shared.keepalive,
        )
    }

    /// How long one command may take before it fails with
    /// [`BackendError::Unavailable`] (default 1 s). Rate-limited requests wait at most this
    /// long for a Redis that stopped answering.
    pub fn with_response_timeout(self, timeout: Duration) -> Self {
        let shared = &self.shared;
        Self::from_parts(
            shared.client.clone(),
            shared.keys.prefix(),
            timeout,
            shared.keepalive,
        )
    }

    /// How often the change subscription, when quiet, is pinged to notice a connection that
    /// died without a word (default 10 s); a lost one is re-established and everything
    /// reloaded.
    pub fn with_keepalive(self, every: Duration) -> Self {
        let shared = &self.shared;
        Self::from_parts(
            shared.client.clone(),
            shared.keys.prefix(),
            shared.response_timeout,
            every.max(Duration::from_millis(10)),
        )
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        self.shared.keys.prefix()
    }

    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        self.shared.connection().await
    }

    /// Starts following the channels, once, if a runtime is there to run it.
    fn follow(&self) {
        let mut follower = self
            .shared
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if follower.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        *follower = Some(runtime.spawn(follow::follow(
            self.shared.client.clone(),
            self.shared.keys.channels().to_vec(),
            self.shared.changes.clone(),
            self.shared.keepalive,
        )));
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BackendError> {
        let mut conn = self.connection().await?;
        let text: Option<String> = conn.get(key).await.map_err(unavailable)?;
        text.map(|t| decode(key, &t)).transpose()
    }

    /// Every value of the index `index` (a set of names, each stored under
    /// `value_prefix` + name), decoded, in one round trip.
    async fn indexed_json<T: DeserializeOwned>(
        &self,
        index: &str,
        value_prefix: &str,
    ) -> Result<Vec<T>, BackendError> {
        let mut conn = self.connection().await?;
        let texts: Vec<String> = INDEXED
            .key(index)
            .arg(value_prefix)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        texts.iter().map(|t| decode(index, t)).collect()
    }

    async fn list_json<T: DeserializeOwned>(
        &self,
        key: &str,
        limit: usize,
    ) -> Result<Vec<T>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.connection().await?;
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let texts: Vec<String> = conn.lrange(key, 0, stop).await.map_err(unavailable)?;
        texts.iter().map(|t| decode(key, t)).collect()
    }

    async fn run(&self, pipe: &redis::Pipeline) -> Result<(), BackendError> {
        let mut conn = self.connection().await?;
        pipe.query_async::<()>(&mut conn).await.map_err(unavailable)
    }
}

impl Shared {
    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                // One attempt per command: a Redis that is down fails the command at once
                // (and the engine fails open) rather than holding it through retries. The
                // manager reconnects on the next command.
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(0)
                    .set_connection_timeout(Some(self.response_timeout))
                    .set_response_timeout(Some(self.response_timeout));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
                    .map_err(unavailable)
            })
            .await?;
        Ok(manager.clone())
    }
}

/// A Redis error as a backend error: unreachable, timed out or dropped connections are
/// [`BackendError::Unavailable`].
fn unavailable(error: redis::RedisError) -> BackendError {
    if error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
    {
        BackendError::Unavailable(format!("redis: {error}"))
    } else {
        BackendError::other(format!("redis: {error}"))
    }
}

fn decode<T: DeserializeOwned>(key: &str, text: &str) -> Result<T, BackendError> {
    serde_json::from_str(text).map_err(|e| BackendError::corrupt(key, e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, BackendError> {
    serde_json::to_string(value).map_err(|e| BackendError::other(e.to_string()))
}

/// `METHOD:path` of a per-route policy, as the Python original indexes it.
fn policy_route(method: &str, path: &str) -> String {
    format!("{}:{path}", method.to_ascii_uppercase())
}

#[async_trait]
impl Backend for RedisBackend {
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError> {
        self.get_json(&self.shared.keys.state(key)).await
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let json = encode(state)?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(keys.state(&state.path), &json)
            .ignore()
            .sadd(keys.route_index(), &state.path)
            .ignore()
            .publish(keys.changes_channel(), &json)
            .ignore();
        if Sentinel::parse(&state.path) == Some(Sentinel::GlobalMaintenance) {
            pipe.publish(keys.global_channel(), "1").ignore();
        }
        self.run(&pipe).await
    }

    async fn delete_state(&self, key: &str) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(keys.state(key))
            .ignore()
            .srem(keys.route_index(), key)
            .ignore()
            .publish(keys.deletions_channel(), key)
            .ignore();
        if Sentinel::parse(key) == Some(Sentinel::GlobalMaintenance) {
            pipe.publish(keys.global_channel(), "1").ignore();
        }
        self.run(&pipe).await
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        let keys = &self.shared.keys;
        let mut states: Vec<RouteState> = self
            .indexed_json(&keys.route_index(), &keys.state(""))
            .await?;
        states.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(states)
    }

    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let json = encode(entry)?;
        let last = AUDIT_CAPACITY as isize - 1;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .lpush(keys.audit(), &json)
            .ignore()
            .ltrim(keys.audit(), 0, last)
            .ignore()
            .lpush(keys.audit_of(&entry.path), &json)
            .ignore()
            .ltrim(keys.audit_of(&entry.path), 0, last)
            .ignore();
        self.run(&pipe).await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        let keys = &self.shared.keys;
        let list = match &query.route {
            Some(route) => keys.audit_of(route),
            None => keys.audit(),
        };
        self.list_json(&list, query.limit.min(AUDIT_CAPACITY)).await
    }

    async fn rate_limit_policies(&self) -> Result<Vec<RateLimitPolicy>, BackendError> {
        let keys = &self.shared.keys;
        let mut policies: Vec<RateLimitPolicy> = self
            .indexed_json(&keys.policy_index(), &keys.policy(""))
            .await?;
        policies.sort_by(|a, b| (&a.method, &a.path).cmp(&(&b.method, &b.path)));
        Ok(policies)
    }

    async fn set_rate_limit_policy(&self, policy: &RateLimitPolicy) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let route = policy_route(&policy.method, &policy.path);
        let json = encode(policy)?;
        let message = encode(&serde_json::json!({
            "action": "set",
            "key": route,
            "policy": policy,
        }))?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(keys.policy(&route), &json)
            .ignore()
            .sadd(keys.policy_index(), &route)
            .ignore()
            .publish(keys.policy_channel(), message)
            .ignore();
        self.run(&pipe).await
    }

    async fn delete_rate_limit_policy(&self, method: &str, path: &str) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let route = policy_route(method, path);
        let message = encode(&serde_json::json!({ "action": "delete", "key": route }))?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(keys.policy(&route))
            .ignore()
            .srem(keys.policy_index(), &route)
            .ignore()
            .publish(keys.policy_channel(), message)
            .ignore();
        self.run(&pipe).await
    }

    async fn write_rate_limit_hit(&self, hit: &RateLimitHit) -> Result<(), BackendError> {
        let keys = &self.shared.keys;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .lpush(keys.hits(), encode(hit)?)
            .ignore()
            .ltrim(keys.hits(), 0, HIT_LOG_CAPACITY as isize - 1)
            .ignore();
        self.run(&pipe).await
    }

    async fn rate_limit_hits(
        &self,
        query: &HitQuery,
    ) -> Result<Option<Vec<RateLimitHit>>, BackendError> {
        let keys = &self.shared.keys;
        let hits: Vec<RateLimitHit> = match &query.route {
            // The log is one list: a filtered read scans it, as the Python original does.
            Some(_) => {
                let mut all = self.list_json(&keys.hits(), HIT_LOG_CAPACITY).await?;
                all.reverse();
                select_newest(all.iter(), query, |h: &RateLimitHit| &h.path)
            }
            None => {
                self.list_json(&keys.hits(), query.limit.min(HIT_LOG_CAPACITY))
                    .await?
            }
        };
        Ok(Some(hits))
    }

    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool, BackendError> {
        let mut conn = self.connection().await?;
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let claimed: Option<String> = redis::cmd("SET")
            .arg(self.shared.keys.claim(id))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(claimed.is_some())
    }

    fn rate_limit_counters(&self) -> Option<Arc<dyn SharedCounters>> {
        let counters: Arc<dyn SharedCounters> = Arc::new(counters::Handle {
            backend: Arc::clone(&self.shared),
        });
        Some(counters)
    }

    fn watch(&self) -> Option<watch::Receiver<u64>> {
        self.follow();
        Some(self.shared.changes.subscribe())
    }

    async fn startup(&self) -> Result<(), BackendError> {
        self.follow();
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        let follower = self
            .shared
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(follower) = follower {
            follower.abort();
        }
        Ok(())
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        if let Some(follower) = self
            .shared
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            follower.abort();
        }
    }
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: only the address is shown.
        let info = self.shared.client.get_connection_info();
        f.debug_struct("RedisBackend")
            .field("addr", &info.addr().to_string())
            .field("db", &info.redis_settings().db())
            .field("key_prefix", &self.shared.keys.prefix())
            .finish_non_exhaustive()
    }
}
