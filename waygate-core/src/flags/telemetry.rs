//! What evaluations did: counts per flag, variation and reason (sharded like the route
//! counters: one relaxed add on a cache line of the evaluating thread's own, no lock, no
//! allocation), when each flag was last evaluated, exposures handed to a callback off the
//! evaluating thread, and a `tracing` event with OpenTelemetry's feature-flag fields.

use super::set::{Reason, Resolution};
use super::EvaluationContext;
use crate::counters::{shard, SHARDS};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The reasons an evaluation is counted under, in label order.
pub const COUNTED_REASONS: [Reason; 6] = [
    Reason::Off,
    Reason::Fallthrough,
    Reason::TargetMatch,
    Reason::RuleMatch,
    Reason::PrerequisiteFail,
    Reason::Error,
];

/// Counters per 64-byte line.
const PER_LINE: usize = 8;

#[repr(align(64))]
#[derive(Default)]
struct Line([AtomicU64; PER_LINE]);

/// The counters of one flag (for one list of variations).
pub(crate) struct FlagStats {
    variations: Box<[Box<str>]>,
    lines_per_shard: usize,
    lines: Box<[Line]>,
}

impl std::fmt::Debug for FlagStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagStats")
            .field("variations", &self.variations)
            .finish_non_exhaustive()
    }
}

impl FlagStats {
    fn new(variations: &[String]) -> Self {
        let slots = variations.len().max(1) * COUNTED_REASONS.len();
        let lines_per_shard = slots.div_ceil(PER_LINE);
        Self {
            variations: variations.iter().map(|v| v.as_str().into()).collect(),
            lines_per_shard,
            lines: (0..SHARDS * lines_per_shard)
                .map(|_| Line::default())
                .collect(),
        }
    }

    /// Where `(variation, reason)` is counted; `None` for a variation the flag does not
    /// have (a name that resolves to nothing serves `null`) or an uncounted reason.
    fn slot(&self, variation: usize, reason: Reason) -> Option<usize> {
        if variation >= self.variations.len() {
            return None;
        }
        let reason = COUNTED_REASONS.iter().position(|r| *r == reason)?;
        Some(variation * COUNTED_REASONS.len() + reason)
    }

