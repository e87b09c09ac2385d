//! Flags and segments as engine state: saved through the backend (so they survive a restart
//! and reach every instance sharing it), audited, checked before they are saved, and
//! evaluated from the engine's snapshot.

use serde_json::json;
#[cfg(feature = "redis")]
use std::time::Duration;
use waygate_core::backend::MemoryBackend;
use waygate_core::flags::{EvaluationContext, FeatureFlag, Segment};
use waygate_core::{AuditQuery, Engine, EngineError, EngineEvent};

#[cfg(feature = "redis")]
#[path = "../../waygate/tests/common/redis.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_redis;

#[cfg(feature = "redis")]
const PATIENCE: Duration = Duration::from_secs(10);

fn checkout(fallthrough: &str) -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout",
        "name": "New checkout",
        "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "fallthrough": fallthrough,
        "rules": [{"id": "beta", "clauses": [{"attribute": "key", "operator": "in_segment", "values": ["beta"]}], "variation": "on"}]
    }))
    .unwrap()
}

fn beta() -> Segment {
    serde_json::from_value(json!({"key": "beta", "name": "Beta", "included": ["ada"]})).unwrap()
}

async fn engine_on(backend: impl waygate_core::backend::Backend) -> Engine {
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    engine
}

#[tokio::test]
async fn saved_evaluated_audited_and_deleted() {
    let engine = engine_on(MemoryBackend::new()).await;
    let mut events = engine.subscribe();
    let ada = EvaluationContext::new("ada");
    assert!(!engine.flags().bool("new-checkout", &ada, false));

    let saved = engine.save_flag(checkout("off"), "alice").await.unwrap();
    engine.save_segment(beta(), "alice").await.unwrap();
    assert!(
        engine.flags().bool("new-checkout", &ada, false),
        "in the segment"
    );
    assert!(!engine
        .flags()
        .bool("new-checkout", &EvaluationContext::new("bob"), true));
    let mut saw_flags = false;
    while let Ok(event) = events.try_recv() {
        saw_flags |= event == EngineEvent::FlagsChanged;
    }
    assert!(saw_flags, "a FlagsChanged event");

    // An update keeps created_at and sets updated_at to the time of the change: the
    // engine's clock (its start's wall time plus the monotonic time since), which may trail
    // the wall clock by however long the thread waited between its two readings at start.
    let before = chrono::Utc::now();
    let updated = engine.save_flag(checkout("on"), "bob").await.unwrap();
    let after = chrono::Utc::now();
    assert_eq!(updated.created_at, saved.created_at);
    assert!(updated.updated_at >= saved.updated_at);
    let slack = chrono::TimeDelta::seconds(5);
    assert!(
        updated.updated_at.0 >= before - slack && updated.updated_at.0 <= after + slack,
        "{} is not the time of the change ({before} to {after})",
        updated.updated_at.0
    );
    assert!(engine
        .flags()
        .bool("new-checkout", &EvaluationContext::new("bob"), false));
    let off = engine
        .set_flag_enabled("new-checkout", false, "bob")
        .await
        .unwrap();
    assert!(!off.enabled);
    assert!(!engine.flags().bool("new-checkout", &ada, true));

    let audit = engine.audit_log(&AuditQuery::latest(10)).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.path.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("flag_disabled", "flag:new-checkout"),
            ("flag_updated", "flag:new-checkout"),
            ("segment_created", "segment:beta"),
            ("flag_created", "flag:new-checkout"),
        ]
    );

    engine.delete_segment("beta", "bob").await.unwrap();
    engine.delete_flag("new-checkout", "bob").await.unwrap();
    assert!(engine.flags().is_empty());
    assert!(matches!(
        engine.delete_flag("new-checkout", "bob").await,
        Err(EngineError::NotFound { .. })
    ));
    let audit = engine.audit_log(&AuditQuery::latest(2)).await.unwrap();
    assert_eq!(audit[0].action, "flag_deleted");
    assert_eq!(audit[1].action, "segment_deleted");
}

