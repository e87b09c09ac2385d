//! Which code declares and reads which flags: what finds stale flags (stored, declared by no
//! running code: candidates for removal) and missing ones (declared by running code, deleted
//! from the store).
//!
//! This process reports itself (its `#[flag]` declarations and its evaluations, as the
//! service `local`); a Waygate Server adds what its services report when they register
//! (their declarations) and every few seconds after (when they last evaluated each flag),
//! and which of them have a stream open — a service counts as running only then.

use super::{declared_flags, FlagSet, FlagTelemetry};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The name this process reports itself under.
pub const LOCAL_SERVICE: &str = "local";

/// How long a flag no running code declares may go unread before it is stale.
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// What the services of a fleet reported.
#[derive(Debug, Default)]
pub struct FlagUsage {
    services: Mutex<BTreeMap<String, ServiceUsage>>,
}

#[derive(Debug, Default, Clone)]
struct ServiceUsage {
    declared: BTreeSet<String>,
    last_evaluated: BTreeMap<String, DateTime<Utc>>,
    connected: bool,
}

/// One flag in a [`StaleReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagUse {
    /// The flag's key.
    pub key: String,
    /// Whether the store holds it.
    pub stored: bool,
    /// The running services (and `local`) that declare it.
    pub declared_by: Vec<String>,
    /// When each service (running or not) last evaluated it.
    pub last_evaluated: BTreeMap<String, DateTime<Utc>>,
}

/// Which flags are stale and which are missing: `GET api/flags/stale`, `waygate flags stale`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleReport {
    /// Stored flags no running code declares and no service evaluated in the last
    /// [`STALE_AFTER`] (24 hours): candidates for removal.
    pub stale: Vec<String>,
    /// Flags running code declares that the store does not hold (deleted).
    pub missing: Vec<String>,
    /// Every flag stored, declared or evaluated, by key.
    pub flags: Vec<FlagUse>,
    /// The services counted as running (with a stream open), and `local` when this process
    /// declares or evaluates flags.
    pub services: Vec<String>,
}

impl FlagUsage {
    /// `service` declares `keys` (its registration): replaces what it declared before.
    pub fn declare(&self, service: &str, keys: impl IntoIterator<Item = String>) {
        let mut services = self.lock();
        services.entry(service.to_owned()).or_default().declared = keys.into_iter().collect();
    }

    /// `service` last evaluated flag `key` at `at` (a later report wins).
    pub fn evaluated(&self, service: &str, key: &str, at: DateTime<Utc>) {
        let mut services = self.lock();
        let usage = services.entry(service.to_owned()).or_default();
        let last = usage.last_evaluated.entry(key.to_owned()).or_insert(at);
        *last = (*last).max(at);
    }

    /// Whether `service` has a stream open (it counts as running only then).
    pub fn set_connected(&self, service: &str, connected: bool) {
        self.lock().entry(service.to_owned()).or_default().connected = connected;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ServiceUsage>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The report, for the flags in `flags`, with this process's own declarations and
    /// `telemetry`'s evaluations (as of `now`) as the service `local`.
    pub fn report(
        &self,
        flags: &FlagSet,
        telemetry: &FlagTelemetry,
        now: DateTime<Utc>,
    ) -> StaleReport {
        let mut services = self.lock().clone();
        let local = ServiceUsage {
            declared: declared_flags().iter().map(|d| d.key.to_owned()).collect(),
            last_evaluated: telemetry.last_evaluated(now).into_iter().collect(),
            connected: true,
        };
        if !local.declared.is_empty() || !local.last_evaluated.is_empty() {
            services.insert(LOCAL_SERVICE.to_owned(), local);
        }
        let mut uses: BTreeMap<String, FlagUse> = BTreeMap::new();
        fn entry<'a>(
            uses: &'a mut BTreeMap<String, FlagUse>,
            flags: &FlagSet,
            key: &str,
        ) -> &'a mut FlagUse {
            uses.entry(key.to_owned()).or_insert_with(|| FlagUse {
                key: key.to_owned(),
                stored: flags.flag(key).is_some(),
                declared_by: Vec::new(),
                last_evaluated: BTreeMap::new(),
            })
        }
        for flag in flags.flags() {
            entry(&mut uses, flags, &flag.key);
        }
        for (name, usage) in &services {
            if usage.connected {
                for key in &usage.declared {
                    entry(&mut uses, flags, key).declared_by.push(name.clone());
                }
            }
            for (key, at) in &usage.last_evaluated {
                entry(&mut uses, flags, key)
                    .last_evaluated
                    .insert(name.clone(), *at);
            }
        }
        let flags: Vec<FlagUse> = uses.into_values().collect();
        StaleReport {
            stale: flags
                .iter()
                .filter(|f| f.stored && f.declared_by.is_empty())
                .filter(|f| f.last_evaluated.values().all(|at| now - *at > STALE_AFTER))
                .map(|f| f.key.clone())
                .collect(),
            missing: flags
                .iter()
                .filter(|f| !f.stored && !f.declared_by.is_empty())
                .map(|f| f.key.clone())
                .collect(),
            flags,
            services: services
                .into_iter()
                .filter(|(_, usage)| usage.connected)
                .map(|(name, _)| name)
                .collect(),
        }
    }
}
