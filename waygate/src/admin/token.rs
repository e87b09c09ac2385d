//! Session tokens, in the Python original's format, so that a token issued by one server is
//! valid on another configured with the same secret and credentials, whichever language it
//! is written in:
//!
//! ```text
//! b64u(compact JSON {"sub": user, "exp": <float unix seconds>, "jti": <16 hex>, "plat": platform})
//!   + "." + lowercase hex HMAC-SHA256(key, <the base64 text>)
//! key = UTF-8 of "{secret_key}:{auth fingerprint}"
//! ```
//!
//! The signature is checked in constant time ([`Mac::verify_slice`], which compares with
//! `subtle`), before anything in the payload is read.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine as _, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt::Write as _;
use std::time::Duration;

/// base64url without padding when encoding; padding optional when decoding (the Python
/// original re-pads before decoding).
pub(crate) const B64U: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signed content of a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The user name.
    pub(crate) sub: String,
    /// When the token expires, in (fractional) seconds since the Unix epoch.
    pub(crate) exp: f64,
    /// The token's id, for revocation.
    pub(crate) jti: String,
    /// The platform it was issued for: `cli`, `sdk`, `dashboard`, or `evaluate` (an
    /// evaluation-only key).
    #[serde(default = "cli")]
    pub(crate) plat: String,
    /// The service an `sdk` token was issued to (waygate for Rust only; other servers ignore
    /// it): the token may act for that service's routes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) app: Option<String>,
}

fn cli() -> String {
    "cli".to_owned()
}

