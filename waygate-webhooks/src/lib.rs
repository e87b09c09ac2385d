//! HTTP notifications of every state change. Framework-free: the axum adapter offers it as
//! `waygate::webhooks` and the actix-web adapter as `waygate_actix::webhooks` (feature
//! `webhooks` of each).
//!
//! ```rust,no_run
//! use waygate_webhooks::{EngineWebhooks, SlackFormatter, Webhook};
//! use waygate_core::Engine;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new();
//! engine.start().await?;
//! // The Python original's default JSON body:
//! engine.add_webhook("https://ops.example.com/hooks/waygate", waygate_webhooks::DefaultFormatter)?;
//! // Slack, signed, five attempts:
//! engine.register_webhook(
//!     Webhook::new("https://hooks.slack.com/services/T000/B000/XXXX")?
//!         .formatter(SlackFormatter)
//!         .secret("shared-secret")
//!         .attempts(5),
//! )?;
//! // Your own body:
//! engine.add_webhook("https://example.com/hook", |change: &waygate_core::Change| {
//!     serde_json::json!({"route": change.key, "event": change.event})
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A webhook fires for every change the engine applies — not only the three the Python
//! original fires. The event name is the audit action:
//!
//! | event | when |
//! |---|---|
//! | `enable`, `disable` | a route is enabled or disabled |
//! | `maintenance_on` | a route is put in maintenance (with a window: when it is scheduled, and again when the window opens) |
//! | `maintenance_off` | a maintenance window ends |
//! | `env_gate` | a route is restricted to environments |
//! | `global_maintenance_on`, `global_maintenance_off`, `global_exempt_paths_set` | global maintenance |
//! | `service_maintenance_on`, `service_maintenance_off` | a service's maintenance |
//! | `rl_policy_set`, `rl_policy_updated`, `rl_policy_deleted`, `rl_reset` | a route's rate limit |
//! | `global_rl_set`, `global_rl_updated`, `global_rl_enabled`, `global_rl_disabled`, `global_rl_deleted`, `global_rl_reset` | the global rate limit |
//! | `svc_rl_set`, `svc_rl_updated`, `svc_rl_enabled`, `svc_rl_disabled`, `svc_rl_deleted`, `svc_rl_reset` | a service's rate limit |
//! | `flag_created`, `flag_updated`, `flag_enabled`, `flag_disabled`, `flag_deleted` | a feature flag (path `flag:{key}`; a scheduled change applied is `flag_updated` by `scheduler`) |
//! | `segment_created`, `segment_updated`, `segment_deleted` | a flag segment (path `segment:{key}`) |
//!
//! # Delivery
//!
//! Off the request path and off the mutation: a mutation returns as soon as it is stored;
//! each webhook has a background worker that posts its changes one at a time, in the order
//! they were applied, with the body (`Content-Type: application/json`, `X-Waygate-Event`,
//! `X-Waygate-Delivery` with the change id, and `X-Waygate-Signature: sha256=<hex>` when the
//! webhook has a [secret](Webhook::secret); check it with [`verify_signature`]). A request
//! times out after 10 s; a failed attempt (an error or a non-2xx status) is retried with
//! exponential backoff (1 s, 2 s, ...), 3 attempts in all by default. A failing receiver
//! never affects route state.
//!
//! # Several instances
//!
//! Register webhooks on the engines that apply changes. When several engines share a
//! backend, each delivery is claimed in the backend first ([`Backend::claim_once`], for a
//! minute): exactly one instance delivers each change to each URL. That matters for
//! maintenance windows, which every instance opens and closes on its own timer; a change
//! made through one instance's API is only ever seen as a change by that instance. If the
//! backend cannot be asked, the instance delivers (a duplicate beats a lost event).
//!
//! [`Backend::claim_once`]: waygate_core::backend::Backend::claim_once

#![cfg_attr(docsrs, feature(doc_cfg))]

mod deliver;
mod format;
mod sign;

pub use format::{DefaultFormatter, Formatter, SlackFormatter};
pub use sign::{sign, verify_signature, SIGNATURE_HEADER};

use deliver::Registry;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use waygate_core::Engine;

/// One webhook: where to post, how to format, how hard to try.
#[derive(Clone)]
pub struct Webhook {
    url: reqwest::Url,
    formatter: Arc<dyn Formatter>,
    secret: Option<Arc<[u8]>>,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
}

/// A webhook could not be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL does not parse, or is not `http` / `https`.
    #[error("invalid webhook url: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (no TLS roots, say).
    #[error("cannot build the webhook http client: {reason}")]
    Client {
        /// Why.
        reason: String,
    },
    /// Webhooks are delivered by tokio tasks: register them from inside a runtime.
    #[error("no tokio runtime: register webhooks from inside one")]
    NoRuntime,
}

impl Webhook {
    /// A webhook posting the [`DefaultFormatter`] body to `url` (`http` or `https`).
    pub fn new(url: &str) -> Result<Self, WebhookError> {
        let url = reqwest::Url::parse(url).map_err(|e| WebhookError::InvalidUrl {
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(WebhookError::InvalidUrl {
                reason: "expected an http:// or https:// url with a host".to_owned(),
            });
        }
        Ok(Self {
            url,
            formatter: Arc::new(DefaultFormatter),
            secret: None,
            attempts: 3,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        })
    }

    /// The body's formatter (default [`DefaultFormatter`]).
    pub fn formatter(mut self, formatter: impl Formatter) -> Self {
        self.formatter = Arc::new(formatter);
        self
    }

    /// Signs every body with HMAC-SHA256 and this secret (`X-Waygate-Signature`).
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(secret.as_ref().into());
        self
    }

    /// How many times a delivery is tried in all (default 3; at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry, doubled for each next one (default 1 s).
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long one attempt may take (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The URL posted to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL's path may hold a token (Slack's does), and the secret is one: show neither.
        f.debug_struct("Webhook")
            .field("host", &self.url.host_str())
            .field("signed", &self.secret.is_some())
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Webhooks on an [`Engine`]: `engine.add_webhook(..)` (in the adapters' preludes).
pub trait EngineWebhooks {
    /// Posts every change this engine applies to `url`, formatted by `formatter`
    /// ([`DefaultFormatter`], [`SlackFormatter`], or a closure). See [`webhooks`](self).
    fn add_webhook(&self, url: &str, formatter: impl Formatter) -> Result<(), WebhookError>;

    /// Registers a configured [`Webhook`].
    fn register_webhook(&self, webhook: Webhook) -> Result<(), WebhookError>;

    /// The registered webhooks.
    fn webhooks(&self) -> Vec<Webhook>;
}

impl EngineWebhooks for Engine {
    fn add_webhook(&self, url: &str, formatter: impl Formatter) -> Result<(), WebhookError> {
        self.register_webhook(Webhook::new(url)?.formatter(formatter))
    }

    fn register_webhook(&self, webhook: Webhook) -> Result<(), WebhookError> {
        self.extension::<Registry>().add(self, webhook)
    }

    fn webhooks(&self) -> Vec<Webhook> {
        self.extension::<Registry>().list()
    }
}
