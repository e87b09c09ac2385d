//! [`RouteSlot`]: what the decision last found for one mounted route, so that the next
//! request to it is answered without the snapshot.

use crate::counters::{RequestOutcome, RouteCounters};
use crate::decide::SkipPaths;
use crate::snapshot::Snapshot;
use crate::Engine;
use http::Method;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// One mounted route's memory of the decision's common case: whether, at the engine's
/// current generation, a request to it is served with nothing to do but count it (active,
/// no rate limit, rollout, flag or maintenance anywhere).
///
/// An adapter keeps one for each route it wraps (axum's `Router::layer` wraps every route
/// in a service of its own) and asks it before deciding. A request the slot answers costs a
/// comparison of its template and method, two atomic loads (the engine's generation and the
/// slot's) and its count: no snapshot, no lookup. Any change to the engine moves its
/// generation, and the next request is decided in full, as is every request the slot has
/// not learnt (another method or template reaching the same service, a route that is not
/// plain).
///
/// ```
/// use http::{Method, Request};
/// use waygate_core::{Decision, Engine, RouteSlot, SkipPaths};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let engine = Engine::new();
/// engine.start().await.unwrap();
/// let slot = RouteSlot::new();
/// let (request, ()) = Request::get("/items/42").body(()).unwrap().into_parts();
/// let template = Some("/items/{id}");
///
/// // What an adapter does per request: the slot, else the decision, which teaches it.
/// let mut served_by_slot = Vec::new();
/// for _ in 0..2 {
///     if slot.serve(&engine, &request.method, template) {
///         served_by_slot.push(true);
///         continue;
///     }
///     let snapshot = engine.snapshot();
///     let decision = engine.decide(&snapshot, &request, template);
///     if matches!(&decision, Decision::Serve(serve) if serve.is_plain()) {
///         slot.learn(&snapshot, &SkipPaths::default(), &request.method, template);
///     }
///     served_by_slot.push(false);
///     // The first request registered the route; wait for the snapshot that knows it.
///     while !engine.snapshot().knows(&Method::GET, "/items/{id}") {
///         tokio::task::yield_now().await;
///     }
/// }
/// assert_eq!(served_by_slot, [false, false]);
/// assert!(slot.serve(&engine, &request.method, template), "learnt on the second");
/// # }
/// ```
#[derive(Debug, Default)]
pub struct RouteSlot {
    /// The route the slot learnt, the first time one was served plainly.
    route: OnceLock<LearntRoute>,
    /// [`plain_at`]`(generation)` while the route serves plainly at that generation.
    plain_at: AtomicU64,
    /// The generation the slot last tried to learn at: it tries once per generation, so a
    /// route it cannot answer for (behind a flag, say) costs its requests one load more.
    tried_at: AtomicU64,
}

/// The route a slot answers for.
#[derive(Debug)]
struct LearntRoute {
    method: Method,
    template: Box<str>,
    /// The counters of the rule the route was decided by.
    counters: Arc<RouteCounters>,
}

/// The slot's word for "plain at `generation`": never 0, the word of a slot that knows
/// nothing.
fn plain_at(generation: u64) -> u64 {
    generation << 1 | 1
}

impl RouteSlot {
    /// A slot that knows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts and answers `true` when the slot knows that a `method` request to `template`
    /// is served as it comes at `engine`'s current generation; `false` when the request
    /// must be decided (then [`learn`](Self::learn) from a decision to serve it plainly).
    #[inline]
    pub fn serve(&self, engine: &Engine, method: &Method, template: Option<&str>) -> bool {
        let (Some(route), Some(template)) = (self.route.get(), template) else {
            return false;
        };
        if *route.template != *template || route.method != *method {
            return false;
        }
        if self.plain_at.load(Ordering::Acquire) != plain_at(engine.generation()) {
            return false;
        }
        route.counters.add(RequestOutcome::Allowed);
        true
    }

    /// Learns from `snapshot` whether a `method` request to `template` is served plainly.
    /// Asked after a decision served such a request as it came; `skip` is what the adapter
    /// leaves alone (a template that can match a skipped path is never learnt: the slot
    /// does not see paths).
    #[cold]
    pub fn learn(
        &self,
        snapshot: &Snapshot,
        skip: &SkipPaths,
        method: &Method,
        template: Option<&str>,
    ) {
        let Some(template) = template else {
            return;
        };
        if let Some(route) = self.route.get() {
            if *route.template != *template || route.method != *method {
                return;
            }
        }
        let generation = snapshot.generation();
        if self.tried_at.load(Ordering::Relaxed) == generation {
            return;
        }
        self.tried_at.store(generation, Ordering::Relaxed);
        let Some(rule) = snapshot.rule(method, template) else {
            return;
        };
        if !rule.plain
            || (rule.feature_flag.is_some() && !rule.force_active)
            || skip.may_skip_template(template)
        {
            return;
        }
        let route = self.route.get_or_init(|| LearntRoute {
            method: method.clone(),
            template: template.into(),
            counters: Arc::clone(&rule.counters),
        });
        // The same request, decided by the same rule (a route's counters are its key's
        // for the engine's life): a rule of another key (the method's own rule added to
        // a bare one) is never answered for.
        let same = *route.template == *template
            && route.method == *method
            && Arc::ptr_eq(&route.counters, &rule.counters);
        if same {
            self.plain_at.store(plain_at(generation), Ordering::Release);
        }
    }
}
