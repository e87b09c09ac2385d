//! Maintenance windows on tokio timers: the route is enforced as in maintenance during
//! `[start, end)` by the snapshot itself (it reads the clock); the timers publish the change
//! at `start` and enable the route at `end`, so state, audit and subscribers follow.

use super::{Change, Engine, EngineEvent, Inner};
use crate::model::{Actor, MaintenanceWindow, RouteState, RouteStatus};
use crate::EngineError;
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

/// One timer task per route with a window.
#[derive(Debug, Default)]
pub(super) struct Scheduler {
    tasks: Mutex<FxHashMap<String, JoinHandle<()>>>,
}

impl Scheduler {
    fn tasks(&self) -> std::sync::MutexGuard<'_, FxHashMap<String, JoinHandle<()>>> {
        // Inserts and removes only: a poisoned lock still holds a consistent map.
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops every timer (except the calling task, which is finishing its own work).
    pub(super) fn cancel_all(&self) {
        for (_, task) in self.tasks().drain() {
            abort_unless_current(&task);
        }
    }

    fn forget_current(&self, key: &str) {
        let mut tasks = self.tasks();
        if tasks
            .get(key)
            .is_some_and(|t| Some(t.id()) == tokio::task::try_id())
        {
            tasks.remove(key);
        }
    }
}

fn abort_unless_current(task: &JoinHandle<()>) {
    if Some(task.id()) != tokio::task::try_id() {
        task.abort();
    }
}

impl Engine {
    /// Arms (or disarms) the timer of a route after its state changed.
    pub(super) fn schedule(&self, state: &RouteState) {
        let mut tasks = self.inner.scheduler.tasks();
        if let Some(old) = tasks.remove(&state.path) {
            abort_unless_current(&old);
        }
        let Some(window) = state.window.clone() else {
            return;
        };
        if state.status != RouteStatus::Maintenance {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(key = %state.path, "waygate: no tokio runtime; the maintenance window will not end by itself");
            return;
        };
        let key = state.path.clone();
        let task = runtime.spawn(run_window(Arc::downgrade(&self.inner), key.clone(), window));
        tasks.insert(key, task);
    }

    /// Called when a window ends: enables the route if it still has that window.
    async fn end_window(&self, key: &str, window: &MaintenanceWindow) -> Result<(), EngineError> {
        let still_scheduled = self
            .state(key)
            .is_some_and(|s| s.window.as_ref() == Some(window));
        if !still_scheduled {
            return Ok(());
        }
        let actor = Actor::new("scheduler");
        self.change_route_closing(key, actor, "enable", Some(window), |state| {
            state.status = RouteStatus::Active;
            state.reason.clear();
            state.window = None;
            Ok("maintenance window ended".to_owned())
        })
        .await
        .map(drop)
    }
}

/// How long the claim to end a window is kept: long past any engine's timer for it.
const WINDOW_CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

async fn run_window(engine: Weak<Inner>, key: String, window: MaintenanceWindow) {
    let Some(clock) = engine.upgrade().map(|inner| inner.clock) else {
        return;
    };
    if window.start > clock.now() {
        sleep_until(clock.instant_at(window.start)).await;
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let engine = Engine { inner };
        // The snapshot already enforces the window; publishing bumps its generation so that
        // cached views (OpenAPI, dashboards) refresh.
        engine.publish(&mut engine.view());
        if let Some(state) = engine
            .state(&key)
            .filter(|s| s.window.as_ref() == Some(&window))
        {
            let statuses = (RouteStatus::Active, RouteStatus::Maintenance);
            let change = Change::window("maintenance_on", &state, &window, statuses, clock.now());
            engine.emit(EngineEvent::Applied(Arc::new(change)));
        }
        engine.emit(EngineEvent::RouteChanged { key: key.clone() });
    }
    sleep_until(clock.instant_at(window.end)).await;
    let Some(inner) = engine.upgrade() else {
        return;
    };
    let engine = Engine { inner };
    engine.inner.scheduler.forget_current(&key);
    // Every engine on a shared backend has this timer: one of them ends the window (and
    // audits it), the others follow its write.
    let claim = format!(
        "window-end:{key}:{}:{}",
        window.start.timestamp_millis(),
        window.end.timestamp_millis()
    );
    match engine
        .inner
        .backend
        .claim_once(&claim, WINDOW_CLAIM_TTL)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            // Better ended twice than never.
            tracing::warn!(%error, %key, "waygate: cannot claim the end of a maintenance window; ending it here");
        }
    }
    if let Err(error) = engine.end_window(&key, &window).await {
        tracing::error!(%error, %key, "waygate: could not end the maintenance window");
    }
}
