//! Maintenance bypass tokens: what an operator hands to a tester so that their requests pass
//! maintenance, disabled routes and global maintenance (never env gates, never rate limits)
//! while everyone else is still refused — Laravel's `artisan down --secret`, signed and
//! expiring.
//!
//! ```text
//! b64u(compact JSON {"typ": "bypass", "iat": <float unix seconds>, "exp": <float unix seconds>, "jti": <16 hex>})
//!   + "." + lowercase hex HMAC-SHA256(key, <the base64 text>)
//! key = UTF-8 of "{secret_key}:bypass"
//! ```
//!
//! The key is derived from the admin's [`secret_key`](super::WaygateAdmin::secret_key) with
//! its own label, so an admin session token is never a bypass token and the reverse. The
//! signature is checked in constant time before the payload is read. A request carries the
//! token in the `X-Waygate-Bypass` header or the `waygate_bypass` cookie (which
//! `GET {admin}/bypass/{token}` sets). [`Engine::revoke_bypass_tokens`] voids every token
//! issued before it, on every instance sharing the backend.

use super::token::{hex, random, unhex, B64U};
use crate::{BypassCheck, BypassRequest, Engine};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// The header a bypass token is sent in.
pub const BYPASS_HEADER: &str = "x-waygate-bypass";
/// The cookie a browser keeps its bypass token in.
pub const BYPASS_COOKIE: &str = "waygate_bypass";
/// The longest a bypass token may live: 30 days.
pub const MAX_BYPASS_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// The signed content of a bypass token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Claims {
    /// Always `"bypass"`.
    typ: String,
    /// When it was issued, in (fractional) seconds since the Unix epoch.
    iat: f64,
    /// When it expires, likewise.
    exp: f64,
    /// Its id.
    jti: String,
}

/// A bypass token, as issued.
#[derive(Clone, PartialEq, Eq)]
pub struct BypassToken {
    /// The token text to send in `X-Waygate-Bypass`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for BypassToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token: it is a credential.
        f.debug_struct("BypassToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Issues bypass tokens and tells whether a request carries a valid one. Cheap to clone.
///
/// Get one from [`WaygateAdmin::bypass_verifier`](super::WaygateAdmin::bypass_verifier), or
/// build one with the same secret key on an instance that serves the app without the admin.
#[derive(Clone)]
pub struct BypassVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    key: Arc<Key>,
    engine: Engine,
}

/// The signing key; also what the engine's decision asks ([`BypassCheck`]).
struct Key(Vec<u8>);

impl Key {
    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// When `token` expires, if it is valid now on `engine`: signed with this key
    /// (compared in constant time), not expired, and issued after the last revocation.
    fn verify(&self, engine: &Engine, token: &str) -> Option<DateTime<Utc>> {
        let (payload, signature) = token.trim().rsplit_once('.')?;
        let signature = unhex(signature)?;
        self.mac(payload).verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&B64U.decode(payload).ok()?).ok()?;
        let now = seconds(engine.now());
        let revoked = engine.bypass_revoked_before().map(seconds);
        let valid = claims.typ == "bypass"
            && claims.exp.is_finite()
            && claims.iat.is_finite()
            && now <= claims.exp
            && revoked.is_none_or(|before| claims.iat > before);
        valid.then(|| at(claims.exp))
    }
}

/// The check the decision runs for a refused request: the key alone (the engine is passed
/// in, so the engine holding it makes no reference cycle).
struct Check(Arc<Key>);

impl BypassCheck for Check {
    fn is_valid(&self, engine: &Engine, request: &dyn BypassRequest) -> bool {
        let token = request.header(BYPASS_HEADER).or_else(|| {
            request
                .header_values("cookie")
                .into_iter()
                .find_map(cookie_value)
        });
        token.is_some_and(|token| self.0.verify(engine, token).is_some())
    }
}

impl fmt::Debug for BypassVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("BypassVerifier")
            .field("engine", &self.inner.engine)
            .finish_non_exhaustive()
    }
}