    /// Counts one evaluation that served variation number `variation` for `reason`.
    #[inline]
    pub(crate) fn record(&self, variation: usize, reason: Reason) {
        let Some(slot) = self.slot(variation, reason) else {
            return;
        };
        let line = shard() * self.lines_per_shard + slot / PER_LINE;
        if let Some(line) = self.lines.get(line) {
            line.0[slot % PER_LINE].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(variation, reason, count)` for every pair counted at least once.
    fn totals(&self) -> Vec<(&str, Reason, u64)> {
        let mut totals = Vec::new();
        for (v, name) in self.variations.iter().enumerate() {
            for reason in COUNTED_REASONS {
                let Some(slot) = self.slot(v, reason) else {
                    continue;
                };
                let count: u64 = (0..SHARDS)
                    .map(|shard| {
                        let line = shard * self.lines_per_shard + slot / PER_LINE;
                        self.lines[line].0[slot % PER_LINE].load(Ordering::Relaxed)
                    })
                    .sum();
                if count > 0 {
                    totals.push((&**name, reason, count));
                }
            }
        }
        totals
    }
}

/// One evaluation, as an exposure callback sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The flag's key.
    pub flag: String,
    /// The variation served.
    pub variation: String,
    /// Why.
    pub reason: Reason,
    /// The context's targeting key.
    pub targeting_key: String,
    /// The context's kind (`user`, ...).
    pub kind: String,
}

/// How many exposures may wait for the callback; more are dropped (and counted).
const EXPOSURE_QUEUE: usize = 4096;

/// Where exposures go: a bounded queue a task drains into the user's callback.
pub(crate) struct ExposureSink {
    queue: tokio::sync::mpsc::Sender<Exposure>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for ExposureSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExposureSink")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ExposureSink {
    /// A sink whose exposures `callback` receives on a task of the current runtime.
    pub(crate) fn spawn(callback: impl Fn(Exposure) + Send + Sync + 'static) -> Arc<Self> {
        let (queue, mut exposures) = tokio::sync::mpsc::channel(EXPOSURE_QUEUE);
        tokio::spawn(async move {
            while let Some(exposure) = exposures.recv().await {
                callback(exposure);
            }
        });
        Arc::new(Self {
            queue,
            dropped: AtomicU64::new(0),
        })
    }

    fn send(&self, key: &str, resolution: &Resolution<'_>, ctx: &EvaluationContext) {
        let exposure = Exposure {
            flag: key.to_owned(),
            variation: resolution.variation.to_owned(),
            reason: resolution.reason,
            targeting_key: ctx.key.clone(),
            kind: ctx.kind.clone(),
        };
        if self.queue.try_send(exposure).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The telemetry of an engine's flags: the counters (which outlast each flag set), the
/// exposure sink, and when each flag was last seen evaluated.
#[derive(Debug, Default)]
pub struct FlagTelemetry {
    stats: Mutex<FxHashMap<String, Arc<FlagStats>>>,
    exposures: arc_swap::ArcSwapOption<ExposureSink>,
    /// Per flag: the total last looked at, and when it last grew.
    seen: Mutex<FxHashMap<String, (u64, chrono::DateTime<chrono::Utc>)>>,
}

/// One line of [`FlagTelemetry::evaluations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationCount {
    /// The flag's key.
    pub flag: String,
    /// The variation served.
    pub variation: String,
    /// Why (the Python original's reason names: `FALLTHROUGH`, `RULE_MATCH`, ...).
    pub reason: &'static str,
    /// How many times, since the process started.
    pub count: u64,
}

impl FlagTelemetry {
    /// The counters of flag `key` with these variations: the same ones as before while
    /// the variations stay (a change of variations starts them again).
    pub(crate) fn stats_for(&self, key: &str, variations: &[String]) -> Arc<FlagStats> {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        match stats.get(key) {
            Some(current)
                if current.variations.len() == variations.len()
                    && current
                        .variations
                        .iter()
                        .zip(variations)
                        .all(|(a, b)| **a == **b) =>
            {
                Arc::clone(current)
            }
            _ => {
                let fresh = Arc::new(FlagStats::new(variations));
                stats.insert(key.to_owned(), Arc::clone(&fresh));
                fresh
            }
        }
    }

    /// Forgets the counters of flags not in `keys` (deleted ones).
    pub(crate) fn retain(&self, keys: &dyn Fn(&str) -> bool) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.retain(|key, _| keys(key));
    }

    /// Every flag's evaluations by variation and reason, sorted.
    pub fn evaluations(&self) -> Vec<EvaluationCount> {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<EvaluationCount> = stats
            .iter()
            .flat_map(|(flag, stats)| {
                stats
                    .totals()
                    .into_iter()
                    .map(|(variation, reason, count)| EvaluationCount {
                        flag: flag.clone(),
                        variation: variation.to_owned(),
                        reason: reason.as_str(),
                        count,
                    })
            })
            .collect();
        all.sort_by(|a, b| {
            (&a.flag, &a.variation, a.reason).cmp(&(&b.flag, &b.variation, b.reason))
        });
        all
    }

    /// When each flag was last evaluated, as of `now`: a flag whose count grew since the
    /// previous look was evaluated by `now`. Looked at when asked (and every few seconds by
    /// the engine), so the time is as fine as the looks.
    pub fn last_evaluated(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        let totals: Vec<(String, u64)> = {
            let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            stats
                .iter()
                .map(|(key, stats)| (key.clone(), stats.totals().iter().map(|t| t.2).sum()))
                .collect()
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for (key, total) in totals {
            let entry = seen.entry(key).or_insert((0, now));
            if total > entry.0 {
                *entry = (total, now);
            }
        }
        let mut all: Vec<_> = seen
            .iter()
            .filter(|(_, (total, _))| *total > 0)
            .map(|(key, (_, at))| (key.clone(), *at))
            .collect();
        all.sort();
        all
    }

    /// The exposure sink evaluations send to, if one is set.
    pub(crate) fn exposures(&self) -> Option<Arc<ExposureSink>> {
        self.exposures.load_full()
    }

    /// Sets the exposure sink.
    pub(crate) fn set_exposures(&self, sink: Arc<ExposureSink>) {
        self.exposures.store(Some(sink));
    }

    /// How many exposures were dropped because the callback fell behind.
    pub fn dropped_exposures(&self) -> u64 {
        self.exposures
            .load()
            .as_ref()
            .map_or(0, |sink| sink.dropped.load(Ordering::Relaxed))
    }
}

/// What an evaluation reports, once it is resolved: counted, exposed, traced.
#[inline]
pub(crate) fn report(
    stats: &FlagStats,
    exposures: Option<&ExposureSink>,
    key: &str,
    variation: usize,
    resolution: &Resolution<'_>,
    ctx: &EvaluationContext,
) {
    stats.record(variation, resolution.reason);
    if let Some(sink) = exposures {
        sink.send(key, resolution, ctx);
    }
    tracing::event!(
        target: "waygate::flags::evaluation",
        tracing::Level::DEBUG,
        feature_flag.key = key,
        feature_flag.result.variant = resolution.variation,
        feature_flag.result.reason = resolution.reason.as_str(),
        feature_flag.provider.name = "waygate",
        feature_flag.context.id = ctx.key.as_str(),
        "feature_flag.evaluation"
    );
}
