//! What the SDK stream (`GET api/sdk/events`) sends: one task follows the engine, works out
//! what changed for the services since the last change (route states, global and
//! per-service maintenance, global, per-service and per-route rate limits), and hands every
//! connection the frames of its service.
//!
//! Everything the stream says is computed from the engine's view, not from the event that
//! woke the task, so a change made by another server instance on the same backend (the
//! engine reloads and says `Reloaded`) reaches the services exactly like a local one.
//!
//! Wire (upstream §6.3, what the Python SDK reads): `data: <one-line JSON>\n\n` frames,
//! `{"type": "state", "payload": <RouteState>}` and `{"type": "rl_policy", "action": "set" |
//! "delete", "key": "METHOD:path", "policy": ..}`. Global and service records go out as
//! their sentinel states (`__waygate:global__`, `__waygate:svc_global:{svc}__`,
//! `__waygate:global_rl__`, `__waygate:svc_rl:{svc}__`); a rate limit that was removed
//! goes out as its sentinel with an empty `reason`. A service's per-route policies are sent
//! to that service with the path it serves (`/path`, key `GET:/path`), as it enforces them;
//! to a listener that named no service, with the server's path (`svc:/path`).

use crate::backend::{GLOBAL_KEY, GLOBAL_RL_KEY, SERVICE_RL_PREFIX};
use crate::model::RouteState;
use crate::rate_limit::RateLimitPolicy;
use crate::{Engine, EngineEvent};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// The sentinel of a service's maintenance.
const SERVICE_MAINTENANCE_PREFIX: &str = "__waygate:svc_global:";

/// How many frames a slow connection may fall behind before it is sent everything again.
const BACKLOG: usize = 4096;

/// One message of the stream, in the two forms a listener may need.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The service it concerns; `None`: every service.
    pub(crate) service: Option<String>,
    /// For a listener that named no service.
    pub(crate) full: Arc<str>,
    /// For the SDK of `service` (the same text unless paths differ).
    pub(crate) local: Arc<str>,
}

impl Frame {
    /// The text for a listener of `app` (`None`: every service), or nothing when the frame
    /// is another service's.
    pub(crate) fn for_app(&self, app: Option<&str>) -> Option<&str> {
        match (self.service.as_deref(), app) {
            (None, _) => Some(&self.full),
            (Some(_), None) => Some(&self.full),
            (Some(service), Some(app)) if service == app => Some(&self.local),
            _ => None,
        }
    }
}

/// The stream's shared half: the frames, the connected services, and what was last sent.
#[derive(Debug)]
pub(crate) struct Hub {
    engine: Engine,
    frames: broadcast::Sender<Arc<Frame>>,
    /// Services with a stream open (their records are sent even before they have routes).
    apps: Mutex<BTreeMap<String, usize>>,
    sent: Mutex<BTreeMap<String, Item>>,
    connections: std::sync::atomic::AtomicUsize,
}

/// One record as last sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    service: Option<String>,
    full: String,
    local: String,
    /// What removing it sends (policies only).
    removal: Option<(String, String)>,
}

impl Hub {
    pub(crate) fn new(engine: Engine) -> Arc<Self> {
        let hub = Arc::new(Self {
            engine,
            frames: broadcast::channel(BACKLOG).0,
            apps: Mutex::default(),
            sent: Mutex::default(),
            connections: Default::default(),
        });
        let items = hub.items();
        *lock(&hub.sent) = items;
        hub
    }