impl Claims {
    /// When the token expires (to the microsecond).
    pub(crate) fn expires_at(&self) -> DateTime<Utc> {
        let micros = (self.exp * 1e6).round();
        // Far outside chrono's range: clamp rather than fail (such a token is already
        // rejected or lives forever either way).
        DateTime::from_timestamp_micros(micros as i64).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Issues and checks tokens with one signing key.
#[derive(Clone)]
pub(crate) struct Tokens {
    key: Vec<u8>,
    expiry: Duration,
    sdk_expiry: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Tokens")
            .field("expiry", &self.expiry)
            .field("sdk_expiry", &self.sdk_expiry)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Signs with `"{secret}:{fingerprint}"`.
    pub(crate) fn new(
        secret: &str,
        fingerprint: &str,
        expiry: Duration,
        sdk_expiry: Duration,
    ) -> Self {
        Self {
            key: format!("{secret}:{fingerprint}").into_bytes(),
            expiry,
            sdk_expiry,
        }
    }

    /// A fresh token for `username` on `platform`, valid from `now` for the platform's
    /// lifetime (`sdk` tokens get the SDK lifetime).
    #[cfg(any(test, feature = "dashboard"))]
    pub(crate) fn issue(
        &self,
        username: &str,
        platform: &str,
        now: DateTime<Utc>,
    ) -> (String, Claims) {
        self.issue_for(username, platform, None, now)
    }

    /// [`issue`](Self::issue), bound to the service `app` when given (an `sdk` token).
    pub(crate) fn issue_for(
        &self,
        username: &str,
        platform: &str,
        app: Option<&str>,
        now: DateTime<Utc>,
    ) -> (String, Claims) {
        let lifetime = if platform == "sdk" {
            self.sdk_expiry
        } else {
            self.expiry
        };
        self.issue_with(username, platform, app, lifetime, now)
    }

    /// A service's token (`sdk`, bound to `service`, its subject), valid for `lifetime`:
    /// what an operator hands a service instead of a password.
    pub(crate) fn issue_service(
        &self,
        service: &str,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> (String, Claims) {
        self.issue_with(service, "sdk", Some(service), lifetime, now)
    }

    /// An evaluation-only key named `name`, valid for `lifetime`: it can call the OFREP
    /// paths and nothing else.
    pub(crate) fn issue_evaluator(
        &self,
        name: &str,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> (String, Claims) {
        self.issue_with(name, super::extract::EVALUATE_PLATFORM, None, lifetime, now)
    }

    fn issue_with(
        &self,
        username: &str,
        platform: &str,
        app: Option<&str>,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> (String, Claims) {
        let lifetime = TimeDelta::from_std(lifetime).unwrap_or(TimeDelta::MAX);
        let expires = now
            .checked_add_signed(lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let claims = Claims {
            sub: username.to_owned(),
            exp: expires.timestamp_micros() as f64 / 1e6,
            jti: hex(&random::<8>()),
            plat: platform.to_owned(),
            app: app.map(str::to_owned),
        };
        (self.sign(&claims), claims)
    }

    /// How long `sdk` tokens are valid unless said otherwise.
    pub(crate) fn sdk_expiry(&self) -> Duration {
        self.sdk_expiry
    }

    /// The token for `claims`.
    pub(crate) fn sign(&self, claims: &Claims) -> String {
        let payload = B64U.encode(python_compact_json(claims));
        let signature = hex(&self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The claims of a token that this key signed and that has not expired at `now`.
    /// Revocation is the caller's to check.
    pub(crate) fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let (payload, signature) = token.rsplit_once('.')?;
        let signature = unhex(signature)?;
        // Constant time, and before the payload is even decoded.
        self.mac(payload).verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&B64U.decode(payload).ok()?).ok()?;
        let now = now.timestamp_micros() as f64 / 1e6;
        // Expired when `now > exp`, as in the Python original; a token without an id could
        // not be revoked, so it is not accepted.
        (claims.exp.is_finite() && now <= claims.exp && !claims.jti.is_empty()).then_some(claims)
    }

    /// The dashboard's CSRF token for a session (the token's `jti`, or a fixed name in open
    /// mode): lowercase hex HMAC-SHA256 of `"csrf:{session}"` with the signing key, so it
    /// cannot be made without the secret and dies with the session.
    #[cfg(feature = "dashboard")]
    pub(crate) fn csrf(&self, session: &str) -> String {
        hex(&self.mac(&format!("csrf:{session}")).finalize().into_bytes())
    }

    /// Whether `presented` is the session's CSRF token (compared in constant time).
    pub(crate) fn csrf_ok(&self, session: &str, presented: &str) -> bool {
        unhex(presented).is_some_and(|tag| {
            self.mac(&format!("csrf:{session}"))
                .verify_slice(&tag)
                .is_ok()
        })
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }
}

/// `json.dumps(claims, separators=(",", ":"))`: compact, and every non-ASCII character
/// escaped as `\uXXXX` (Python's default `ensure_ascii`), so the bytes are the Python
/// original's.
fn python_compact_json(claims: &Claims) -> String {
    let json = serde_json::to_string(claims).expect("claims serialize");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Decodes lowercase hex (what the Python original writes; it compares the text, so an
/// upper-case signature is refused there too).
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Auth;

    const DAY: Duration = Duration::from_secs(86_400);

    fn tokens() -> Tokens {
        Tokens::new(
            "test-secret",
            Auth::single("admin", "secret").fingerprint(),
            DAY,
            DAY * 365,
        )
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    /// Minted by the Python original's `TokenManager` (`secret_key="test-secret"`,
    /// `auth=("admin", "secret")`) with fixed `exp` and `jti`.
    const PYTHON_ADMIN: &str = "eyJzdWIiOiJhZG1pbiIsImV4cCI6NDEwMjQ0NDgwMC41LCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmIiwicGxhdCI6ImNsaSJ9.1cd827d5e2a6e58d552437d5d8c71bedb78ade84f33d710d9bc23c6a4af73999";
    const PYTHON_SDK: &str = "eyJzdWIiOiJ6b1x1MDBlYiIsImV4cCI6NDEwMjQ0NDgwMC4wLCJqdGkiOiJmZWRjYmE5ODc2NTQzMjEwIiwicGxhdCI6InNkayJ9.f91461891841b72235e3e47fc100df0215825d2c1621e2d623c0db2301cbfc7c";

    #[test]
    fn same_bytes_as_the_python_original() {
        let admin = Claims {
            sub: "admin".into(),
            exp: 4_102_444_800.5,
            jti: "0123456789abcdef".into(),
            plat: "cli".into(),
            app: None,
        };
        assert_eq!(tokens().sign(&admin), PYTHON_ADMIN);
        let sdk = Claims {
            sub: "zoë".into(),
            exp: 4_102_444_800.0,
            jti: "fedcba9876543210".into(),
            plat: "sdk".into(),
            app: None,
        };
        assert_eq!(tokens().sign(&sdk), PYTHON_SDK);

        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(tokens().verify(PYTHON_ADMIN, now), Some(admin));
        assert_eq!(tokens().verify(PYTHON_SDK, now), Some(sdk));
    }

    #[test]
    fn issue_then_verify() {
        let now = at("2026-05-01T12:00:00.25Z");
        let (token, claims) = tokens().issue("admin", "cli", now);
        assert_eq!(claims.sub, "admin");
        assert_eq!(claims.plat, "cli");
        assert_eq!(claims.jti.len(), 16);
        assert!(claims.jti.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(claims.expires_at(), at("2026-05-02T12:00:00.25Z"));
        assert_eq!(tokens().verify(&token, now).as_ref(), Some(&claims));

        let (_, sdk) = tokens().issue("svc", "sdk", now);
        assert_eq!(sdk.expires_at(), at("2027-05-01T12:00:00.25Z"));
        let (_, other) = tokens().issue("admin", "cli", now);
        assert_ne!(other.jti, claims.jti, "every token gets its own id");
    }

    #[test]
    fn refuses_what_it_did_not_sign_or_what_expired() {
        let now = at("2026-05-01T12:00:00Z");
        let (token, claims) = tokens().issue("admin", "cli", now);
        let other_secret = Tokens::new(
            "another",
            Auth::single("admin", "secret").fingerprint(),
            DAY,
            DAY,
        );
        assert_eq!(other_secret.verify(&token, now), None);
        let other_users = Tokens::new(
            "test-secret",
            Auth::single("admin", "changed").fingerprint(),
            DAY,
            DAY,
        );
        assert_eq!(other_users.verify(&token, now), None, "changed credentials");

        let (payload, signature) = token.rsplit_once('.').unwrap();
        let forged = Claims {
            sub: "root".into(),
            ..claims.clone()
        };
        let forged_payload = B64U.encode(serde_json::to_vec(&forged).unwrap());
        for bad in [
            format!("{forged_payload}.{signature}"),
            format!("{payload}.{}", signature.to_uppercase()),
            format!("{payload}.{}", &signature[..62]),
            format!("{payload}x.{signature}"),
            payload.to_owned(),
            String::new(),
            ".".to_owned(),
            "garbage".to_owned(),
        ] {
            assert_eq!(tokens().verify(&bad, now), None, "{bad:?}");
        }

        let expires = claims.expires_at();
        assert!(
            tokens().verify(&token, expires).is_some(),
            "valid up to exp"
        );
        assert_eq!(
            tokens().verify(&token, expires + TimeDelta::microseconds(1)),
            None
        );
    }

    #[test]
    fn python_json_escapes_non_ascii() {
        let claims = Claims {
            sub: "a\"b\\😀é\n".into(),
            exp: 1.0,
            jti: "x".into(),
            plat: "cli".into(),
            app: None,
        };
        assert_eq!(
            python_compact_json(&claims),
            r#"{"sub":"a\"b\\\ud83d\ude00\u00e9\n","exp":1.0,"jti":"x","plat":"cli"}"#
        );
    }
}
