//! Flags and segments as engine state: stored as waygate records through the backend (so
//! Redis pub/sub, the file poller and custom backends carry them), audited, and compiled
//! into the [`FlagSet`] that evaluation reads.

use super::{Engine, EngineEvent};
use crate::error::EngineError;
use crate::flags::{
    check_flag, check_segment, FeatureFlag, FlagDeclaration, FlagSet, PyDateTime, Segment,
};
use crate::model::{Actor, AuditEntry};
use crate::stored::Sentinel;
use std::sync::Arc;

/// The flags in force: what [`Engine::flags`] hands out. Derefs to the [`FlagSet`]; holding
/// it keeps that set alive (a change publishes a new one beside it). Meant to be held for a
/// request, not stored: keep [`into_set`](Self::into_set) for longer.
#[derive(Debug)]
pub struct Flags(arc_swap::Guard<Arc<FlagSet>>);

impl Flags {
    /// The set itself, to keep.
    pub fn into_set(self) -> Arc<FlagSet> {
        arc_swap::Guard::into_inner(self.0)
    }
}

impl std::ops::Deref for Flags {
    type Target = FlagSet;

    fn deref(&self) -> &FlagSet {
        &self.0
    }
}

impl Engine {
    /// Creates each declared flag the store does not hold, with its default, audited as
    /// `system` (stored flags win; a stored flag of another type than declared is kept and
    /// logged). Nothing while the flags are pending: a service's server creates them when
    /// the service registers them.
    pub(super) async fn seed_declared_flags(&self, declared: &[&'static FlagDeclaration]) {
        if self.flags().is_pending() {
            return;
        }
        for declaration in declared {
            let stored_type = self.flags().flag(declaration.key).map(|f| f.flag_type);
            match stored_type {
                Some(stored) if stored != declaration.flag_type() => tracing::warn!(
                    flag = declaration.key,
                    declared = declaration.flag_type().as_str(),
                    stored = stored.as_str(),
                    at = %declaration.location(),
                    "waygate: a declared flag is stored with another type; reads serve the default"
                ),
                Some(_) => {}
                None => {
                    if let Err(error) = self.save_flag(declaration.to_flag(), "system").await {
                        self.note_backend_error();
                        tracing::error!(flag = declaration.key, %error, "waygate: cannot create a declared flag");
                    }
                }
            }
        }
    }
}

/// What a flag mutation did, for its audit entry.
fn audit_path(kind: &str, key: &str) -> String {
    format!("{kind}:{key}")
}

impl Engine {
    /// The flags and segments in force, for evaluation: one atomic load, no lock.
    ///
    /// ```
    /// use waygate_core::flags::EvaluationContext;
    /// use waygate_core::Engine;
    ///
    /// let engine = Engine::new();
    /// let ctx = EvaluationContext::new("user-42");
    /// assert!(!engine.flags().bool("new-checkout", &ctx, false));
    /// ```
    pub fn flags(&self) -> Flags {
        Flags(self.inner.flags.load())
    }

    /// What flag evaluations did: counts per flag, variation and reason, and when each flag
    /// was last evaluated (what `/metrics` and the stale-flag report read).
    pub fn flag_telemetry(&self) -> &crate::flags::FlagTelemetry {
        &self.inner.flag_telemetry
    }

    /// Which services declare and read which flags: a Waygate Server records what its
    /// services report here.
    pub fn flag_usage(&self) -> &crate::flags::FlagUsage {
        &self.inner.flag_usage
    }

    /// Stale flags (stored, declared by no running code) and missing ones (declared, not
    /// stored), with when each service last evaluated each flag; this process counts as the
    /// service `local`.
    pub fn stale_flags(&self) -> crate::flags::StaleReport {
        self.inner
            .flag_usage
            .report(&self.flags(), &self.inner.flag_telemetry, self.now())
    }