    /// Follows the engine until it is dropped or `closing` turns true.
    pub(crate) async fn run(self: Arc<Self>, mut closing: watch::Receiver<bool>) {
        let mut events = self.engine.subscribe();
        // What changed while the hub was not yet subscribed.
        self.publish();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    // The details of a change; its RouteChanged or GlobalChanged follows.
                    Ok(EngineEvent::Applied(_)) => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Take every event already queued: one diff covers them all.
                        while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) =
                            events.try_recv()
                        {}
                        self.publish();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = closing.changed() => return,
            }
        }
    }

    /// A new listener: its frames, and a guard that keeps its service's records sent.
    pub(crate) fn connect(self: &Arc<Self>, app: Option<&str>) -> Connection {
        let frames = self.frames.subscribe();
        let streams = self
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        tracing::info!(
            app_id = app.unwrap_or(""),
            streams,
            "waygate server: SDK stream opened"
        );
        if let Some(app) = app {
            let first = {
                let mut apps = lock(&self.apps);
                let count = apps.entry(app.to_owned()).or_default();
                *count += 1;
                *count == 1
            };
            if first {
                // Its records join what is compared; nothing is sent for them now (the SDK
                // reads them when it synchronises).
                let items = self.items();
                let mut sent = lock(&self.sent);
                for (key, item) in items {
                    sent.entry(key).or_insert(item);
                }
            }
        }
        Connection {
            hub: self.clone(),
            app: app.map(str::to_owned),
            frames,
        }
    }

    /// How many streams are open.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every frame `app` needs to be current, for a listener that fell behind.
    pub(crate) fn everything(&self, app: Option<&str>) -> Vec<String> {
        self.items()
            .into_values()
            .filter_map(|item| {
                let frame = Frame {
                    service: item.service,
                    full: item.full.into(),
                    local: item.local.into(),
                };
                frame.for_app(app).map(str::to_owned)
            })
            .collect()
    }

    /// Sends what changed since the last call.
    fn publish(&self) {
        let items = self.items();
        let mut sent = lock(&self.sent);
        let mut frames = Vec::new();
        for (key, item) in &items {
            if sent.get(key) != Some(item) {
                frames.push(Frame {
                    service: item.service.clone(),
                    full: item.full.as_str().into(),
                    local: item.local.as_str().into(),
                });
            }
        }
        for (key, item) in sent.iter() {
            if items.contains_key(key) {
                continue;
            }
            if let Some((full, local)) = &item.removal {
                frames.push(Frame {
                    service: item.service.clone(),
                    full: full.as_str().into(),
                    local: local.as_str().into(),
                });
            }
        }
        *sent = items;
        drop(sent);
        for frame in frames {
            // No listener is fine.
            let _ = self.frames.send(Arc::new(frame));
        }
    }

    /// Every record the stream reports, by an id of its own.
    fn items(&self) -> BTreeMap<String, Item> {
        let engine = &self.engine;
        let mut items = BTreeMap::new();
        let mut services: BTreeSet<String> = lock(&self.apps).keys().cloned().collect();
        for state in engine.list_states() {
            let Some(service) = state.service.clone() else {
                // The server's own routes (it has none of its own) are not a service's.
                continue;
            };
            services.insert(service.clone());
            let frame = state_frame(&state);
            items.insert(
                format!("state:{}", state.path),
                Item {
                    service: Some(service),
                    local: frame.clone(),
                    full: frame,
                    removal: None,
                },
            );
        }
        let global = sentinel(GLOBAL_KEY, None, Some(&engine.global_maintenance()));
        items.insert(format!("state:{GLOBAL_KEY}"), shared_item(None, &global));
        let global_rl = sentinel(GLOBAL_RL_KEY, None, engine.global_rate_limit().as_ref());
        items.insert(
            format!("state:{GLOBAL_RL_KEY}"),
            shared_item(None, &global_rl),
        );
        for service in &services {
            let key = format!("{SERVICE_MAINTENANCE_PREFIX}{service}__");
            let config = engine.service_maintenance(service);
            let state = sentinel(&key, Some(service), Some(&config));
            items.insert(format!("state:{key}"), shared_item(Some(service), &state));
            let key = format!("{SERVICE_RL_PREFIX}{service}__");
            let policy = engine.service_rate_limit(service);
            let state = sentinel(&key, Some(service), policy.as_ref());
            items.insert(format!("state:{key}"), shared_item(Some(service), &state));
        }
        for policy in engine.rate_limit_policies() {
            let Some((service, local_path)) = service_of(&policy.path) else {
                continue;
            };
            let full_key = format!("{}:{}", policy.method, policy.path);
            let local_key = format!("{}:{local_path}", policy.method);
            let mut local = policy.clone();
            local.path = local_path.to_owned();
            items.insert(
                format!("policy:{full_key}"),
                Item {
                    service: Some(service.to_owned()),
                    full: policy_frame(&full_key, &policy, None),
                    local: policy_frame(&local_key, &local, Some(service)),
                    removal: Some((
                        policy_removal_frame(&full_key, None),
                        policy_removal_frame(&local_key, Some(service)),
                    )),
                },
            );
        }
        items
    }
}

