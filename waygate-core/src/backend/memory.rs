use super::{select_audit, Backend, BackendError, AUDIT_CAPACITY};
use crate::model::{AuditEntry, AuditQuery, RouteState};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// State in process memory: the default, for one instance or for tests.
///
/// Engines that share one `MemoryBackend` (through an `Arc`) see each other's changes.
#[derive(Debug)]
pub struct MemoryBackend {
    data: Mutex<Data>,
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Data {
    states: BTreeMap<String, RouteState>,
    audit: VecDeque<AuditEntry>,
    /// Claimed one-off jobs and when each claim lapses.
    claims: HashMap<String, Instant>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self {
            data: Mutex::new(Data::default()),
            changes: watch::channel(0).0,
        }
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        // A panic while holding the lock cannot leave `Data` half-updated (each operation is
        // one insert or remove), so a poisoned lock is safe to keep using.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError> {
        Ok(self.data().states.get(key).cloned())
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        self.data().states.insert(state.path.clone(), state.clone());
        self.changed();
        Ok(())
    }

    async fn delete_state(&self, key: &str) -> Result<(), BackendError> {
        let removed = self.data().states.remove(key).is_some();
        if removed {
            self.changed();
        }
        Ok(())
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        Ok(self.data().states.values().cloned().collect())
    }

    async fn list_states_with_prefix(&self, prefix: &str) -> Result<Vec<RouteState>, BackendError> {
        let data = self.data();
        Ok(data
            .states
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, state)| state.clone())
            .collect())
    }

    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let mut data = self.data();
        if data.audit.len() == AUDIT_CAPACITY {
            data.audit.pop_front();
        }
        data.audit.push_back(entry.clone());
        Ok(())
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        Ok(select_audit(self.data().audit.iter(), query))
    }

    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool, BackendError> {
        let now = Instant::now();
        let mut data = self.data();
        data.claims.retain(|_, lapses| *lapses > now);
        if data.claims.contains_key(id) {
            return Ok(false);
        }
        data.claims.insert(id.to_owned(), now + ttl);
        Ok(true)
    }

    fn watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.changes.subscribe())
    }
}