    /// Hands every flag evaluation from now on to `callback` — an experiment's exposures,
    /// say — on a task of the current tokio runtime, never on the evaluating thread: an
    /// evaluation only queues its [`Exposure`](crate::flags::Exposure) (at most 4,096 wait;
    /// more are dropped and counted in [`dropped_exposures`](crate::flags::FlagTelemetry::dropped_exposures)).
    /// With a callback, each evaluation allocates its exposure; without, nothing.
    ///
    /// ```
    /// use waygate_core::flags::EvaluationContext;
    /// use waygate_core::Engine;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let engine = Engine::new();
    /// engine.on_flag_exposure(|exposure| {
    ///     println!("{} saw {} of {}", exposure.targeting_key, exposure.variation, exposure.flag);
    /// });
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn on_flag_exposure(
        &self,
        callback: impl Fn(crate::flags::Exposure) + Send + Sync + 'static,
    ) {
        let sink = crate::flags::telemetry::ExposureSink::spawn(callback);
        self.inner.flag_telemetry.set_exposures(sink);
        let view = self.view();
        self.publish_flags(&view.records);
    }

    /// Creates or replaces a flag, after checking it ([`check_flag`]: its variation names
    /// resolve, its regexes compile, no prerequisite cycle). `updated_at` is now; a flag
    /// that existed keeps its `created_at`. Audited as `flag_created` or `flag_updated`.
    pub async fn save_flag(
        &self,
        mut flag: FeatureFlag,
        actor: impl Into<Actor>,
    ) -> Result<FeatureFlag, EngineError> {
        let _write = self.inner.write.lock().await;
        let current = self.flags();
        check_flag(&flag, &current).map_err(|e| EngineError::invalid("flag", e.0))?;
        if let Some(existing) = current.flag(&flag.key) {
            flag.created_at = existing.created_at;
        }
        let action = match current.flag(&flag.key) {
            Some(_) => "flag_updated",
            None => "flag_created",
        };
        drop(current);
        self.store_flag(flag, actor.into(), action, String::new())
            .await
    }

    /// Stores a checked flag (the caller holds the write lock), stamps `updated_at`,
    /// publishes and audits it.
    pub(super) async fn store_flag(
        &self,
        mut flag: FeatureFlag,
        actor: Actor,
        action: &str,
        reason: String,
    ) -> Result<FeatureFlag, EngineError> {
        flag.updated_at = PyDateTime::from(self.now());
        self.store_record(Sentinel::Flag(&flag.key), &flag).await?;
        let stored = flag.clone();
        self.change_flags(|flags, _| {
            flags.insert(flag.key.clone(), flag);
        });
        self.audit_flag("flag", &stored.key, action, actor, reason)
            .await;
        Ok(stored)
    }

    /// Turns a flag on or off (`flag_enabled` / `flag_disabled`); `NotFound` for an unknown
    /// key.
    pub async fn set_flag_enabled(
        &self,
        key: &str,
        enabled: bool,
        actor: impl Into<Actor>,
    ) -> Result<FeatureFlag, EngineError> {
        let _write = self.inner.write.lock().await;
        let mut flag = self
            .flags()
            .flag(key)
            .cloned()
            .ok_or_else(|| EngineError::NotFound {
                key: key.to_owned(),
            })?;
        flag.enabled = enabled;
        let action = match enabled {
            true => "flag_enabled",
            false => "flag_disabled",
        };
        self.store_flag(flag, actor.into(), action, String::new())
            .await
    }

    /// Deletes a flag (`flag_deleted`); `NotFound` for an unknown key.
    pub async fn delete_flag(&self, key: &str, actor: impl Into<Actor>) -> Result<(), EngineError> {
        let _write = self.inner.write.lock().await;
        if self.flags().flag(key).is_none() {
            return Err(EngineError::NotFound {
                key: key.to_owned(),
            });
        }
        self.inner
            .backend
            .delete_state(&Sentinel::Flag(key).to_string())
            .await?;
        self.change_flags(|flags, _| {
            flags.remove(key);
        });
        self.audit_flag("flag", key, "flag_deleted", actor.into(), String::new())
            .await;
        Ok(())
    }

