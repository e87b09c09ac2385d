//! The connection to the server: log in, open the stream, synchronise, apply what the
//! stream says, and on any failure start again after a backoff delay — forever.

use crate::events;
use crate::http::{self, Ended, Target, REQUEST_TIMEOUT};
use crate::shared::Shared;
use crate::sse::LineBuffer;
use crate::sync::synchronise;
use crate::Credentials;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use waygate_core::wire::StreamFrame;

/// A stream silent this long is dead (servers send a keep-alive every 15 s).
const STREAM_IDLE: Duration = Duration::from_secs(45);
/// A connection that lasted this long starts the backoff over.
const STABLE: Duration = Duration::from_secs(30);

/// Connects, synchronises and follows the stream, forever, with backoff between attempts.
pub(crate) async fn run(shared: Arc<Shared>) {
    let (first, max) = shared.config().backoff;
    let mut delay = first;
    // Whether the outage was logged (once per outage).
    let mut down = false;
    loop {
        let began = Instant::now();
        let mut synced = false;
        let ended = session(&shared, &mut synced, &mut down).await;
        shared.set_connected(false);
        let reason = match ended {
            Ok(()) => "the server closed the stream".to_owned(),
            Err(Ended(reason)) => reason,
        };
        if !down {
            tracing::warn!(
                app_id = %shared.app(),
                server = %shared.config().base,
                %reason,
                "waygate sdk: the Waygate Server cannot be reached; enforcing the last known state (fail open) and reconnecting with backoff"
            );
            down = true;
        } else {
            tracing::debug!(app_id = %shared.app(), %reason, "waygate sdk: reconnection failed");
        }
        shared.failed();
        if synced && began.elapsed() >= STABLE {
            delay = first;
        }
        tokio::time::sleep(jitter(delay)).await;
        delay = (delay * 2).min(max);
    }
}

/// `delay` less a random part of up to half of it, so a fleet does not reconnect in step.
fn jitter(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let fraction = (hasher.finish() % 1000) as f64 / 2000.0;
    delay.mul_f64(1.0 - fraction)
}

/// One connection: the stream is opened first (so nothing changed during the
/// synchronisation is missed), then everything is read again, then frames are applied until
/// the stream ends.
async fn session(shared: &Shared, synced: &mut bool, down: &mut bool) -> Result<(), Ended> {
    ensure_token(shared).await?;
    let mut stream =
        match open_stream(shared).await? {
            Opened::Stream(response) => response,
            Opened::Unauthorized
                if matches!(shared.config().credentials, Credentials::Login { .. }) =>
            {
                // The token stopped being accepted (a restarted server with a new secret): once
                // more with a fresh one.
                shared.set_token(None);
                ensure_token(shared).await?;
                match open_stream(shared).await? {
                    Opened::Stream(response) => response,
                    Opened::Unauthorized => return Err(Ended("401 on the SDK stream".into())),
                }
            }
            Opened::Unauthorized => return Err(Ended(
                "401 on the SDK stream: the server needs a token (give the SDK a login or a token)"
                    .into(),
            )),
        };
    let routes = synchronise(shared).await?;
    *synced = true;
    shared.set_connected(true);
    shared.synchronised();
    if *down {
        tracing::info!(app_id = %shared.app(), routes, "waygate sdk: reconnected to the Waygate Server; state synchronised");
        *down = false;
    } else {
        tracing::info!(app_id = %shared.app(), server = %shared.config().base, routes, "waygate sdk: connected to the Waygate Server; state synchronised");
    }
    let mut lines = LineBuffer::default();
    loop {
        let chunk = tokio::time::timeout(STREAM_IDLE, stream.chunk())
            .await
            .map_err(|_| Ended("the stream went silent".into()))??;
        let Some(chunk) = chunk else {
            return Ok(());
        };
        for data in lines.push(&chunk) {
            match StreamFrame::from_json(&data) {
                Ok(frame) => events::apply(shared, frame),
                Err(error) => {
                    tracing::debug!(app_id = %shared.app(), %error, "waygate sdk: unreadable stream frame ignored");
                }
            }
        }
    }
}

enum Opened {
    Stream(reqwest::Response),
    Unauthorized,
}

async fn open_stream(shared: &Shared) -> Result<Opened, Ended> {
    let query = [("app_id", shared.app())];
    let target = Target::at(&["api", "sdk", "events"]).query(&query);
    let response = http::request(shared, reqwest::Method::GET, target)?
        .header("accept", "text/event-stream")
        .send()
        .await?;
    match response.status().as_u16() {
        200..=299 => Ok(Opened::Stream(response)),
        401 => Ok(Opened::Unauthorized),
        status => Err(Ended(format!("HTTP {status} on the SDK stream"))),
    }
}

/// Logs in when the SDK has a user and no token yet.
async fn ensure_token(shared: &Shared) -> Result<(), Ended> {
    let Credentials::Login { username, password } = &shared.config().credentials else {
        return Ok(());
    };
    if shared.token().is_some() {
        return Ok(());
    }
    let body = json!({
        "username": username,
        "password": password,
        "platform": "sdk",
        "app_id": shared.app(),
    });
    let target = Target::at(&["api", "auth", "login"]);
    let response = http::request(shared, reqwest::Method::POST, target)?
        .timeout(REQUEST_TIMEOUT)
        .json(&body)
        .send()
        .await?;
    match response.status().as_u16() {
        200 => {
            let body: Value = response.json().await?;
            let token = body
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| Ended("the login answer has no token".into()))?;
            shared.set_token(Some(token.to_owned()));
            Ok(())
        }
        // The server has no auth: carry on without a token.
        501 => Ok(()),
        status => Err(Ended(format!("login refused (HTTP {status})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(2));
            assert!(
                d <= Duration::from_secs(2) && d >= Duration::from_secs(1),
                "{d:?}"
            );
        }
    }
}