/// An open stream's receiving end.
#[derive(Debug)]
pub(crate) struct Connection {
    hub: Arc<Hub>,
    pub(crate) app: Option<String>,
    pub(crate) frames: broadcast::Receiver<Arc<Frame>>,
}

impl Connection {
    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let streams = self
            .hub
            .connections
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed)
            - 1;
        tracing::info!(
            app_id = self.app.as_deref().unwrap_or(""),
            streams,
            "waygate server: SDK stream closed"
        );
        if let Some(app) = &self.app {
            let mut apps = lock(&self.hub.apps);
            if let Some(count) = apps.get_mut(app) {
                *count -= 1;
                if *count == 0 {
                    apps.remove(app);
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is a plain assignment: a poisoned lock still guards consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// `("svc", "/path")` for a service route's policy path `svc:/path`.
fn service_of(path: &str) -> Option<(&str, &str)> {
    let (service, rest) = path.split_once(':')?;
    (!path.starts_with('/') && rest.starts_with('/')).then_some((service, rest))
}

/// A record as its sentinel state, `reason` carrying it as JSON (empty: there is none).
fn sentinel<T: Serialize>(key: &str, service: Option<&str>, value: Option<&T>) -> RouteState {
    let mut state = RouteState::active(key);
    state.service = service.map(str::to_owned);
    state.reason = value
        .and_then(|v| serde_json::to_string(v).ok())
        .unwrap_or_default();
    state
}

fn shared_item(service: Option<&str>, state: &RouteState) -> Item {
    let frame = state_frame(state);
    Item {
        service: service.map(str::to_owned),
        local: frame.clone(),
        full: frame,
        removal: None,
    }
}

fn state_frame(state: &RouteState) -> String {
    json!({"type": "state", "payload": state}).to_string()
}

/// A policy change; `service` marks a frame in the service's own paths (an extra field the
/// Python SDK ignores).
fn policy_frame(key: &str, policy: &RateLimitPolicy, service: Option<&str>) -> String {
    let mut frame = json!({"type": "rl_policy", "action": "set", "key": key, "policy": policy});
    if let Some(service) = service {
        frame["service"] = json!(service);
    }
    frame.to_string()
}

fn policy_removal_frame(key: &str, service: Option<&str>) -> String {
    let mut frame = json!({"type": "rl_policy", "action": "delete", "key": key});
    if let Some(service) = service {
        frame["service"] = json!(service);
    }
    frame.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_reach_their_service_only() {
        let frame = Frame {
            service: Some("pay".into()),
            full: "full".into(),
            local: "local".into(),
        };
        assert_eq!(frame.for_app(Some("pay")), Some("local"));
        assert_eq!(frame.for_app(Some("orders")), None);
        assert_eq!(frame.for_app(None), Some("full"));
        let shared = Frame {
            service: None,
            full: "g".into(),
            local: "g".into(),
        };
        assert_eq!(shared.for_app(Some("orders")), Some("g"));
        assert_eq!(service_of("pay:/x"), Some(("pay", "/x")));
        assert_eq!(service_of("/x"), None);
    }
}
