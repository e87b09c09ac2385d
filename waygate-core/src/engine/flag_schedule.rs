//! Scheduled flag changes that fire: one timer per engine, armed for the earliest pending
//! change whenever the flags change (a change added through any API, at runtime, arms it at
//! once). Due changes are applied in `execute_at` order — past-due ones at startup too —
//! each audited as `flag_updated` by `scheduler`, and removed from the flag's
//! `scheduled_changes`. On a shared backend every engine has the timer; one claims each
//! change ([`Backend::claim_once`](crate::backend::Backend::claim_once)) and applies it, the
//! others follow its write.
//!
//! The Python original schedules changes only at startup, drops past-due ones, and never
//! fires one added at runtime (upstream-flags.md §1, bug 1).

use super::{Engine, Inner};
use crate::flags::{
    Fallthrough, FeatureFlag, RolloutVariation, ScheduledChange, ScheduledChangeAction,
    TargetingRule,
};
use crate::model::Actor;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::{Mutex, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long the claim on one change is kept: long past the moment every engine's timer
/// fires for it, short enough that an engine restarted later applies a change whose
/// claimant died before writing it.
const CLAIM_TTL: Duration = Duration::from_secs(600);

/// The engine's timer for scheduled flag changes.
#[derive(Debug, Default)]
pub(super) struct FlagTimer {
    task: Mutex<Option<JoinHandle<()>>>,
    /// Changes this engine has handled (applied, or claimed by another engine whose write
    /// has not arrived yet): not waited for again.
    handled: Mutex<BTreeSet<String>>,
}

impl FlagTimer {
    /// Stops the timer.
    pub(super) fn cancel(&self) {
        if let Some(task) = lock(&self.task).take() {
            if Some(task.id()) != tokio::task::try_id() {
                task.abort();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain assignments only: a poisoned lock still guards consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One pending change: when, which flag, which change.
type Due = (DateTime<Utc>, String, String);

impl Engine {
    /// Re-arms the timer for the earliest change not yet handled (after the flags changed).
    pub(super) fn arm_flag_timer(&self) {
        let timer = &self.inner.flag_timer;
        let next = {
            let handled = lock(&timer.handled);
            pending(&self.flags()).find(|(_, _, id)| !handled.contains(id))
        };
        let mut task = lock(&timer.task);
        if let Some(old) = task.take() {
            if Some(old.id()) != tokio::task::try_id() {
                old.abort();
            }
        }
        let Some((at, _, _)) = next else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("waygate: no tokio runtime; scheduled flag changes will not fire");
            return;
        };
        *task = Some(runtime.spawn(fire_at(std::sync::Arc::downgrade(&self.inner), at)));
    }

    /// Applies every change due now, in order.
    async fn apply_due_flag_changes(&self) {
        let now = self.now();
        let due: Vec<Due> = {
            let handled = lock(&self.inner.flag_timer.handled);
            pending(&self.flags())
                .take_while(|(at, _, _)| *at <= now)
                .filter(|(_, _, id)| !handled.contains(id))
                .collect()
        };
        for (_, flag, id) in due {
            lock(&self.inner.flag_timer.handled).insert(id.clone());
            let claim = format!("flag-change:{flag}:{id}");
            match self.inner.backend.claim_once(&claim, CLAIM_TTL).await {
                Ok(true) => {}
                // Another engine applies it; its write reaches this one.
                Ok(false) => continue,
                Err(error) => {
                    // Better applied twice (each is idempotent but `add_rule`) than never.
                    tracing::warn!(%error, flag = %flag, change = %id, "waygate: cannot claim a scheduled flag change; applying it here");
                }
            }
            if let Err(error) = self.apply_scheduled_change(&flag, &id).await {
                tracing::error!(%error, flag = %flag, change = %id, "waygate: a scheduled flag change failed");
            }
        }
    }

    /// Applies change `id` of flag `key` and removes it from the flag; a change that cannot
    /// be applied (a rule that does not parse, a variation that does not exist) is removed
    /// and its failure audited rather than retried for ever.
    async fn apply_scheduled_change(&self, key: &str, id: &str) -> Result<(), crate::EngineError> {
        let _write = self.inner.write.lock().await;
        let Some(mut flag) = self.flags().flag(key).cloned() else {
            return Ok(());
        };
        let Some(position) = flag.scheduled_changes.iter().position(|c| c.id == id) else {
            return Ok(());
        };
        let change = flag.scheduled_changes.remove(position);
        let before = flag.clone();
        let note = match apply(&mut flag, &change) {
            Ok(()) => match crate::flags::check_flag(&flag, &self.flags()) {
                Ok(()) => format!("scheduled change {id}: {}", action_name(change.action)),
                Err(error) => {
                    flag = before;
                    format!("scheduled change {id} not applied: {}", error.0)
                }
            },
            Err(error) => {
                flag = before;
                format!("scheduled change {id} not applied: {error}")
            }
        };
        self.store_flag(flag, Actor::new("scheduler"), "flag_updated", note)
            .await
            .map(drop)
    }
}

/// Every pending change, earliest first (ties: by flag key, then as listed).
fn pending(flags: &crate::flags::FlagSet) -> impl Iterator<Item = Due> {
    let mut all: Vec<Due> = flags
        .flags()
        .flat_map(|flag| {
            flag.scheduled_changes
                .iter()
                .map(|change| (change.execute_at.0, flag.key.clone(), change.id.clone()))
        })
        .collect();
    all.sort();
    all.into_iter()
}

async fn fire_at(engine: Weak<Inner>, at: DateTime<Utc>) {
    let Some(clock) = engine.upgrade().map(|inner| inner.clock) else {
        return;
    };
    tokio::time::sleep_until(clock.instant_at(at)).await;
    let Some(inner) = engine.upgrade() else {
        return;
    };
    let engine = Engine { inner };
    engine.apply_due_flag_changes().await;
    // Whatever is next (the writes above re-armed it already when the flags changed; this
    // covers changes claimed elsewhere, which change nothing here yet).
    engine.arm_flag_timer();
}

fn action_name(action: ScheduledChangeAction) -> &'static str {
    match action {
        ScheduledChangeAction::Enable => "enable",
        ScheduledChangeAction::Disable => "disable",
        ScheduledChangeAction::UpdateRollout => "update_rollout",
        ScheduledChangeAction::AddRule => "add_rule",
        ScheduledChangeAction::DeleteRule => "delete_rule",
    }
}

/// Applies one change to `flag`, as the Python original's scheduler does.
fn apply(flag: &mut FeatureFlag, change: &ScheduledChange) -> Result<(), String> {
    let payload = &change.payload;
    match change.action {
        ScheduledChangeAction::Enable => flag.enabled = true,
        ScheduledChangeAction::Disable => flag.enabled = false,
        ScheduledChangeAction::UpdateRollout => {
            if let Some(variation) = payload.get("variation").and_then(|v| v.as_str()) {
                flag.fallthrough = Fallthrough::Variation(variation.to_owned());
            } else if let Some(rollout) = payload.get("rollout") {
                let rollout: Vec<RolloutVariation> = serde_json::from_value(rollout.clone())
                    .map_err(|e| format!("payload `rollout`: {e}"))?;
                flag.fallthrough = Fallthrough::Rollout(rollout);
            } else {
                return Err("update_rollout needs a `variation` or a `rollout`".into());
            }
        }
        ScheduledChangeAction::AddRule => {
            let rule: TargetingRule =
                serde_json::from_value(serde_json::Value::Object(payload.clone()))
                    .map_err(|e| format!("add_rule payload: {e}"))?;
            flag.rules.push(rule);
        }
        ScheduledChangeAction::DeleteRule => {
            let id = payload
                .get("rule_id")
                .and_then(|v| v.as_str())
                .ok_or("delete_rule needs a `rule_id`")?;
            flag.rules.retain(|rule| rule.id != id);
        }
    }
    Ok(())
}
