//! [`RouteSlot`]: what the decision last found for one mounted route, so that the next
//! request to it is answered without the snapshot.

use crate::counters::{RequestOutcome, RouteCounters};
use crate::decide::{RequestHead, SkipPaths};
use crate::snapshot::Snapshot;
use crate::Engine;
use http::Method;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// One mounted route's memory of the decision's common case: whether, at the engine's
/// current generation, a request to it is served with nothing to do but count it (active,
/// no rate limit, rollout or maintenance anywhere), or but evaluate its route's flag
/// (`#[feature_flag]`) and count it.
///
/// An adapter keeps one for each route it wraps (axum's `Router::layer` wraps every route
/// in a service of its own) and asks it before deciding. A request the slot answers costs a
/// comparison of its template and method, two atomic loads (the engine's generation and the
/// slot's), the flag's evaluation for a route behind one, and its count: no snapshot, no
/// lookup. Any change to the engine moves its generation, and the next request is decided
/// in full, as is every request the slot has not learnt (another method or template
/// reaching the same service, a route that is not plain).
///
/// ```
/// use http::{Method, Request};
/// use waygate_core::{Decision, Engine, RouteSlot, SkipPaths, SlotAnswer};
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
///     match slot.serve(&engine, &request.method, template) {
///         SlotAnswer::Served => {
///             served_by_slot.push(true);
///             continue;
///         }
///         // A route behind a flag: served if the flag is on for the request, else
///         // refused without evaluating the flag again (no route here has a flag).
///         SlotAnswer::Gated(gate) => {
///             if !gate.admits(&engine, &request) {
///                 let snapshot = engine.snapshot();
///                 let refused = engine.decide_flag_off(&snapshot, &request, template);
///                 assert!(matches!(refused, Decision::Refuse(_)));
///             }
///             continue;
///         }
///         SlotAnswer::Decide => {}
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
/// let answer = slot.serve(&engine, &request.method, template);
/// assert!(matches!(answer, SlotAnswer::Served), "learnt on the second");
/// # }
/// ```
#[derive(Debug, Default)]
pub struct RouteSlot {
    /// The route the slot learnt, the first time one was served plainly.
    route: OnceLock<LearntRoute>,
    /// [`plain_at`]`(generation)` while the route serves plainly at that generation.
    plain_at: AtomicU64,
    /// The generation the slot last tried to learn at: it tries once per generation, so a
    /// route it cannot answer for (a rate-limited one, say) costs its requests one load
    /// more.
    tried_at: AtomicU64,
}

/// What a [`RouteSlot`] answers for a request.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub enum SlotAnswer<'a> {
    /// Serve the request as it came: the slot counted it.
    Served,
    /// The route is behind a flag: serve the request as it came if
    /// [`SlotGate::admits`] it, else refuse it with [`Engine::decide_flag_off`].
    Gated(SlotGate<'a>),
    /// The slot does not know: decide in full (and [`learn`](RouteSlot::learn) from a
    /// decision to serve the request as it came).
    Decide,
}

/// The flag of a route a [`RouteSlot`] knows is served with nothing else to do.
#[derive(Debug, Clone, Copy)]
pub struct SlotGate<'a> {
    key: &'static str,
    counters: &'a RouteCounters,
}

impl SlotGate<'_> {
    /// Evaluates the route's flag for `request` (once): `true`, the request counted, when
    /// it is on; `false` when it is off (refuse the request with
    /// [`Engine::decide_flag_off`], which counts it and evaluates nothing again).
    #[inline(never)]
    pub fn admits<H: RequestHead + ?Sized>(&self, engine: &Engine, request: &H) -> bool {
        if !engine.flag_serves(self.key, request) {
            return false;
        }
        self.counters.add(RequestOutcome::Allowed);
        true
    }
}

/// The route a slot answers for.
#[derive(Debug)]
struct LearntRoute {
    method: Method,
    template: Box<str>,
    /// The counters of the rule the route was decided by.
    counters: Arc<RouteCounters>,
    /// The key of the route's flag, when it is behind one (and not force-active): a
    /// route's declaration, so every generation's rule has the same.
    gate: Option<&'static str>,
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

    /// Whether a `method` request its router matched to `template` is served as it comes
    /// at `engine`'s current generation (then counted), or served if its route's flag is on
    /// for it, or must be decided.
    #[inline]
    pub fn serve(
        &self,
        engine: &Engine,
        method: &Method,
        template: Option<&str>,
    ) -> SlotAnswer<'_> {
        let (Some(route), Some(template)) = (self.route.get(), template) else {
            return SlotAnswer::Decide;
        };
        if *route.template != *template || route.method != *method {
            return SlotAnswer::Decide;
        }
        if self.plain_at.load(Ordering::Acquire) != plain_at(engine.generation()) {
            return SlotAnswer::Decide;
        }
        if let Some(key) = route.gate {
            return SlotAnswer::Gated(SlotGate {
                key,
                counters: &route.counters,
            });
        }
        route.counters.add(RequestOutcome::Allowed);
        SlotAnswer::Served
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
        if !rule.plain || skip.may_skip_template(template) {
            return;
        }
        let gate = rule.flag_gate().map(|gate| gate.key);
        let route = self.route.get_or_init(|| LearntRoute {
            method: method.clone(),
            template: template.into(),
            counters: Arc::clone(&rule.counters),
            gate,
        });
        // The same request, decided by the same rule (a route's counters are its key's
        // for the engine's life): a rule of another key (the method's own rule added to
        // a bare one) is never answered for.
        let same = *route.template == *template
            && route.method == *method
            && Arc::ptr_eq(&route.counters, &rule.counters)
            && route.gate == gate;
        if same {
            self.plain_at.store(plain_at(generation), Ordering::Release);
        }
    }
}
