//! The server's log of the fleet's changes: one structured line per change it applies
//! (what, which route and service, the new status, who, from where), so a log pipeline
//! sees the same history as the audit log without polling it.

use crate::{Change, Engine, EngineEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// Logs every change `engine` applies until it is dropped or `closing` turns true.
pub(super) async fn run(engine: Engine, mut closing: watch::Receiver<bool>) {
    let mut events = engine.subscribe();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(EngineEvent::Applied(change)) => log(&change),
                Ok(EngineEvent::Reloaded) => {
                    tracing::debug!("waygate server: state reloaded from the backend");
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => tracing::warn!(
                    missed,
                    "waygate server: the change log fell behind; the audit log has every change"
                ),
                Err(RecvError::Closed) => return,
            },
            _ = closing.changed() => return,
        }
    }
}

fn log(change: &Change) {
    tracing::info!(
        event = %change.event,
        route = %change.key,
        service = change.service.as_deref().unwrap_or(""),
        status = change.new_status.map_or("", |status| status.as_str()),
        actor = %change.actor,
        platform = %change.platform,
        reason = %change.reason,
        "waygate server: change applied"
    );
}