#[tokio::test]
async fn what_cannot_work_is_not_saved() {
    let engine = engine_on(MemoryBackend::new()).await;
    let mut broken = checkout("maybe");
    let error = engine.save_flag(broken.clone(), "a").await.unwrap_err();
    assert!(error.to_string().contains("fallthrough 'maybe'"), "{error}");
    broken.fallthrough = waygate_core::flags::Fallthrough::Variation("off".into());
    broken.prerequisites = vec![waygate_core::flags::Prerequisite {
        flag_key: "new-checkout".into(),
        variation: "on".into(),
    }];
    let error = engine.save_flag(broken, "a").await.unwrap_err();
    assert!(error.to_string().contains("cycle"), "{error}");

    // Control characters in what operators read, and a flood of scheduled changes.
    let mut escape = checkout("off");
    escape.name = "New \u{1b}[31mcheckout".into();
    let error = engine.save_flag(escape, "a").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("name holds a control character (U+001B)"),
        "{error}"
    );
    let mut targeted = checkout("off");
    targeted.targets = vec![("on".into(), vec!["ada\nmallory".into()])];
    assert!(engine.save_flag(targeted, "a").await.is_err());
    let mut flooded = checkout("off");
    let change: waygate_core::flags::ScheduledChange =
        serde_json::from_value(json!({"execute_at": "2030-01-01T00:00:00", "action": "enable"}))
            .unwrap();
    flooded.scheduled_changes = vec![change; waygate_core::flags::MAX_SCHEDULED_CHANGES + 1];
    let error = engine.save_flag(flooded, "a").await.unwrap_err();
    assert!(error.to_string().contains("at most 100"), "{error}");
    let mut segment = beta();
    segment.included.push("bob\u{7}".into());
    assert!(engine.save_segment(segment, "a").await.is_err());
    assert!(engine.flags().is_empty(), "nothing was stored");
    assert!(engine.flags().segment("beta").is_none());
}

#[cfg(feature = "file")]
#[tokio::test]
async fn flags_survive_a_restart_on_a_file() {
    use waygate_core::backend::FileBackend;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = engine_on(FileBackend::open(&path).unwrap()).await;
    first.save_flag(checkout("on"), "alice").await.unwrap();
    first.save_segment(beta(), "alice").await.unwrap();
    first.shutdown().await;

    let again = engine_on(FileBackend::open(&path).unwrap()).await;
    let flags = again.flags();
    assert_eq!(
        flags.flag("new-checkout").map(|f| f.name.as_str()),
        Some("New checkout")
    );
    assert!(flags.segment("beta").is_some());
    assert!(flags.bool("new-checkout", &EvaluationContext::new("anyone"), false));
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_agree_after_a_change() {
    use waygate_core::backend::RedisBackend;
    let prefix = test_redis::unique_prefix();
    let redis = || {
        RedisBackend::new(&test_redis::url())
            .unwrap()
            .with_key_prefix(&prefix)
    };
    let (one, two) = (engine_on(redis()).await, engine_on(redis()).await);
    let ada = EvaluationContext::new("ada");
    one.save_segment(beta(), "alice").await.unwrap();
    one.save_flag(checkout("off"), "alice").await.unwrap();
    let agree = |want: bool| {
        let two = two.clone();
        let ada = ada.clone();
        async move {
            tokio::time::timeout(PATIENCE, async {
                while two.flags().bool("new-checkout", &ada, !want) != want {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
            .expect("the other instance follows");
        }
    };
    agree(true).await;
    one.set_flag_enabled("new-checkout", false, "alice")
        .await
        .unwrap();
    agree(false).await;
    // And a restart of both reads the same.
    one.shutdown().await;
    two.shutdown().await;
    let three = engine_on(redis()).await;
    assert!(three
        .flags()
        .flag("new-checkout")
        .is_some_and(|f| !f.enabled));
    test_redis::delete_prefix(&prefix).await;
}
