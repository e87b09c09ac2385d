//! What the SDK stream (`GET api/sdk/events`) sends: one task follows the engine, works out
//! what changed for the services since the last change (route states, global and
//! per-service maintenance, global, per-service and per-route rate limits, feature flags and
//! segments), and hands every connection the frames of its service.
//!
//! Everything the stream says is computed from the engine's view, not from the event that
//! woke the task, so a change made by another server instance on the same backend (the
//! engine reloads and says `Reloaded`) reaches the services exactly like a local one.
//!
//! Wire (upstream §6.3, what the Python SDK reads): one [`StreamFrame`] per event, serialised
//! once for every listener it goes to. Global and service records go out as their
//! [`Sentinel`] states; a rate limit that was removed goes out as its sentinel with an empty
//! `reason`. Flags and segments go to every service as `flag_updated` / `segment_updated`
//! (the whole record) and `flag_deleted` / `segment_deleted` (upstream's frames, which its
//! server never sends); every stream opens with the current flags and segments. A service's per-route policies are sent
//! to that service with the path it serves (`/path`, key `GET:/path`), as it enforces them;
//! to a listener that named no service, with the server's path (`svc:/path`).

use crate::stored::{RouteKey, Sentinel};
use crate::wire::StreamFrame;
use crate::{Engine, EngineEvent};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// How many frames a slow connection may fall behind before it is sent everything again.
const BACKLOG: usize = 4096;

/// One frame of the stream, serialised, in the two forms a listener may need.
#[derive(Debug)]
pub(crate) struct Broadcast {
    /// The service it concerns; `None`: every service.
    pub(crate) service: Option<String>,
    /// For a listener that named no service.
    pub(crate) full: Arc<str>,
    /// For the SDK of `service` (the same text unless paths differ).
    pub(crate) local: Arc<str>,
}

impl Broadcast {
    /// Serialises `item`'s frames (once each; the local form is the full one's text when
    /// they are equal).
    fn new(service: Option<&String>, full: &StreamFrame, local: &StreamFrame) -> Self {
        let full_text: Arc<str> = full.to_json().into();
        let local_text = match full == local {
            true => full_text.clone(),
            false => local.to_json().into(),
        };
        Self {
            service: service.cloned(),
            full: full_text,
            local: local_text,
        }
    }

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
    frames: broadcast::Sender<Arc<Broadcast>>,
    /// Services with a stream open (their records are sent even before they have routes).
    apps: Mutex<BTreeMap<String, usize>>,
    sent: Mutex<BTreeMap<String, Item>>,
    connections: std::sync::atomic::AtomicUsize,
}

/// One record as last sent.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    service: Option<String>,
    /// For a listener that named no service.
    full: StreamFrame,
    /// For the SDK of `service`.
    local: StreamFrame,
    /// What removing it sends, in the same two forms (policies, flags and segments; a
    /// removed record is sent as its empty sentinel state instead).
    removal: Option<(StreamFrame, StreamFrame)>,
}

impl Item {
    /// A record every listener reads alike.
    fn shared(service: Option<&str>, frame: StreamFrame) -> Self {
        Self {
            service: service.map(str::to_owned),
            local: frame.clone(),
            full: frame,
            removal: None,
        }
    }
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
                self.engine.flag_usage().set_connected(app, true);
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
                Broadcast::new(item.service.as_ref(), &item.full, &item.local)
                    .for_app(app)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Every flag and segment as its `flag_updated` / `segment_updated` frame.
    pub(crate) fn flag_frames(&self) -> Vec<String> {
        let flags = self.engine.flags();
        let flag_frames = flags
            .flags()
            .map(|flag| StreamFrame::flag_updated(flag.clone()).to_json());
        let segment_frames = flags
            .segments()
            .map(|segment| StreamFrame::segment_updated(segment.clone()).to_json());
        segment_frames.chain(flag_frames).collect()
    }

