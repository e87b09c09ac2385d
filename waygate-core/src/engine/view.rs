//! The engine's picture of the backend, plus the declared routes, from which snapshots are
//! built.

use super::limits::StoredPolicies;
use super::services::Records;
use crate::limits::Limits;
use crate::model::{GlobalMaintenanceConfig, MaintenanceWindow, RouteState, RouteStatus};
use crate::registry::{registered_routes, InitialStatus, RouteMeta};
use crate::snapshot::{Snapshot, SnapshotInput};
use crate::stored::Sentinel;
use chrono::{TimeZone, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(super) struct View {
    /// States loaded from (or written to) the backend, sentinels excluded.
    pub(super) states: BTreeMap<String, RouteState>,
    pub(super) global: GlobalMaintenanceConfig,
    /// Declared routes by full key.
    pub(super) metas: FxHashMap<String, &'static RouteMeta>,
    /// Keys this process wrote from attributes and nobody changed since.
    pub(super) seeded: FxHashSet<String>,
    /// Compiled rate-limit policies.
    pub(super) limits: Limits,
    /// Service maintenance and token revocations.
    pub(super) records: Records,
    /// waygate's own records as last loaded, to tell a real change from an echo.
    loaded_sentinels: Vec<RouteState>,
    /// The stored policies as last loaded.
    pub(super) loaded_policies: Option<StoredPolicies>,
    pub(super) generation: u64,
    /// Whether snapshots carry a path matcher
    /// ([`Engine::match_paths`](crate::Engine::match_paths)), and the templates it must not
    /// answer for.
    pub(super) path_match: bool,
    pub(super) path_match_excluded: FxHashSet<Box<str>>,
}

impl View {
    /// The declared routes, their limiters counting in `counters` (or in memory).
    pub(super) fn from_registry(counters: crate::limiter::Counters) -> Self {
        let metas = registered_routes().map(|m| (m.key.to_owned(), m)).collect();
        let limits = Limits::declared(&metas, counters);
        Self {
            metas,
            limits,
            ..Self::default()
        }
    }

    /// No declared routes (an engine that only knows its backend's routes).
    pub(super) fn empty(counters: crate::limiter::Counters) -> Self {
        Self {
            limits: Limits::declared(&FxHashMap::default(), counters),
            ..Self::default()
        }
    }

    /// A route's state: stored, else declared.
    pub(super) fn state(&self, key: &str) -> Option<RouteState> {
        self.states
            .get(key)
            .cloned()
            .or_else(|| self.metas.get(key).map(|meta| attribute_state(key, meta)))
    }

    pub(super) fn contains(&self, key: &str) -> bool {
        self.states.contains_key(key) || self.metas.contains_key(key)
    }

    /// Every known key, stored or declared.
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str).chain(
            self.metas
                .keys()
                .map(String::as_str)
                .filter(|k| !self.states.contains_key(*k)),
        )
    }

    /// Every route's state (stored, else declared), sorted by key.
    pub(super) fn states(&self) -> Vec<RouteState> {
        let mut all: Vec<RouteState> = self.keys().filter_map(|k| self.state(k)).collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all
    }

    /// Whether freshly loaded data is what the view already holds.
    pub(super) fn is_current(
        &self,
        states: &[RouteState],
        global: &GlobalMaintenanceConfig,
        policies: &StoredPolicies,
        complete: bool,
    ) -> bool {
        let (sentinels, routes): (Vec<&RouteState>, Vec<&RouteState>) =
            states.iter().partition(|s| Sentinel::is_sentinel(&s.path));
        self.global == *global
            && self.records.flags_pending != complete
            && self.loaded_policies.as_ref() == Some(policies)
            && sentinels.len() == self.loaded_sentinels.len()
            && sentinels.iter().all(|s| self.loaded_sentinels.contains(s))
            && routes.len() == self.states.len()
            && routes.iter().all(|s| self.states.get(&s.path) == Some(*s))
    }

    /// Replaces the stored states; `complete`: the backend answered with everything it
    /// will hold (see [`Backend::is_complete`](crate::backend::Backend::is_complete)).
    pub(super) fn replace_states(&mut self, states: Vec<RouteState>, complete: bool) {
        let mut records = Records::from_states(&states);
        records.flags_pending = !complete;
        records.flags_changed = records.flags != self.records.flags
            || records.segments != self.records.segments
            || records.flags_pending != self.records.flags_pending
            || self.records.flags_changed;
        self.records = records;
        self.loaded_sentinels = states
            .iter()
            .filter(|s| Sentinel::is_sentinel(&s.path))
            .cloned()
            .collect();
        self.states = states
            .into_iter()
            .filter(|s| !Sentinel::is_sentinel(&s.path))
            .map(|s| (s.path.clone(), s))
            .collect();
    }

    pub(super) fn snapshot(
        &self,
        env: &str,
        counters: &crate::counters::RequestCounters,
    ) -> Snapshot {
        let declared: Vec<RouteState> = self
            .metas
            .iter()
            .filter(|(k, _)| !self.states.contains_key(*k))
            .map(|(k, m)| attribute_state(k, m))
            .collect();
        let states: Vec<&RouteState> = self.states.values().chain(declared.iter()).collect();
        Snapshot::build(SnapshotInput {
            generation: self.generation,
            env,
            states: &states,
            metas: &self.metas,
            global: &self.global,
            limits: &self.limits,
            services: &self.records.services,
            counters,
            path_match: self.path_match.then_some(&self.path_match_excluded),
        })
    }
}

/// The state a route's attributes declare.
pub(super) fn attribute_state(key: &str, meta: &RouteMeta) -> RouteState {
    let mut state = RouteState::active(key);
    state.force_active = meta.force_active;
    if let Some(rollout) = &meta.rollout {
        state.rollout_percentage = rollout.percent;
    }
    match meta.initial {
        InitialStatus::Active => {}
        InitialStatus::Maintenance { reason, window } => {
            state.status = RouteStatus::Maintenance;
            state.reason = reason.to_owned();
            state.window = window.and_then(|(start, end)| {
                Some(MaintenanceWindow::new(
                    Utc.timestamp_opt(start, 0).single()?,
                    Utc.timestamp_opt(end, 0).single()?,
                    reason,
                ))
            });
        }
        InitialStatus::Disabled { reason } => {
            state.status = RouteStatus::Disabled;
            state.reason = reason.to_owned();
        }
        InitialStatus::EnvOnly { envs } => {
            state.status = RouteStatus::EnvGated;
            state.allowed_envs = envs.iter().map(|e| (*e).to_owned()).collect();
        }
        InitialStatus::Deprecated {
            sunset,
            use_instead,
            ..
        } => {
            state.status = RouteStatus::Deprecated;
            state.sunset_date = sunset.map(str::to_owned);
            state.successor_path = use_instead.map(str::to_owned);
        }
    }
    state
}
