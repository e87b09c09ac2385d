//! [`FileBackend`]: state in one JSON file, shared between processes.
//!
//! The file is the Python original's document, `{"states": {key: RouteState}, "audit":
//! [AuditEntry, oldest first]}`, plus whatever other top-level sections it holds (`rl_hits`,
//! `rl_policies`, `rate_limits`, ...), which are kept as they are.
//!
//! Every operation works on an in-memory copy of the document. Before each one, and in a
//! background poll while the backend is started, the file's metadata is compared with what
//! this instance last read or wrote; when another writer changed it, the file is read again
//! and [`Backend::watch`] moves. Every write rewrites the whole document atomically: a temp
//! file in the same directory, `fsync`, `rename` over the target, `fsync` of the directory.
//! A file that cannot be parsed is never overwritten.

mod claims;
mod disk;
mod document;

use claims::{claim_file, claim_name};
use disk::{observe, replace_file, Observed, Seen};
use document::{digest, encode, Audited, Document};

use super::{select_audit, Backend, BackendError, AUDIT_CAPACITY};
use crate::model::{AuditEntry, AuditQuery, RouteState};
use async_trait::async_trait;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a started backend looks for changes by other writers, by default.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The shortest poll interval [`FileBackend::with_poll_interval`] accepts.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(1);

/// State in a JSON file, shared by every process that opens the same path.
///
/// Writes replace the file atomically (temp file, `fsync`, `rename`, directory `fsync`), so a
/// crash never leaves a half-written file. Changes made by another process are picked up
/// before every read and, once [`startup`](Backend::startup) has run (the engine calls it
/// from [`Engine::start`](crate::Engine::start)), by a background poll that makes
/// [`watch`](Backend::watch) move so the engine reloads. This instance's own writes do not
/// move it.
///
/// The file keeps the Python original's layout, and top-level sections waygate does not use
/// (rate-limit hits and policies) survive every rewrite. A file that cannot be parsed is
/// reported as [`BackendError::Corrupt`] and never overwritten: when it goes bad after
/// opening, reads keep serving the last good data and writes fail until the file is valid
/// again.
///
/// Two processes writing at the very same moment can still lose one of the two updates (the
/// file is not locked); each write is re-applied on the newest content the instance can see.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use waygate_core::backend::{Backend, FileBackend};
/// use waygate_core::{Engine, RouteState, RouteStatus};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("waygate-state.json");
///
/// let backend = FileBackend::open(&path)?;
/// let mut state = RouteState::active("GET:/payments");
/// state.status = RouteStatus::Disabled;
/// backend.set_state(&state).await?;
///
/// // Another process opening the same file sees the change.
/// let other = FileBackend::open(&path)?;
/// let stored = other.get_state("GET:/payments").await?.unwrap();
/// assert_eq!(stored.status, RouteStatus::Disabled);
///
/// // Usually the engine owns the backend.
/// let engine = Engine::builder().backend(other).build();
/// engine.start().await?;
/// assert_eq!(engine.state("GET:/payments").unwrap().status, RouteStatus::Disabled);
/// engine.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "file")))]
pub struct FileBackend {
    shared: Arc<Shared>,
    poll_interval: Duration,
    poller: Mutex<Option<JoinHandle<()>>>,
}

/// What the poll task and the operations share.
struct Shared {
    path: PathBuf,
    cache: Mutex<Cache>,
    /// Held for every disk access, so a refresh never races a write and two writes never
    /// interleave.
    io: tokio::sync::Mutex<()>,
    changes: watch::Sender<u64>,
}

/// The in-memory copy of the file.
struct Cache {
    doc: Document,
    /// The file as last read or written; `None` when it did not exist.
    seen: Option<Seen>,
    /// Why the file on disk cannot be used, while it cannot; writes are refused meanwhile.
    corrupt: Option<String>,
    /// The last problem logged, so each one is logged once.
    logged: Option<String>,
}

