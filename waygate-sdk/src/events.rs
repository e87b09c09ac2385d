//! Applying the stream's frames to the picture.

use crate::shared::{policy_key, Shared};
use waygate_core::flags::{FeatureFlag, Segment};
use waygate_core::rate_limit::RateLimitPolicy;
use waygate_core::stored::Sentinel;
use waygate_core::wire::{PolicyAction, StreamFrame};
use waygate_core::RouteState;

/// Applies one stream frame to the picture.
pub(crate) fn apply(shared: &Shared, frame: StreamFrame) {
    match frame {
        StreamFrame::State { payload } => apply_state(shared, payload),
        StreamFrame::RateLimitPolicy {
            action,
            key,
            policy,
            service,
        } => apply_policy(shared, action, &key, policy, service.as_deref()),
        StreamFrame::FlagUpdated { key, flag } => {
            keep_record(shared, Sentinel::Flag(&key), Some(&*flag));
        }
        StreamFrame::FlagDeleted { key } => {
            keep_record::<FeatureFlag>(shared, Sentinel::Flag(&key), None);
        }
        StreamFrame::SegmentUpdated { key, segment } => {
            keep_record(shared, Sentinel::Segment(&key), Some(&*segment));
        }
        StreamFrame::SegmentDeleted { key } => {
            keep_record::<Segment>(shared, Sentinel::Segment(&key), None);
        }
        // Anything newer: not followed by this SDK.
        _ => {}
    }
}

/// Keeps a flag or segment as the record the engine reads (`None`: removes it).
fn keep_record<T: serde::Serialize>(shared: &Shared, sentinel: Sentinel<'_>, value: Option<&T>) {
    let key = sentinel.to_string();
    match value.map(|value| sentinel.encode(Some(value))) {
        Some(Ok(record)) => shared.update(|cache| {
            cache.records.insert(key, record);
        }),
        Some(Err(error)) => {
            tracing::warn!(%error, record = %key, "waygate sdk: a record from the server cannot be kept");
        }
        None => shared.update(|cache| {
            cache.records.remove(&key);
        }),
    }
}

fn apply_state(shared: &Shared, mut state: RouteState) {
    if let Some(sentinel) = shared.kept_record(&state.path) {
        state.service = sentinel.service().map(str::to_owned);
        shared.update(|cache| {
            // An empty record: the setting was removed.
            if state.reason.trim().is_empty() {
                cache.records.remove(&state.path);
            } else {
                cache.records.insert(state.path.clone(), state);
            }
        });
    } else if let Some(state) = shared.local_state(state) {
        shared.update(|cache| {
            cache.routes.insert(state.path.clone(), state);
        });
    }
}

fn apply_policy(
    shared: &Shared,
    action: PolicyAction,
    key: &str,
    policy: Option<RateLimitPolicy>,
    service: Option<&str>,
) {
    let policy = match action {
        PolicyAction::Set => policy,
        PolicyAction::Delete => StreamFrame::policy_key(key)
            .map(|(method, path)| RateLimitPolicy::new(path, method, "")),
    };
    // waygate for Rust sends a service its policies in the paths it serves, and says so;
    // other frames name the server's paths.
    let local_form = service == Some(shared.app());
    let Some(policy) = policy.and_then(|policy| match local_form && policy.path.starts_with('/') {
        true => Some(policy),
        false => shared.local_policy(policy),
    }) else {
        return;
    };
    let Some(key) = policy_key(&policy) else {
        return;
    };
    shared.update(|cache| match action {
        PolicyAction::Set => {
            cache.policies.insert(key, policy);
        }
        PolicyAction::Delete => {
            cache.policies.remove(&key);
        }
    });
}