    /// Sends what changed since the last call.
    fn publish(&self) {
        let items = self.items();
        let mut sent = lock(&self.sent);
        let mut frames = Vec::new();
        for (key, item) in &items {
            if sent.get(key) != Some(item) {
                frames.push(Broadcast::new(
                    item.service.as_ref(),
                    &item.full,
                    &item.local,
                ));
            }
        }
        for (key, item) in sent.iter() {
            if items.contains_key(key) {
                continue;
            }
            if let Some((full, local)) = &item.removal {
                frames.push(Broadcast::new(item.service.as_ref(), full, local));
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
            items.insert(
                format!("state:{}", state.path),
                Item::shared(Some(&service), StreamFrame::State { payload: state }),
            );
        }
        let global = engine.global_maintenance();
        insert_record(&mut items, Sentinel::GlobalMaintenance, Some(&global));
        let global_rl = engine.global_rate_limit();
        insert_record(&mut items, Sentinel::GlobalRateLimit, global_rl.as_ref());
        for service in &services {
            let config = engine.service_maintenance(service);
            insert_record(
                &mut items,
                Sentinel::ServiceMaintenance(service),
                Some(&config),
            );
            let policy = engine.service_rate_limit(service);
            insert_record(
                &mut items,
                Sentinel::ServiceRateLimit(service),
                policy.as_ref(),
            );
        }
        for policy in engine.rate_limit_policies() {
            let Some(key) = RouteKey::from_policy(&policy.method, &policy.path) else {
                continue;
            };
            let Some(service) = key.service().map(str::to_owned) else {
                continue;
            };
            let (method, local_path) = key.local().policy_parts();
            let mut local = policy.clone();
            method.clone_into(&mut local.method);
            local.path = local_path;
            let id = format!("policy:{}:{}", policy.method, policy.path);
            let removal = (
                StreamFrame::policy_removed(&policy.method, &policy.path, None),
                StreamFrame::policy_removed(&local.method, &local.path, Some(&service)),
            );
            items.insert(
                id,
                Item {
                    local: StreamFrame::policy_set(local, Some(&service)),
                    full: StreamFrame::policy_set(policy, None),
                    service: Some(service),
                    removal: Some(removal),
                },
            );
        }
        let flags = engine.flags();
        for flag in flags.flags() {
            let removal = StreamFrame::FlagDeleted {
                key: flag.key.clone(),
            };
            let mut item = Item::shared(None, StreamFrame::flag_updated(flag.clone()));
            item.removal = Some((removal.clone(), removal));
            items.insert(format!("flag:{}", flag.key), item);
        }
        for segment in flags.segments() {
            let removal = StreamFrame::SegmentDeleted {
                key: segment.key.clone(),
            };
            let mut item = Item::shared(None, StreamFrame::segment_updated(segment.clone()));
            item.removal = Some((removal.clone(), removal));
            items.insert(format!("segment:{}", segment.key), item);
        }
        items
    }
}

/// An open stream's receiving end.
#[derive(Debug)]
pub(crate) struct Connection {
    hub: Arc<Hub>,
    pub(crate) app: Option<String>,
    pub(crate) frames: broadcast::Receiver<Arc<Broadcast>>,
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
                    self.hub.engine.flag_usage().set_connected(app, false);
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is a plain assignment: a poisoned lock still guards consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A record as its sentinel state (no value: the removed record), under `state:{key}`.
fn insert_record<T: Serialize>(
    items: &mut BTreeMap<String, Item>,
    sentinel: Sentinel<'_>,
    value: Option<&T>,
) {
    let state = match sentinel.encode(value) {
        Ok(state) => state,
        Err(error) => {
            // Not sent rather than sent empty (which would say "removed").
            tracing::error!(%error, record = %sentinel, "waygate server: a record cannot be encoded");
            return;
        }
    };
    items.insert(
        format!("state:{}", state.path),
        Item::shared(sentinel.service(), StreamFrame::State { payload: state }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_reach_their_service_only() {
        let frame = Broadcast {
            service: Some("pay".into()),
            full: "full".into(),
            local: "local".into(),
        };
        assert_eq!(frame.for_app(Some("pay")), Some("local"));
        assert_eq!(frame.for_app(Some("orders")), None);
        assert_eq!(frame.for_app(None), Some("full"));
        let shared = Broadcast {
            service: None,
            full: "g".into(),
            local: "g".into(),
        };
        assert_eq!(shared.for_app(Some("orders")), Some("g"));
    }
}