impl FileBackend {
    /// Opens the state file at `path`, reading it now if it exists. A missing file is an
    /// empty state; it is created, with its parent directories, on the first write. An empty
    /// file is an empty state too.
    ///
    /// # Errors
    ///
    /// [`BackendError::Corrupt`] when the file is not a waygate state document (the message
    /// gives the line and column), [`BackendError::Io`] when it cannot be read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let path = path.as_ref().to_path_buf();
        let (doc, seen) = match observe(&path, None) {
            Ok(Observed::Unchanged | Observed::Missing) => (Document::default(), None),
            Ok(Observed::Same(seen)) => (Document::default(), Some(seen)),
            Ok(Observed::Content { seen, parsed }) => match parsed {
                Ok(doc) => (doc, Some(seen)),
                Err(message) => return Err(corrupt(&path, message)),
            },
            Err(source) => {
                return Err(BackendError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        Ok(Self {
            shared: Arc::new(Shared {
                path,
                cache: Mutex::new(Cache {
                    doc,
                    seen,
                    corrupt: None,
                    logged: None,
                }),
                io: tokio::sync::Mutex::new(()),
                changes: watch::channel(0).0,
            }),
            poll_interval: DEFAULT_POLL_INTERVAL,
            poller: Mutex::new(None),
        })
    }

    /// Sets how often the started backend looks for changes made by other writers (default
    /// 500 ms, at least 1 ms). Changes are also looked for before every read.
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(MIN_POLL_INTERVAL);
        self
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn poller(&self) -> MutexGuard<'_, Option<JoinHandle<()>>> {
        // Only `Option::take`/`replace` run under this lock; it cannot be poisoned half-way.
        self.poller.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the cache after picking up changes by other writers; problems reading the file
    /// are logged and the last good data is served.
    async fn read<T>(&self, f: impl FnOnce(&Document) -> T) -> T {
        {
            let _io = self.shared.io.lock().await;
            if let Err(error) = self.shared.refresh().await {
                self.shared.cache().log_once(&error);
            }
        }
        f(&self.shared.cache().doc)
    }

    /// Applies `change` to the newest content and writes the document; `change` returns
    /// whether it changed anything (nothing is written otherwise).
    async fn write(&self, change: impl FnOnce(&mut Document) -> bool) -> Result<(), BackendError> {
        let shared = &self.shared;
        let _io = shared.io.lock().await;
        shared.refresh().await?;
        let mut doc = {
            let cache = shared.cache();
            if let Some(message) = &cache.corrupt {
                return Err(corrupt(&shared.path, message.clone()));
            }
            cache.doc.clone()
        };
        if !change(&mut doc) {
            return Ok(());
        }
        let bytes = encode(&doc)
            .map_err(|e| BackendError::other(format!("cannot encode the state file: {e}")))?;
        let path = shared.path.clone();
        let hash = digest(&bytes);
        let stamp = blocking(move || replace_file(&path, &bytes))
            .await?
            .map_err(|source| BackendError::Io {
                action: "write",
                path: shared.path.clone(),
                source,
            })?;
        let mut cache = shared.cache();
        cache.doc = doc;
        cache.seen = Some(Seen { stamp, hash });
        Ok(())
    }
}

impl Shared {
    fn cache(&self) -> MutexGuard<'_, Cache> {
        // Every update of the cache is a set of plain assignments made after all fallible
        // work, so a poisoned lock still guards consistent data.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads the file when someone else changed it. Call with `io` held.
    async fn refresh(&self) -> Result<(), BackendError> {
        let seen = self.cache().seen;
        let path = self.path.clone();
        let observed = blocking(move || observe(&path, seen))
            .await?
            .map_err(|source| BackendError::Io {
                action: "read",
                path: self.path.clone(),
                source,
            })?;
        let mut cache = self.cache();
        let changed = match observed {
            Observed::Unchanged => false,
            Observed::Same(seen) => {
                cache.seen = Some(seen);
                false
            }
            Observed::Missing => {
                cache.seen = None;
                cache.corrupt = None;
                let changed = cache.doc != Document::default();
                cache.doc = Document::default();
                changed
            }
            Observed::Content { seen, parsed } => {
                cache.seen = Some(seen);
                match parsed {
                    Ok(doc) => {
                        cache.corrupt = None;
                        let changed = cache.doc != doc;
                        cache.doc = doc;
                        changed
                    }
                    Err(message) => {
                        let error = corrupt(&self.path, message.clone());
                        cache.corrupt = Some(message);
                        cache.log_once(&error);
                        false
                    }
                }
            }
        };
        if cache.corrupt.is_none() && cache.logged.take().is_some() {
            tracing::info!(path = %self.path.display(), "waygate: the state file is readable again");
        }
        drop(cache);
        if changed {
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }
}

impl Cache {
    fn log_once(&mut self, error: &BackendError) {
        let message = error.to_string();
        if self.logged.as_deref() != Some(message.as_str()) {
            tracing::error!(%error, "waygate: ignoring the state file and serving the last good data");
            self.logged = Some(message);
        }
    }
}

async fn poll(shared: Arc<Shared>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let _io = shared.io.lock().await;
        if let Err(error) = shared.refresh().await {
            shared.cache().log_once(&error);
        }
    }
}

#[async_trait]
impl Backend for FileBackend {
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError> {
        Ok(self.read(|doc| doc.states.get(key).cloned()).await)
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        self.write(|doc| {
            doc.states.insert(state.path.clone(), state.clone());
            true
        })
        .await
    }

    async fn delete_state(&self, key: &str) -> Result<(), BackendError> {
        self.write(|doc| doc.states.remove(key).is_some()).await
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        Ok(self
            .read(|doc| doc.states.values().cloned().collect())
            .await)
    }

    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let audited = Audited::new(entry.clone())
            .map_err(|e| BackendError::other(format!("cannot encode the audit entry: {e}")))?;
        let audited = Arc::new(audited);
        self.write(|doc| {
            while doc.audit.len() >= AUDIT_CAPACITY {
                doc.audit.pop_front();
            }
            doc.audit.push_back(audited);
            true
        })
        .await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        Ok(self
            .read(|doc| select_audit(doc.audit.iter().map(|a| &a.entry), query))
            .await)
    }

    /// Claims `id` with a file created exclusively in `<state file>.claims/`, so exactly one
    /// process sharing the state file wins; a claim whose `ttl` has passed is taken over.
    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool, BackendError> {
        let mut dir = self.shared.path.clone().into_os_string();
        dir.push(".claims");
        let dir = PathBuf::from(dir);
        let file = dir.join(claim_name(id));
        blocking(move || claim_file(&file, ttl))
            .await?
            .map_err(|source| BackendError::Io {
                action: "claim a job in",
                path: dir,
                source,
            })
    }

    /// Moves when another writer changed the file (never on this instance's own writes).
    fn watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.shared.changes.subscribe())
    }

    /// Starts the background poll for other writers' changes.
    async fn startup(&self) -> Result<(), BackendError> {
        let mut poller = self.poller();
        if poller.as_ref().is_none_or(JoinHandle::is_finished) {
            *poller = Some(tokio::spawn(poll(
                Arc::clone(&self.shared),
                self.poll_interval,
            )));
        }
        Ok(())
    }

    /// Stops the poll and waits for a write in progress; every write is complete on disk
    /// when it returns, so there is nothing else to flush.
    async fn shutdown(&self) -> Result<(), BackendError> {
        let poller = self.poller().take();
        if let Some(poller) = poller {
            poller.abort();
            // A cancelled poll is the expected outcome; a panic cannot happen in it.
            let _ = poller.await;
        }
        drop(self.shared.io.lock().await);
        Ok(())
    }
}

