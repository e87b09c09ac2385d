//! The engine's API: mutations, key resolution, audit, persistence precedence, lifecycle
//! and events — tested inside the core, with route metadata built by hand (what the
//! attribute macros generate).

#[macro_use]
#[path = "support/declare.rs"]
mod declare;

use std::sync::Arc;
use waygate_core::__private::InitialStatus;
use waygate_core::backend::{Backend, MemoryBackend};
use waygate_core::{AuditQuery, Engine, EngineError, EngineEvent, RouteStatus};

declare!(get_payments: "GET" "/payments", InitialStatus::Active, force_active = false);
declare!(post_payments: "POST" "/payments", InitialStatus::Active, force_active = false);
declare!(orders: "GET" "/orders", InitialStatus::Maintenance { reason: "Upgrade", window: None }, force_active = false);
declare!(debug: "GET" "/debug", InitialStatus::EnvOnly { envs: &["dev"] }, force_active = false);
declare!(health: "GET" "/health", InitialStatus::Active, force_active = true);

async fn started() -> Engine {
    let engine = Engine::new();
    engine.start().await.unwrap();
    engine
}

#[tokio::test]
async fn declared_routes_are_seeded_with_their_attributes() {
    let engine = started().await;
    let state = engine
        .backend()
        .get_state("GET:/orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.status, state.reason.as_str()),
        (RouteStatus::Maintenance, "Upgrade")
    );
    let state = engine.state("GET:/debug").unwrap();
    assert_eq!(state.status, RouteStatus::EnvGated);
    assert_eq!(state.allowed_envs, vec!["dev"]);
    assert!(engine.state("GET:/health").unwrap().force_active);
    assert_eq!(
        engine.state("GET:/payments").unwrap().status,
        RouteStatus::Active
    );
    assert!(engine.state("GET:/nowhere").is_none());
    let keys: Vec<_> = engine.list_states().into_iter().map(|s| s.path).collect();
    assert_eq!(
        keys,
        [
            "GET:/debug",
            "GET:/health",
            "GET:/orders",
            "GET:/payments",
            "POST:/payments"
        ]
    );
}

#[tokio::test]
async fn every_mutation_writes_state_and_audit() {
    let engine = started().await;
    engine
        .disable("GET:/payments", "hotfix", "alice")
        .await
        .unwrap();
    engine
        .set_maintenance(
            "GET:/payments",
            "migration",
            None,
            waygate_core::Actor::new("bob").platform("cli"),
        )
        .await
        .unwrap();
    engine
        .set_env_only("GET:/payments", &["dev", "staging"], "carol")
        .await
        .unwrap();
    let state = engine.enable("GET:/payments", "dave").await.unwrap();
    assert_eq!(state.status, RouteStatus::Active);
    assert_eq!(state.reason, "");
    assert_eq!(
        engine.backend().get_state("GET:/payments").await.unwrap(),
        Some(state)
    );

    let log = engine
        .audit_log(&AuditQuery::latest(10).route("GET:/payments"))
        .await
        .unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor.as_str(),
                e.previous_status,
                e.new_status,
            )
        })
        .collect();
    use RouteStatus::*;
    assert_eq!(
        summary,
        [
            ("enable", "dave", Some(EnvGated), Some(Active)),
            ("env_gate", "carol", Some(Maintenance), Some(EnvGated)),
            ("maintenance_on", "bob", Some(Disabled), Some(Maintenance)),
            ("disable", "alice", Some(Active), Some(Disabled)),
        ]
    );
    assert_eq!(log[1].reason, "Restricted to: ['dev', 'staging']");
    assert_eq!(log[2].platform, "cli");
    assert_eq!(log[3].reason, "hotfix");
    assert!(uuid_like(&log[0].id));
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn bare_paths_resolve_to_their_single_method() {
    let engine = started().await;
    let state = engine.disable("/orders", "r", "ops").await.unwrap();
    assert_eq!(state.path, "GET:/orders");
    let log = engine.audit_log(&AuditQuery::latest(1)).await.unwrap();
    assert_eq!(
        log[0].path, "GET:/orders",
        "the audit names the resolved key"
    );
}

