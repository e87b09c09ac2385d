//! Starting and stopping the engine: loading state, seeding declared routes, following the
//! backend's changes and registering routes first seen by the middleware.

use super::view::attribute_state;
use super::{Engine, EngineEvent, Inner};
use crate::model::RouteState;
use crate::rate_limit::RateLimitHit;
use crate::registry::RouteMeta;
use crate::EngineError;
use rustc_hash::FxHashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long the engine waits before retrying a backend that failed to load.
const RELOAD_RETRY: Duration = Duration::from_secs(5);

type UnknownRoutes = mpsc::Receiver<(http::Method, String)>;

#[derive(Debug)]
pub(super) struct Tasks {
    unknown: Option<UnknownRoutes>,
    hits: Option<mpsc::Receiver<RateLimitHit>>,
    handles: Vec<JoinHandle<()>>,
    started: bool,
}

impl Tasks {
    pub(super) fn new(unknown: UnknownRoutes, hits: mpsc::Receiver<RateLimitHit>) -> Self {
        Self {
            unknown: Some(unknown),
            hits: Some(hits),
            handles: Vec::new(),
            started: false,
        }
    }
}

impl Engine {
    /// Loads stored state, seeds every declared route that has none (stored state wins over
    /// attributes), arms maintenance timers and starts the background tasks that follow the
    /// backend and register routes first seen by the middleware. Calling it again does nothing.
    ///
    /// Until `start` the engine enforces the declared (attribute) states. If the backend
    /// cannot be read, `start` returns the error but the engine keeps serving the declared
    /// states and retries in the background, so an app may log the error and carry on.
    pub async fn start(&self) -> Result<(), EngineError> {
        let declared = crate::flags::declared_flags();
        crate::flags::check_declarations(&declared)
            .map_err(|message| EngineError::invalid("flag declarations", message))?;
        let (unknown, hits) = {
            let mut tasks = self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner());
            if tasks.started {
                return Ok(());
            }
            tasks.started = true;
            (tasks.unknown.take(), tasks.hits.take())
        };
        if let Err(error) = self.inner.backend.startup().await {
            self.note_backend_error();
            tracing::error!(%error, "waygate: backend startup failed");
        }
        // Subscribe before loading, so that no change made after the load is missed.
        let changes = self.inner.backend.watch();
        let loaded = self.seed().await;
        if let Err(error) = &loaded {
            self.note_backend_error();
            tracing::error!(%error, "waygate: cannot load route state; serving declared states and retrying");
        }
        self.inner
            .backend_loaded
            .store(loaded.is_ok(), std::sync::atomic::Ordering::Relaxed);
        crate::flags::declared::install(self.id(), self.inner.flags.load_full());
        if loaded.is_ok() {
            self.seed_declared_flags(&declared).await;
        }
        let weak = Arc::downgrade(&self.inner);
        let mut handles = vec![tokio::spawn(follow_backend(
            weak.clone(),
            changes,
            loaded.is_ok(),
        ))];
        if let Some(unknown) = unknown {
            handles.push(tokio::spawn(register_unknown(weak.clone(), unknown)));
        }
        if let Some(hits) = hits {
            handles.push(tokio::spawn(super::hits::write_hits(weak.clone(), hits)));
        }
        handles.push(tokio::spawn(super::hits::sweep_counters(weak)));
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .handles
            .extend(handles);
        loaded
    }

    /// Stops the background tasks and timers and lets the backend flush. The engine keeps
    /// enforcing its last snapshot.
    pub async fn shutdown(&self) {
        let handles = std::mem::take(
            &mut self
                .inner
                .tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .handles,
        );
        for handle in handles {
            handle.abort();
        }
        self.inner.scheduler.cancel_all();
        self.inner.flag_timer.cancel();
        if let Err(error) = self.inner.backend.shutdown().await {
            tracing::error!(%error, "waygate: backend shutdown failed");
        }
    }

    /// Whether [`start`](Self::start) was called.
    pub(super) fn is_started(&self) -> bool {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .started
    }

    /// Loads everything from the backend and writes the declared state of every route that
    /// has no stored state yet.
    async fn seed(&self) -> Result<(), EngineError> {
        let _write = self.inner.write.lock().await;
        let backend = &self.inner.backend;
        let mut stored = backend.list_states().await?;
        let global = backend.global_config().await?;
        let missing: Vec<RouteState> = {
            let stored_by_key: FxHashMap<&str, &RouteState> =
                stored.iter().map(|s| (s.path.as_str(), s)).collect();
            let view = self.view();
            let mut declared: Vec<(&String, &&'static RouteMeta)> = view.metas.iter().collect();
            declared.sort_by(|a, b| a.0.cmp(b.0));
            declared
                .into_iter()
                .map(|(key, meta)| attribute_state(key, meta))
                .filter(|wanted| match stored_by_key.get(wanted.path.as_str()) {
                    Some(stored) => {
                        report_divergence(stored, wanted);
                        false
                    }
                    None => true,
                })
                .collect()
        };
        let mut seeded = Vec::with_capacity(missing.len());
        for wanted in missing {
            backend.set_state(&wanted).await?;
            seeded.push(wanted.path.clone());
            stored.push(wanted);
        }
        let policies = self.stored_policies().await?;
        let mut view = self.view();
        view.replace_states(stored, backend.is_complete());
        view.global = global;
        view.seeded.extend(seeded);
        view.apply_policies(policies);
        self.publish(&mut view);
        let windows = windowed(&view);
        drop(view);
        self.reschedule(&windows);
        self.emit(EngineEvent::Reloaded);
        Ok(())
    }

    /// Replaces the engine's view with the backend's data (another writer changed it).
    async fn reload(&self) -> Result<(), EngineError> {
        let _write = self.inner.write.lock().await;
        let states = self.inner.backend.list_states().await?;
        let global = self.inner.backend.global_config().await?;
        let policies = self.stored_policies().await?;
        let complete = self.inner.backend.is_complete();
        let mut view = self.view();
        if view.is_current(&states, &global, &policies, complete) {
            // Nothing changed: typically this engine's own write, echoed by the backend.
            return Ok(());
        }
        view.replace_states(states, complete);
        view.global = global;
        view.apply_policies(policies);
        self.publish(&mut view);
        let windows = windowed(&view);
        drop(view);
        self.reschedule(&windows);
        self.emit(EngineEvent::Reloaded);
        Ok(())
    }

    fn reschedule(&self, windowed: &[RouteState]) {
        self.inner.scheduler.cancel_all();
        for state in windowed {
            self.schedule(state);
        }
    }

    /// Registers routes that another process declared (a service attached to a Waygate
    /// Server): each state is stored if its key has none yet, and the stored state is
    /// returned otherwise (stored state wins, as it does over attributes). Nothing is audited.
    /// Returns the states in force, in the order given.
    pub async fn register_states(
        &self,
        states: Vec<RouteState>,
    ) -> Result<Vec<RouteState>, EngineError> {
        let _write = self.inner.write.lock().await;
        let mut in_force = Vec::with_capacity(states.len());
        let mut added = Vec::new();
        for state in states {
            let known = self.view().states.get(&state.path).cloned();
            let stored = match known {
                Some(known) => Some(known),
                None => self.inner.backend.get_state(&state.path).await?,
            };
            match stored {
                Some(stored) => in_force.push(stored),
                None => {
                    self.inner.backend.set_state(&state).await?;
                    added.push(state.path.clone());
                    in_force.push(state);
                }
            }
        }
        {
            let mut view = self.view();
            for state in &in_force {
                view.states.insert(state.path.clone(), state.clone());
            }
            self.publish(&mut view);
        }
        for key in added {
            self.emit(EngineEvent::RouteChanged { key });
        }
        Ok(in_force)
    }

    /// Records where declared routes are really mounted: `(key, meta)` pairs whose key is
    /// `METHOD:` + the full path template, nest prefixes included. An adapter's router calls
    /// it once it knows every mount. A route moved away from its declared path stops being
    /// enforced under it, and its state, limits and stored record follow it to the new key.
    pub fn register_mounts(&self, mounts: Vec<(String, &'static RouteMeta)>) {
        let mut phantoms = Vec::new();
        {
            let mut view = self.view();
            for (key, meta) in mounts {
                if key != meta.key
                    && view
                        .metas
                        .get(meta.key)
                        .is_some_and(|m| m.is_same_route(meta))
                {
                    view.metas.remove(meta.key);
                    if view.seeded.remove(meta.key) {
                        view.states.remove(meta.key);
                        phantoms.push(meta.key);
                    }
                }
                view.limits.remount(&key, meta);
                view.metas.insert(key, meta);
            }
            self.publish(&mut view);
        }
        if !self.is_started() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let engine = self.clone();
        runtime.spawn(async move {
            for key in phantoms {
                if let Err(error) = engine.inner.backend.delete_state(key).await {
                    engine.note_backend_error();
                    tracing::warn!(%error, %key, "waygate: could not remove the unmounted route");
                }
            }
            if let Err(error) = engine.seed().await {
                engine.note_backend_error();
                tracing::error!(%error, "waygate: could not store the mounted routes");
            }
        });
    }

    /// Keeps a path matcher in every snapshot from now on, so that
    /// [`Snapshot::match_path`](crate::Snapshot::match_path) can name the template of a path
    /// the way a router would: for adapters whose router cannot tell a middleware cheaply
    /// (actix-web walks its resources again). Built when state changes, off the request
    /// path; an engine nobody asks keeps none.
    pub fn match_paths(&self) {
        let mut view = self.view();
        if !std::mem::replace(&mut view.path_match, true) {
            self.publish(&mut view);
        }
    }

    /// A template the adapter's router matches more narrowly than its spelling says (an
    /// actix-web `{id:\d+}`, known to the engine as `{id}`): the path matcher answers for
    /// none of its paths, nor for any template it overlaps, so they go to the router.
    pub fn exclude_from_path_match(&self, template: &str) {
        let mut view = self.view();
        if view.path_match_excluded.insert(template.into()) && view.path_match {
            self.publish(&mut view);
        }
    }
}

/// The states that have a maintenance window (the scheduler's work).
fn windowed(view: &super::view::View) -> Vec<RouteState> {
    view.states
        .values()
        .filter(|s| s.window.is_some())
        .cloned()
        .collect()
}

/// Logs when stored state overrides what the attributes now declare.
fn report_divergence(stored: &RouteState, wanted: &RouteState) {
    if stored.status != wanted.status || stored.allowed_envs != wanted.allowed_envs {
        tracing::info!(
            key = %wanted.path,
            stored = %stored.status,
            declared = %wanted.status,
            "waygate: stored state wins over the route's attributes"
        );
    }
}

/// Reloads when the backend reports a change, and retries a failed load.
async fn follow_backend(
    engine: Weak<Inner>,
    mut changes: Option<watch::Receiver<u64>>,
    mut loaded: bool,
) {
    loop {
        match changes.as_mut() {
            Some(rx) if loaded => {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            // Not loaded: retry after a while, or as soon as the backend reports a change
            // (a Redis backend does when its subscription comes back).
            Some(rx) => {
                if let Ok(Err(_)) = tokio::time::timeout(RELOAD_RETRY, rx.changed()).await {
                    return;
                }
            }
            None if !loaded => tokio::time::sleep(RELOAD_RETRY).await,
            None => return,
        }
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let engine = Engine { inner };
        let result = match loaded {
            true => engine.reload().await,
            false => engine.seed().await,
        };
        if result.is_err() {
            engine.note_backend_error();
        }
        engine
            .inner
            .backend_loaded
            .store(result.is_ok(), std::sync::atomic::Ordering::Relaxed);
        match result {
            Ok(()) if !loaded => {
                tracing::info!("waygate: route state loaded");
                loaded = true;
            }
            Ok(()) => {}
            Err(error) if loaded => {
                tracing::error!(%error, "waygate: cannot reload route state; serving the last snapshot");
                loaded = false;
            }
            Err(_) => {}
        }
    }
}

/// Stores routes the middleware saw without any state, as active.
async fn register_unknown(engine: Weak<Inner>, mut unknown: UnknownRoutes) {
    while let Some((method, template)) = unknown.recv().await {
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let engine = Engine { inner };
        if engine.snapshot().knows(&method, &template) {
            continue;
        }
        let key = format!("{method}:{template}");
        let _write = engine.inner.write.lock().await;
        let state = match engine.inner.backend.get_state(&key).await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                let state = RouteState::active(&key);
                if let Err(error) = engine.inner.backend.set_state(&state).await {
                    engine.note_backend_error();
                    tracing::warn!(%error, %key, "waygate: could not store a newly seen route");
                }
                state
            }
            Err(error) => {
                engine.note_backend_error();
                tracing::warn!(%error, %key, "waygate: could not read a newly seen route");
                RouteState::active(&key)
            }
        };
        let mut view = engine.view();
        view.states.insert(key.clone(), state);
        engine.publish(&mut view);
        drop(view);
        engine.emit(EngineEvent::RouteChanged { key });
    }
}
