//! HMAC-SHA256 signatures of webhook bodies, so receivers can check who sent them.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header carrying the signature: `X-Waygate-Signature: sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-waygate-signature";

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// The signature header value of `body`: `sha256=` and the hex HMAC-SHA256 of the body with
/// `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (the `X-Waygate-Signature` value) is `body`'s signature with `secret`.
/// The comparison takes constant time.
///
/// ```
/// use waygate_webhooks::{sign, verify_signature};
///
/// let header = sign(b"s3cret", b"{}");
/// assert!(verify_signature(b"s3cret", b"{}", &header));
/// assert!(!verify_signature(b"other", b"{}", &header));
/// ```
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(signature) = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
    else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}
