//! The blocked-request log (in memory, and in the backend off the request path) and the
//! background tasks that write it and sweep expired counters.

use super::Engine;
use crate::limiter::Limiter;
use crate::model::HitQuery;
use crate::rate_limit::RateLimitHit;
use crate::EngineError;
use std::collections::VecDeque;
use std::sync::Arc;

/// How many blocked requests the engine remembers when the backend keeps no shared log.
pub(crate) const HIT_LOG_CAPACITY: usize = 10_000;

/// The bounded in-memory hit log.
pub(crate) type HitLog = std::sync::Mutex<VecDeque<RateLimitHit>>;

impl Engine {
    /// Blocked requests, newest first: from the backend's shared log when it keeps one,
    /// else from this engine's own bounded log.
    pub async fn rate_limit_hits(
        &self,
        query: &HitQuery,
    ) -> Result<Vec<RateLimitHit>, EngineError> {
        if let Some(hits) = self.inner.backend.rate_limit_hits(query).await? {
            return Ok(hits);
        }
        let log = self.inner.hits.lock().unwrap_or_else(|e| e.into_inner());
        Ok(crate::backend::select_newest(log.iter(), query, |h| {
            &h.path
        }))
    }

    /// Records a blocked request (in memory now; in the backend off the request path).
    pub(crate) fn record_hit(&self, hit: RateLimitHit) {
        self.note_refused(
            &format!("{}:{}", hit.method, hit.path),
            super::RefusalKind::RateLimited,
        );
        {
            let mut log = self.inner.hits.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == HIT_LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(hit.clone());
        }
        // A full queue drops the shared copy; the local log has it.
        let _ = self.inner.hit_tx.try_send(hit);
    }
}

/// How often expired rate-limit counters are dropped. Checks also sweep the shards they
/// touch; this returns the memory of keys that never come back.
const COUNTER_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Drops expired counters of every limiter, periodically.
pub(super) async fn sweep_counters(engine: std::sync::Weak<super::Inner>) {
    let mut every = tokio::time::interval(COUNTER_SWEEP_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let limiters: Vec<Arc<Limiter>> = {
            let view = inner.view.lock().unwrap_or_else(|e| e.into_inner());
            let limits = &view.limits;
            limits
                .routes
                .values()
                .chain(limits.global.iter())
                .chain(limits.services.values())
                .cloned()
                .collect()
        };
        let now = tokio::time::Instant::now();
        let dropped: usize = limiters.iter().map(|l| l.evict_expired(now)).sum();
        if dropped > 0 {
            tracing::debug!(dropped, "waygate: expired rate-limit counters dropped");
        }
    }
}

/// Writes hits to the backend's shared log, off the request path.
pub(super) async fn write_hits(
    engine: std::sync::Weak<super::Inner>,
    mut hits: tokio::sync::mpsc::Receiver<RateLimitHit>,
) {
    // Logged once per outage, not once per blocked request.
    let mut failing = false;
    while let Some(hit) = hits.recv().await {
        let Some(inner) = engine.upgrade() else {
            return;
        };
        match inner.backend.write_rate_limit_hit(&hit).await {
            Ok(()) if failing => {
                tracing::info!("waygate: blocked requests are written to the shared log again");
                failing = false;
            }
            Ok(()) => {}
            Err(error) if !failing => {
                tracing::warn!(%error, "waygate: blocked requests not written to the shared log until the backend is back (each engine keeps its own)");
                failing = true;
            }
            Err(_) => {}
        }
    }
}
