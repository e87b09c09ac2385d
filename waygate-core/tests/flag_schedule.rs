//! Scheduled flag changes fire (on tokio's paused clock): added at runtime through any API,
//! applied at their time; past-due ones applied at startup in `execute_at` order; audited as
//! `flag_updated` by `scheduler`; on a shared backend applied by exactly one engine.

use chrono::Duration as Span;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use waygate_core::backend::{Backend, MemoryBackend};
use waygate_core::flags::{EvaluationContext, Fallthrough, FeatureFlag};
use waygate_core::{AuditEntry, AuditQuery, Engine};

fn flag(enabled: bool, changes: Value) -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "on", "enabled": enabled,
        "scheduled_changes": changes
    }))
    .unwrap()
}

/// `execute_at` `minutes` from now, as the Python original writes it (naive UTC).
fn at(engine: &Engine, minutes: i64) -> String {
    (engine.now() + Span::minutes(minutes))
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

async fn scheduler_entries(engine: &Engine) -> Vec<AuditEntry> {
    let mut entries: Vec<AuditEntry> = engine
        .audit_log(&AuditQuery::latest(100))
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.actor == "scheduler")
        .collect();
    entries.reverse();
    entries
}

fn anyone() -> EvaluationContext {
    EvaluationContext::new("u1")
}

async fn started(backend: Arc<dyn Backend>) -> Engine {
    let engine = Engine::builder().shared_backend(backend).build();
    engine.start().await.unwrap();
    engine
}

#[tokio::test(start_paused = true)]
async fn a_change_added_at_runtime_fires_at_its_time() {
    let engine = started(Arc::new(MemoryBackend::new())).await;
    let rule = json!({"id": "pro", "variation": "off",
        "clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}]});
    let changes = json!([
        {"id": "c2", "execute_at": at(&engine, 120), "action": "add_rule", "payload": rule},
        {"id": "c1", "execute_at": at(&engine, 60), "action": "enable"},
    ]);
    engine
        .save_flag(flag(false, changes), "alice")
        .await
        .unwrap();
    assert!(!engine.flags().bool("new-checkout", &anyone(), false));

    tokio::time::sleep(Duration::from_secs(59 * 60)).await;
    assert!(
        !engine.flags().bool("new-checkout", &anyone(), false),
        "not before its time"
    );
    tokio::time::sleep(Duration::from_secs(2 * 60)).await;
    assert!(engine.flags().bool("new-checkout", &anyone(), false));
    let flags = engine.flags();
    let remaining: Vec<&str> = flags
        .flag("new-checkout")
        .unwrap()
        .scheduled_changes
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(remaining, ["c2"], "an applied change leaves the flag");
    drop(flags);

    tokio::time::sleep(Duration::from_secs(60 * 60)).await;
    let flags = engine.flags();
    let rules: Vec<&str> = flags
        .flag("new-checkout")
        .unwrap()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(rules, ["pro"]);
    drop(flags);
    let entries = scheduler_entries(&engine).await;
    let notes: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.action.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            (
                "flag:new-checkout",
                "flag_updated",
                "scheduled change c1: enable"
            ),
            (
                "flag:new-checkout",
                "flag_updated",
                "scheduled change c2: add_rule"
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn past_due_changes_apply_at_startup_in_order() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    // Written by an engine that stopped before they were due (never started here).
    let writer = Engine::builder().shared_backend(backend.clone()).build();
    let changes = json!([
        {"id": "later", "execute_at": at(&writer, -60), "action": "update_rollout", "payload": {"variation": "on"}},
        {"id": "earlier", "execute_at": at(&writer, -120), "action": "update_rollout", "payload": {"variation": "off"}},
        {"id": "broken", "execute_at": at(&writer, -30), "action": "update_rollout", "payload": {"variation": "nope"}},
    ]);
    let mut stored = flag(true, changes);
    stored.fallthrough = Fallthrough::Variation("off".into());
    writer.save_flag(stored, "alice").await.unwrap();

    let engine = started(backend).await;
    let mut applied = Vec::new();
    for _ in 0..100 {
        applied = scheduler_entries(&engine).await;
        if applied.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reasons: Vec<&str> = applied.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "scheduled change earlier: update_rollout",
            "scheduled change later: update_rollout",
            "scheduled change broken not applied: fallthrough 'nope' does not match any variation name",
        ]
    );
    let flags = engine.flags();
    let flag = flags.flag("new-checkout").unwrap();
    assert_eq!(
        flag.fallthrough,
        Fallthrough::Variation("on".into()),
        "applied in time order, the broken one not at all"
    );
    assert!(flag.scheduled_changes.is_empty());
}

#[tokio::test(start_paused = true)]
async fn on_a_shared_backend_one_engine_applies_each_change() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engines = [
        started(backend.clone()).await,
        started(backend.clone()).await,
        started(backend.clone()).await,
    ];
    let changes = json!([
        {"id": "off-at-night", "execute_at": at(&engines[0], 30), "action": "disable"},
    ]);
    engines[0]
        .save_flag(flag(true, changes), "alice")
        .await
        .unwrap();
    for engine in &engines {
        while engine.flags().flag("new-checkout").is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(31 * 60)).await;
    for engine in &engines {
        while engine.flags().bool("new-checkout", &anyone(), true) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let entries = scheduler_entries(&engines[1]).await;
    assert_eq!(entries.len(), 1, "applied once: {entries:?}");
    assert_eq!(entries[0].reason, "scheduled change off-at-night: disable");
}
