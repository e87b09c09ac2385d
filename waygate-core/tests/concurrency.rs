//! Concurrent mutations are serialised: the final state is consistent and the audit log
//! tells the truth.

#[macro_use]
#[path = "support/declare.rs"]
mod declare;

use waygate_core::__private::InitialStatus;
use waygate_core::{AuditQuery, Engine, RouteStatus};

declare!(payments: "GET" "/payments", InitialStatus::Active, force_active = false);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_mutations_leave_an_unbroken_audit_chain() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let actor = format!("worker-{i}");
                match i % 3 {
                    0 => engine.disable("GET:/payments", "load", actor).await,
                    1 => engine.enable("GET:/payments", actor).await,
                    _ => {
                        engine
                            .set_maintenance("GET:/payments", "load", None, actor)
                            .await
                    }
                }
                .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let mut log = engine
        .audit_log(&AuditQuery::latest(1000).route("GET:/payments"))
        .await
        .unwrap();
    assert_eq!(log.len(), 200);
    log.reverse();
    assert_eq!(log[0].previous_status, Some(RouteStatus::Active));
    for pair in log.windows(2) {
        assert_eq!(
            pair[1].previous_status, pair[0].new_status,
            "chain broken at {}",
            pair[1].id
        );
    }
    let last = log.last().unwrap().new_status.unwrap();
    assert_eq!(engine.state("GET:/payments").unwrap().status, last);
    let stored = engine
        .backend()
        .get_state("GET:/payments")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, last);
}