impl Drop for FileBackend {
    fn drop(&mut self) {
        if let Some(poller) = self.poller().take() {
            poller.abort();
        }
    }
}

impl fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cache = self.shared.cache();
        f.debug_struct("FileBackend")
            .field("path", &self.shared.path)
            .field("poll_interval", &self.poll_interval)
            .field("states", &cache.doc.states.len())
            .field("audit", &cache.doc.audit.len())
            .field("corrupt", &cache.corrupt)
            .finish_non_exhaustive()
    }
}

fn corrupt(path: &Path, message: String) -> BackendError {
    BackendError::corrupt(path.display().to_string(), message)
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackendError::other(format!("state file task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::document::parse;
    use super::*;

    #[test]
    fn blank_file_is_an_empty_document() {
        assert_eq!(parse(b"").unwrap(), Document::default());
        assert_eq!(parse(b" \n\t").unwrap(), Document::default());
    }

    #[test]
    fn errors_point_at_the_bad_value() {
        let text = "{\n  \"rl_hits\": [],\n  \"states\": {\"GET:/x\": {\"path\": 5}}\n}";
        let message = parse(text.as_bytes()).unwrap_err();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn unknown_sections_round_trip() {
        let text = r#"{"rl_policies":{"GET:/x":{"limit":"1/minute"}},"states":{},"audit":[],"rate_limits":[1,2]}"#;
        let doc = parse(text.as_bytes()).unwrap();
        let again = parse(&encode(&doc).unwrap()).unwrap();
        assert_eq!(doc, again);
        assert_eq!(again.other["rate_limits"], serde_json::json!([1, 2]));
    }

    #[tokio::test]
    async fn own_writes_are_recognised_without_reading_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let backend = FileBackend::open(dir.path().join("state.json")).unwrap();
        for key in ["GET:/a", "GET:/b"] {
            backend.set_state(&RouteState::active(key)).await.unwrap();
            let seen = backend.shared.cache().seen;
            let observed = observe(&backend.shared.path, seen).unwrap();
            assert!(matches!(observed, Observed::Unchanged), "{observed:?}");
        }
    }

    #[test]
    fn non_objects_are_rejected() {
        for text in [
            "[]",
            "5",
            "\"states\"",
            "null",
            "{\"states\": []}",
            "{\"audit\": {}}",
        ] {
            assert!(parse(text.as_bytes()).is_err(), "{text}");
        }
    }
}
