//! What each thread last read of an engine — its snapshot, its flags — kept for its next
//! request: while the engine's generation of it has not moved, a request reads the
//! thread's copy (a thread-local read, one atomic load of the generation and a count only
//! this thread touches) instead of loading the shared one.
//!
//! A thread keeps one engine's copy at a time: a request for another engine loads and keeps
//! that one's. An idle thread keeps what it last read until its next request: memory only,
//! never an answer (the generation says it is old).

use super::Engine;
use crate::flags::FlagSet;
use crate::Snapshot;
use std::cell::Cell;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::LocalKey;

/// The next engine's id: what tells engines apart in a thread's copy (an address could be
/// reused by a later engine).
static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(1);

/// A new engine's id, unique in the process.
pub(super) fn next_engine_id() -> u64 {
    NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A thread's copy of one engine's value, and the generation it was loaded at (or after).
#[derive(Debug)]
pub(crate) struct Kept<T> {
    engine: u64,
    generation: u64,
    value: Arc<T>,
}

impl<T> Deref for Kept<T> {
    type Target = Arc<T>;

    fn deref(&self) -> &Arc<T> {
        &self.value
    }
}

type Slot<T> = Cell<Option<Rc<Kept<T>>>>;

thread_local! {
    static SNAPSHOT: Slot<Snapshot> = const { Cell::new(None) };
    static FLAGS: Slot<FlagSet> = const { Cell::new(None) };
}

/// The thread's copy in `slot` if it is `engine`'s at `generation`, else `load()`'s, kept.
///
/// `generation` is read before `load` runs: a copy is never older than the generation it is
/// kept under (the engine moves a generation just after replacing what it counts).
#[inline(always)]
fn read<T>(
    slot: &'static LocalKey<Slot<T>>,
    engine: u64,
    generation: u64,
    load: impl FnOnce() -> Arc<T>,
) -> Rc<Kept<T>> {
    let kept = slot.try_with(|slot| {
        let kept = slot.take();
        let current = kept
            .as_ref()
            .filter(|kept| kept.engine == engine && kept.generation == generation)
            .cloned();
        slot.set(kept);
        current
    });
    match kept {
        Ok(Some(current)) => current,
        _ => keep(slot, engine, generation, load()),
    }
}

/// Keeps `value` as the thread's copy in `slot` (unless the thread is ending).
#[cold]
fn keep<T>(
    slot: &'static LocalKey<Slot<T>>,
    engine: u64,
    generation: u64,
    value: Arc<T>,
) -> Rc<Kept<T>> {
    let copy = Rc::new(Kept {
        engine,
        generation,
        value,
    });
    // The copy it replaces is dropped out of the cell.
    let _ = slot.try_with(|kept| kept.replace(Some(Rc::clone(&copy))));
    copy
}

/// The current snapshot as [`Engine::thread_snapshot`] reads it: the thread's copy, held for
/// as long as this lives. It stays on the thread that read it (it is neither `Send` nor
/// `Sync`): a future that awaits clones the `Arc` it dereferences to.
#[derive(Debug)]
pub struct ThreadSnapshot(Rc<Kept<Snapshot>>);

impl Deref for ThreadSnapshot {
    type Target = Arc<Snapshot>;

    fn deref(&self) -> &Arc<Snapshot> {
        &self.0
    }
}

impl Engine {
    /// The current snapshot, through this thread's copy: what a middleware decides a
    /// request with.
    ///
    /// Cheaper than [`snapshot`](Self::snapshot) on a thread that serves this engine's
    /// requests one after another: the thread keeps the snapshot it read last and reads it
    /// again as long as the engine's [generation](Self::generation) is the same (one atomic
    /// load; the count of the copy is the thread's own). A change made before this call is
    /// always seen.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let engine = waygate_core::Engine::new();
    /// engine.start().await.unwrap();
    /// let snapshot = engine.thread_snapshot();
    /// assert_eq!(snapshot.generation(), engine.generation());
    /// # }
    /// ```
    #[inline]
    pub fn thread_snapshot(&self) -> ThreadSnapshot {
        ThreadSnapshot(read(&SNAPSHOT, self.inner.id, self.generation(), || {
            self.inner.snapshot.load_full()
        }))
    }

    /// The flags in force, through this thread's copy (as
    /// [`thread_snapshot`](Self::thread_snapshot) reads the snapshot): what a
    /// `#[feature_flag]` route is decided with.
    // Out of line: inlined into the flag gate, it made the layer's allowed path 66
    // instructions dearer (callgrind), on requests that never reach the gate.
    #[inline(never)]
    pub(crate) fn thread_flags(&self) -> Rc<Kept<FlagSet>> {
        read(
            &FLAGS,
            self.inner.id,
            self.inner.flags_generation.load(Ordering::Acquire),
            || self.inner.flags.load_full(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{Backend, MemoryBackend};
    use crate::{Actor, Engine, RouteState, Verdict};
    use chrono::Utc;
    use http::Method;

    async fn started() -> Engine {
        let backend = MemoryBackend::new();
        backend
            .set_state(&RouteState::active("GET:/a"))
            .await
            .unwrap();
        let engine = Engine::builder().backend(backend).build();
        engine.start().await.unwrap();
        engine
    }

    /// Whether `/a` is blocked, as `thread_snapshot` reads it.
    fn blocked(engine: &Engine) -> bool {
        let snapshot = engine.thread_snapshot();
        matches!(
            snapshot.check(&Method::GET, Some("/a"), "/a", Utc::now),
            Verdict::Block(_)
        )
    }

    async fn disable(engine: &Engine) {
        engine
            .disable("GET:/a", "hotfix", Actor::new("alice"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_change_is_seen_by_the_next_read_on_the_same_thread() {
        let engine = started().await;
        assert!(!blocked(&engine));
        assert!(!blocked(&engine));
        disable(&engine).await;
        assert!(blocked(&engine));
        engine.enable("GET:/a", Actor::new("alice")).await.unwrap();
        assert!(!blocked(&engine));
    }

    #[tokio::test]
    async fn two_engines_read_in_turn_on_one_thread_keep_their_own_snapshots() {
        let (one, two) = (started().await, started().await);
        disable(&one).await;
        one.enable("GET:/a", Actor::new("alice")).await.unwrap();
        disable(&two).await;
        disable(&two).await;
        // Two changes each: equal generations, told apart by the engines' ids.
        assert_eq!(one.generation(), two.generation());
        for _ in 0..3 {
            assert!(!blocked(&one));
            assert!(blocked(&two));
        }
    }

    #[tokio::test]
    async fn a_read_while_another_engines_snapshot_is_held_gets_its_own() {
        let (outer, inner) = (started().await, started().await);
        disable(&inner).await;
        let held = outer.thread_snapshot();
        assert!(blocked(&inner));
        assert!(matches!(
            held.check(&Method::GET, Some("/a"), "/a", Utc::now),
            Verdict::Pass(_)
        ));
        assert!(!blocked(&outer));
        assert!(blocked(&inner));
    }

    #[tokio::test]
    async fn a_flag_change_is_seen_by_the_next_read_of_the_threads_flags() {
        let engine = started().await;
        let flag = |targets: &[&str]| -> crate::flags::FeatureFlag {
            serde_json::from_value(serde_json::json!({
                "key": "beta", "name": "Beta", "type": "boolean",
                "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
                "off_variation": "off", "fallthrough": "off",
                "targets": {"on": targets},
            }))
            .unwrap()
        };
        let ctx = crate::flags::EvaluationContext::new("alice");
        let on = |engine: &Engine| engine.thread_flags().bool("beta", &ctx, false);
        engine.save_flag(flag(&[]), "alice").await.unwrap();
        assert!(!on(&engine));
        assert!(!on(&engine));
        engine.save_flag(flag(&["alice"]), "alice").await.unwrap();
        assert!(on(&engine));
        // Another engine's flags, read in turn, do not stand in for these.
        let other = started().await;
        assert!(!on(&other));
        assert!(on(&engine));
    }
}
