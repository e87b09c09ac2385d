//! Engines persisting through one state file: a restarted engine loads what it stored, and
//! two engines on one file follow each other's changes (the file backend's own guarantees
//! are in `backends.rs`).

#![cfg(feature = "file")]

#[path = "support/declare.rs"]
#[macro_use]
mod declare;

use std::time::Duration;
use waygate_core::backend::FileBackend;
use waygate_core::{AuditQuery, RouteStatus};

/// How long a test waits for something that should happen within a few poll intervals.
const PATIENCE: Duration = Duration::from_secs(10);

mod engine {
    use super::*;
    use waygate_core::__private::InitialStatus;
    use waygate_core::{Engine, EngineEvent};

    // Declared in this test binary, so every engine here knows it.
    declare!(x: "GET" "/x", InitialStatus::Active, force_active = false);

    /// The route every test changes.
    const KEY: &str = "GET:/x";

    async fn engine_on(path: &std::path::Path) -> Engine {
        let backend = FileBackend::open(path)
            .unwrap()
            .with_poll_interval(Duration::from_millis(10));
        let engine = Engine::builder().backend(backend).build();
        engine.start().await.unwrap();
        engine
    }

    #[tokio::test]
    async fn a_restarted_engine_loads_the_persisted_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let first = engine_on(&path).await;
        assert_eq!(first.state(KEY).unwrap().status, RouteStatus::Active);
        first.disable(KEY, "hotfix", "alice").await.unwrap();
        first.shutdown().await;
        drop(first);

        let restarted = engine_on(&path).await;
        let state = restarted.state(KEY).unwrap();
        assert_eq!(
            (state.status, state.reason.as_str()),
            (RouteStatus::Disabled, "hotfix")
        );
        let log = restarted
            .audit_log(&AuditQuery::default().route(KEY))
            .await
            .unwrap();
        assert_eq!(log[0].action, "disable");
        assert_eq!(log[0].actor, "alice");
        restarted.shutdown().await;
    }

    /// Waits until `engine` has reloaded from its backend and `done` holds.
    async fn reloaded_until(
        engine: &Engine,
        events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
        done: impl Fn(&Engine) -> bool,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        tokio::time::timeout(PATIENCE, async {
            loop {
                match events.recv().await {
                    Ok(EngineEvent::Reloaded) if done(engine) => return,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => panic!("the engine's events ended"),
                }
            }
        })
        .await
        .expect("the engine did not reload the other engine's change");
    }

    #[tokio::test]
    async fn an_engine_picks_up_changes_made_by_another_engine_on_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let a = engine_on(&path).await;
        let b = engine_on(&path).await;

        let mut events = b.subscribe();
        a.disable(KEY, "migration", "alice").await.unwrap();
        reloaded_until(&b, &mut events, |b| {
            b.state(KEY).unwrap().status == RouteStatus::Disabled
        })
        .await;
        assert_eq!(b.state(KEY).unwrap().reason, "migration");
        // Requests to B are refused: its snapshot has the change too.
        match b
            .snapshot()
            .check(&http::Method::GET, Some("/x"), "/x", || b.now())
        {
            waygate_core::Verdict::Block(block) => assert_eq!(block.reason, "migration"),
            other => panic!("expected GET /x to be blocked on engine B, got {other:?}"),
        }

        // And back the other way.
        let mut events = a.subscribe();
        b.enable(KEY, "bob").await.unwrap();
        reloaded_until(&a, &mut events, |a| {
            a.state(KEY).unwrap().status == RouteStatus::Active
        })
        .await;
        let log = a
            .audit_log(&AuditQuery::default().route(KEY))
            .await
            .unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["enable", "disable"]
        );

        a.shutdown().await;
        b.shutdown().await;
    }
}