impl BypassVerifier {
    /// Checks tokens signed with `secret_key` (the admin's
    /// [`secret_key`](super::WaygateAdmin::secret_key)), honouring `engine`'s revocations.
    pub fn new(engine: Engine, secret_key: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                key: Arc::new(Key(format!("{secret_key}:bypass").into_bytes())),
                engine,
            }),
        }
    }

    /// Makes the engine's decision honour these tokens: a request carrying one passes
    /// maintenance, disabled routes and global and service maintenance (never env gates,
    /// rollouts or rate limits). [`WaygateAdmin::into_router`](super::WaygateAdmin::into_router)
    /// does this for the admin's engine; call it on an instance that serves the app with the
    /// same secret key but no admin.
    pub fn install(&self) {
        self.inner
            .engine
            .set_bypass_check(Check(Arc::clone(&self.inner.key)));
    }

    /// A fresh token valid for `ttl` from now (at most [`MAX_BYPASS_TTL`]). Not audited:
    /// the admin API's `POST api/bypass` is, through [`Engine::note_bypass_issued`].
    pub fn issue(&self, ttl: std::time::Duration) -> BypassToken {
        let now = self.inner.engine.now();
        let ttl = TimeDelta::from_std(ttl.min(MAX_BYPASS_TTL)).unwrap_or(TimeDelta::MAX);
        let expires_at = now
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let claims = Claims {
            typ: "bypass".to_owned(),
            iat: seconds(now),
            exp: seconds(expires_at),
            jti: hex(&random::<8>()),
        };
        let payload = B64U.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signature = hex(&self.inner.key.mac(&payload).finalize().into_bytes());
        BypassToken {
            token: format!("{payload}.{signature}"),
            // What `verify` reads back from the token.
            expires_at: at(claims.exp),
        }
    }

    /// Whether the request carries a valid bypass token, in `X-Waygate-Bypass` or the
    /// `waygate_bypass` cookie.
    pub fn is_valid(&self, headers: &HeaderMap) -> bool {
        presented(headers).is_some_and(|token| self.verify(token).is_some())
    }

    /// When `token` expires, if it is valid now: signed with this key (compared in constant
    /// time), not expired, and issued after the last revocation.
    pub fn verify(&self, token: &str) -> Option<DateTime<Utc>> {
        self.inner.key.verify(&self.inner.engine, token)
    }
}

/// The token a request presents: the header, else the cookie.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(BYPASS_HEADER) {
        return std::str::from_utf8(value.as_bytes()).ok();
    }
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(cookie_value)
}

/// The `waygate_bypass` value in one `Cookie` header.
fn cookie_value(cookies: &str) -> Option<&str> {
    cookies
        .split(';')
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == BYPASS_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

fn seconds(time: DateTime<Utc>) -> f64 {
    time.timestamp_micros() as f64 / 1e6
}

fn at(seconds: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros((seconds * 1e6).round() as i64)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Actor;
    use http::HeaderValue;
    use std::time::Duration;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[tokio::test(start_paused = true)]
    async fn issued_tokens_pass_until_they_expire() {
        let engine = Engine::new();
        let verifier = BypassVerifier::new(engine.clone(), "secret");
        let issued = verifier.issue(Duration::from_secs(60));
        assert!(verifier.is_valid(&headers(BYPASS_HEADER, &issued.token)));
        let cookie = format!("a=b; {BYPASS_COOKIE}={}", issued.token);
        assert!(verifier.is_valid(&headers("cookie", &cookie)));
        assert_eq!(verifier.verify(&issued.token), Some(issued.expires_at));
        assert!(
            format!("{issued:?}").find(&issued.token).is_none(),
            "never logged"
        );

        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(verifier.verify(&issued.token), None, "expired");
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_other_keys_forgeries_and_admin_tokens() {
        let engine = Engine::new();
        let verifier = BypassVerifier::new(engine.clone(), "secret");
        let other = BypassVerifier::new(engine.clone(), "other");
        let issued = verifier.issue(Duration::from_secs(60));
        assert_eq!(other.verify(&issued.token), None);
        let (payload, signature) = issued.token.rsplit_once('.').unwrap();
        for bad in [
            format!("{payload}.{}", signature.to_uppercase()),
            format!("{payload}.{}", &signature[..62]),
            format!("{payload}x.{signature}"),
            payload.to_owned(),
            String::new(),
            "garbage".to_owned(),
        ] {
            assert_eq!(verifier.verify(&bad), None, "{bad:?}");
        }
        assert!(!verifier.is_valid(&HeaderMap::new()));
        // A session token signed with the admin key ("{secret}:{fingerprint}") is not one.
        let admin = super::super::token::Tokens::new(
            "secret",
            "bypass",
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let (session, _) = admin.issue("admin", "cli", engine.now());
        assert_eq!(verifier.verify(&session), None);
    }

    #[tokio::test(start_paused = true)]
    async fn revocation_voids_every_earlier_token() {
        let engine = Engine::new();
        engine.start().await.unwrap();
        let verifier = BypassVerifier::new(engine.clone(), "secret");
        let before = verifier.issue(Duration::from_secs(3600));
        tokio::time::advance(Duration::from_millis(5)).await;
        engine
            .revoke_bypass_tokens(Actor::new("alice"))
            .await
            .unwrap();
        assert_eq!(verifier.verify(&before.token), None);
        tokio::time::advance(Duration::from_millis(5)).await;
        let after = verifier.issue(Duration::from_secs(3600));
        assert!(verifier.verify(&after.token).is_some());
        engine.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn lifetime_is_capped() {
        let verifier = BypassVerifier::new(Engine::new(), "secret");
        let now = verifier.inner.engine.now();
        let issued = verifier.issue(Duration::from_secs(365 * 24 * 3600));
        let lifetime = (issued.expires_at - now).num_milliseconds();
        let max = MAX_BYPASS_TTL.as_millis() as i64;
        assert!((max - 1..=max).contains(&lifetime), "{lifetime}");
    }
}
