//! Reports to the server when this service last evaluated each flag (`POST
//! api/sdk/flag-usage`), so that the server can tell which flags are still read and by whom.
//! Every few seconds, only what changed; a server that does not know the endpoint (the
//! Python original's) answers `404` and is not asked again.

use crate::http::{send_json, Target};
use crate::shared::Shared;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use waygate_core::Engine;

/// Reports until aborted.
pub(crate) async fn report(shared: Arc<Shared>, engine: Engine, every: Duration) {
    let mut reported = BTreeMap::new();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let changed: Vec<_> = engine
            .flag_telemetry()
            .last_evaluated(engine.now())
            .into_iter()
            .filter(|(key, at)| reported.get(key) != Some(at))
            .collect();
        if changed.is_empty() {
            continue;
        }
        let times: BTreeMap<&str, String> = changed
            .iter()
            .map(|(key, at)| (key.as_str(), at.to_rfc3339()))
            .collect();
        let body = json!({"app_id": shared.app(), "last_evaluated": times});
        let target = Target::at(&["api", "sdk", "flag-usage"]);
        match send_json::<Value>(&shared, reqwest::Method::POST, target, Some(&body)).await {
            Ok(_) => reported.extend(changed),
            Err(ended) if ended.0.contains("HTTP 404") || ended.0.contains("Not Found") => {
                tracing::debug!(app_id = %shared.app(), "waygate sdk: the server takes no flag usage reports");
                return;
            }
            // Said again at the next tick.
            Err(ended) => {
                tracing::debug!(app_id = %shared.app(), reason = %ended.0, "waygate sdk: flag usage not reported");
            }
        }
    }
}