    /// Creates or replaces a segment, after checking it (`segment_created` /
    /// `segment_updated`).
    pub async fn save_segment(
        &self,
        mut segment: Segment,
        actor: impl Into<Actor>,
    ) -> Result<Segment, EngineError> {
        let _write = self.inner.write.lock().await;
        check_segment(&segment).map_err(|e| EngineError::invalid("segment", e.0))?;
        let current = self.flags();
        let existing = current.segment(&segment.key);
        if let Some(existing) = existing {
            segment.created_at = existing.created_at;
        }
        segment.updated_at = PyDateTime::from(self.now());
        let action = if existing.is_some() {
            "segment_updated"
        } else {
            "segment_created"
        };
        self.store_record(Sentinel::Segment(&segment.key), &segment)
            .await?;
        let stored = segment.clone();
        self.change_flags(|_, segments| {
            segments.insert(segment.key.clone(), segment);
        });
        self.audit_flag("segment", &stored.key, action, actor.into(), String::new())
            .await;
        Ok(stored)
    }

    /// Deletes a segment (`segment_deleted`); `NotFound` for an unknown key.
    pub async fn delete_segment(
        &self,
        key: &str,
        actor: impl Into<Actor>,
    ) -> Result<(), EngineError> {
        let _write = self.inner.write.lock().await;
        if self.flags().segment(key).is_none() {
            return Err(EngineError::NotFound {
                key: key.to_owned(),
            });
        }
        self.inner
            .backend
            .delete_state(&Sentinel::Segment(key).to_string())
            .await?;
        self.change_flags(|_, segments| {
            segments.remove(key);
        });
        self.audit_flag(
            "segment",
            key,
            "segment_deleted",
            actor.into(),
            String::new(),
        )
        .await;
        Ok(())
    }

    async fn store_record<T: serde::Serialize>(
        &self,
        sentinel: Sentinel<'_>,
        value: &T,
    ) -> Result<(), EngineError> {
        let record = sentinel
            .encode(Some(value))
            .map_err(|e| EngineError::invalid("flag", e.to_string()))?;
        self.inner.backend.set_state(&record).await?;
        Ok(())
    }

    /// Applies `change` to the view's flags and segments and publishes the new set.
    fn change_flags(
        &self,
        change: impl FnOnce(
            &mut std::collections::BTreeMap<String, FeatureFlag>,
            &mut std::collections::BTreeMap<String, Segment>,
        ),
    ) {
        let mut view = self.view();
        let records = &mut view.records;
        change(&mut records.flags, &mut records.segments);
        self.publish_flags(records);
    }

    /// Compiles the records' flags and segments and publishes them.
    pub(super) fn publish_flags(&self, records: &super::services::Records) {
        let set = match records.flags_pending && records.flags.is_empty() {
            true => FlagSet::pending(),
            false => FlagSet::with_telemetry(
                records.flags.values().cloned(),
                records.segments.values().cloned(),
                &self.inner.flag_telemetry,
            ),
        };
        self.inner
            .flag_telemetry
            .retain(&|key| records.flags.contains_key(key));
        let set = Arc::new(set);
        crate::flags::declared::publish(self.id(), &set);
        self.inner.flags.store(set);
        self.inner
            .flags_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        self.emit(EngineEvent::FlagsChanged);
        if self.is_started() {
            self.arm_flag_timer();
        }
    }

    async fn audit_flag(&self, kind: &str, key: &str, action: &str, actor: Actor, reason: String) {
        let mut entry = AuditEntry::new(audit_path(kind, key), action, &actor);
        entry.timestamp = self.now();
        entry.reason = reason;
        self.audit(entry).await;
    }
}
