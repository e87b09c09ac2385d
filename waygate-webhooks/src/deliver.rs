//! The delivery task: follows the engine's changes, claims each delivery in the backend, and
//! posts it with retries.

use super::{sign, Webhook, WebhookError};
use sha2::{Digest, Sha256};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use waygate_core::backend::Backend;
use waygate_core::{Change, Engine, EngineEvent};

/// How long a delivery claim holds in the backend (the Python original's dedup TTL).
const CLAIM_TTL: Duration = Duration::from_secs(60);

/// How many changes may wait for one webhook before new ones are dropped (with a warning).
const QUEUE: usize = 1024;

/// An engine's webhooks, and the task handing changes to them.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    hooks: Arc<Mutex<Vec<Hook>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A webhook and the queue of its worker, which delivers its changes one at a time, in
/// order (a receiver never sees `enable` before the `disable` it follows).
#[derive(Debug, Clone)]
struct Hook {
    webhook: Arc<Webhook>,
    queue: mpsc::Sender<Arc<Change>>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Pushes and clones only: a poisoned lock still holds consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    pub(super) fn add(&self, engine: &Engine, webhook: Webhook) -> Result<(), WebhookError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WebhookError::NoRuntime)?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("waygate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client {
                reason: e.without_url().to_string(),
            })?;
        let mut task = lock(&self.task);
        if task.is_none() {
            *task = Some(runtime.spawn(follow(engine.subscribe(), self.hooks.clone())));
        }
        let webhook = Arc::new(webhook);
        let (queue, changes) = mpsc::channel(QUEUE);
        runtime.spawn(work(
            engine.backend().clone(),
            client,
            webhook.clone(),
            changes,
        ));
        lock(&self.hooks).push(Hook { webhook, queue });
        Ok(())
    }

    pub(super) fn list(&self) -> Vec<Webhook> {
        lock(&self.hooks)
            .iter()
            .map(|h| Webhook::clone(&h.webhook))
            .collect()
    }
}

/// Hands every applied change to the webhooks registered at that moment. Holds no engine:
/// it ends when the engine (its event sender) is dropped.
async fn follow(mut events: broadcast::Receiver<EngineEvent>, hooks: Arc<Mutex<Vec<Hook>>>) {
    loop {
        let change = match events.recv().await {
            Ok(EngineEvent::Applied(change)) => change,
            Ok(_) => continue,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "waygate: webhooks fell behind; some changes were not delivered"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        for hook in lock(&hooks).iter() {
            if hook.queue.try_send(change.clone()).is_err() {
                let host = hook.webhook.url.host_str().unwrap_or_default();
                tracing::warn!(%host, event = %change.event, "waygate: webhook queue full; change not delivered");
            }
        }
    }
}

/// One webhook's worker: its changes, one after the other.
async fn work(
    backend: Arc<dyn Backend>,
    client: reqwest::Client,
    hook: Arc<Webhook>,
    mut changes: mpsc::Receiver<Arc<Change>>,
) {
    while let Some(change) = changes.recv().await {
        deliver(&backend, &client, &hook, &change).await;
    }
}

/// Claims the delivery of `change` to `hook` and, if this instance won, posts it.
async fn deliver(
    backend: &Arc<dyn Backend>,
    client: &reqwest::Client,
    hook: &Webhook,
    change: &Change,
) {
    let host = hook.url.host_str().unwrap_or_default().to_owned();
    match backend.claim_once(&claim_id(change, hook), CLAIM_TTL).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::warn!(%error, %host, event = %change.event, "waygate: cannot claim a webhook delivery; delivering anyway");
        }
    }
    // A formatter is user code: one that panics loses its body, not the webhook's worker.
    let formatted = std::panic::catch_unwind(AssertUnwindSafe(|| hook.formatter.format(change)));
    let Ok(formatted) = formatted else {
        tracing::error!(%host, event = %change.event, "waygate: the webhook formatter panicked; change not delivered");
        return;
    };
    let body = match serde_json::to_vec(&formatted) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, %host, event = %change.event, "waygate: webhook body does not serialise");
            return;
        }
    };
    let signature = hook.secret.as_ref().map(|secret| sign(secret, &body));
    let mut backoff = hook.backoff;
    for attempt in 1..=hook.attempts {
        let mut request = client
            .post(hook.url.clone())
            .timeout(hook.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-waygate-event", change.event.as_str())
            .header("x-waygate-delivery", change.id.as_str())
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(super::SIGNATURE_HEADER, signature.as_str());
        }
        let outcome = match request.send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => format!("status {}", response.status()),
            Err(error) => error.without_url().to_string(),
        };
        if attempt == hook.attempts {
            tracing::error!(%host, event = %change.event, attempt, %outcome, "waygate: webhook not delivered; giving up");
            return;
        }
        tracing::warn!(%host, event = %change.event, attempt, %outcome, "waygate: webhook delivery failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    }
}

/// `waygate:webhook:{change id}:{url digest}`: one winner per change and URL among the
/// instances sharing a backend. The URL is hashed: it may hold a token.
fn claim_id(change: &Change, hook: &Webhook) -> String {
    let digest = Sha256::digest(hook.url.as_str().as_bytes());
    format!(
        "waygate:webhook:{}:{}",
        change.id,
        hex::encode(&digest[..12])
    )
}