#[tokio::test]
async fn ambiguous_unknown_and_protected_routes_are_refused() {
    let engine = started().await;
    match engine.disable("/payments", "r", "ops").await.unwrap_err() {
        EngineError::Ambiguous { key, matches } => {
            assert_eq!(key, "/payments");
            assert_eq!(matches, ["GET:/payments", "POST:/payments"]);
        }
        other => panic!("expected Ambiguous, got {other}"),
    }
    let error = engine.enable("GET:/nowhere", "ops").await.unwrap_err();
    assert!(matches!(error, EngineError::NotFound { ref key } if key == "GET:/nowhere"));
    assert_eq!(
        error.to_string(),
        "route `GET:/nowhere` not found; list routes to see the registered keys"
    );
    assert!(matches!(
        engine.enable("svc:/nowhere", "ops").await.unwrap_err(),
        EngineError::NotFound { .. }
    ));
    for result in [
        engine.enable("GET:/health", "ops").await,
        engine.disable("/health", "r", "ops").await,
        engine
            .set_maintenance("GET:/health", "r", None, "ops")
            .await,
        engine.set_env_only("GET:/health", &["dev"], "ops").await,
    ] {
        assert!(matches!(result.unwrap_err(), EngineError::Protected { .. }));
    }
    assert_eq!(
        engine.state("GET:/health").unwrap().status,
        RouteStatus::Active
    );
    assert!(engine
        .audit_log(&AuditQuery::latest(10))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn invalid_arguments_are_typed_errors() {
    let engine = started().await;
    let empty: [&str; 0] = [];
    assert!(matches!(
        engine
            .set_env_only("GET:/payments", &empty, "ops")
            .await
            .unwrap_err(),
        EngineError::Invalid { field: "envs", .. }
    ));
    let now = chrono::Utc::now();
    let backwards =
        waygate_core::MaintenanceWindow::new(now, now - chrono::Duration::hours(1), "x");
    let error = engine
        .set_maintenance("GET:/payments", "x", Some(backwards), "ops")
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("invalid window: start"),
        "{error}"
    );
    assert_eq!(
        engine.state("GET:/payments").unwrap().status,
        RouteStatus::Active
    );
}

#[tokio::test]
async fn stored_state_wins_over_attributes_on_restart() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let first = Engine::builder().shared_backend(backend.clone()).build();
    first.start().await.unwrap();
    first.enable("GET:/orders", "ops").await.unwrap();
    first.disable("GET:/payments", "kept", "ops").await.unwrap();
    first.shutdown().await;

    let second = Engine::builder().shared_backend(backend).build();
    assert_eq!(
        second.state("GET:/orders").unwrap().status,
        RouteStatus::Maintenance,
        "before start the declared state applies"
    );
    second.start().await.unwrap();
    assert_eq!(
        second.state("GET:/orders").unwrap().status,
        RouteStatus::Active
    );
    assert_eq!(second.state("GET:/payments").unwrap().reason, "kept");
}

#[tokio::test]
async fn engines_sharing_a_backend_follow_each_other() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let a = Engine::builder().shared_backend(backend.clone()).build();
    let b = Engine::builder().shared_backend(backend).build();
    a.start().await.unwrap();
    b.start().await.unwrap();
    let mut events = b.subscribe();
    a.disable("GET:/payments", "from a", "ops").await.unwrap();
    loop {
        events.recv().await.unwrap();
        if b.state("GET:/payments").unwrap().status == RouteStatus::Disabled {
            break;
        }
    }
}

#[tokio::test]
async fn start_is_idempotent_and_events_are_published() {
    let engine = Engine::new();
    let mut events = engine.subscribe();
    engine.start().await.unwrap();
    engine.start().await.unwrap();
    assert_eq!(events.recv().await.unwrap(), EngineEvent::Reloaded);
    engine.disable("GET:/payments", "r", "ops").await.unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.contains(&EngineEvent::RouteChanged {
            key: "GET:/payments".into()
        }),
        "{seen:?}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn applied_changes_carry_the_audit_facts_and_the_new_state() {
    let engine = started().await;
    let mut events = engine.subscribe();
    engine
        .disable(
            "GET:/payments",
            "hotfix",
            waygate_core::Actor::new("alice").platform("cli"),
        )
        .await
        .unwrap();
    let mut applied = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::Applied(change) = event {
            applied.push(change);
        }
    }
    assert_eq!(applied.len(), 1, "{applied:?}");
    let change = &applied[0];
    assert_eq!(change.event, "disable");
    assert_eq!(change.key, "GET:/payments");
    assert_eq!(change.previous_status, Some(RouteStatus::Active));
    assert_eq!(change.new_status, Some(RouteStatus::Disabled));
    assert_eq!(
        (change.actor.as_str(), change.platform.as_str()),
        ("alice", "cli")
    );
    assert_eq!(change.reason, "hotfix");
    assert_eq!(change.state.as_ref().unwrap().status, RouteStatus::Disabled);
    // The id is the audit entry's.
    let audit = engine.audit_log(&AuditQuery::latest(1)).await.unwrap();
    assert_eq!(change.id, audit[0].id);
}

#[tokio::test]
async fn snapshot_generation_moves_with_every_change() {
    let engine = started().await;
    let before = engine.snapshot().generation();
    engine.disable("GET:/payments", "r", "ops").await.unwrap();
    assert!(engine.snapshot().generation() > before);
}

#[tokio::test]
async fn token_revocations_are_shared_through_the_backend() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let a = Engine::builder().shared_backend(backend.clone()).build();
    let b = Engine::builder().shared_backend(backend).build();
    a.start().await.unwrap();
    b.start().await.unwrap();
    let mut events = b.subscribe();
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    a.revoke_token("0123456789abcdef", expires).await.unwrap();
    assert!(a.is_token_revoked("0123456789abcdef"));
    assert!(!a.is_token_revoked("fedcba9876543210"));
    while !b.is_token_revoked("0123456789abcdef") {
        events.recv().await.unwrap();
    }
    assert!(
        b.list_states()
            .iter()
            .all(|s| !s.path.starts_with("__waygate:")),
        "revocations are not routes"
    );
}
