//! Percentage rollouts: the Python original's bucketing, so that a team moving from it keeps
//! every user in the same bucket.

use sha1::{Digest, Sha1};

/// How many buckets there are: rollout weights are out of this.
pub const BUCKETS: u32 = 100_000;

/// The bucket of a context for a flag: the whole 160-bit SHA-1 digest of
/// `"{flag_key}:{kind}:{key}"` read as a big-endian integer, modulo 100,000 — Python's
/// `int(sha1(seed).hexdigest(), 16) % 100000`. Hashes the parts in place (no allocation),
/// with the CPU's SHA instructions where it has them.
///
/// ```
/// use waygate_core::flags::bucket;
///
/// assert!(bucket("new-checkout", "user", "user-42") < 100_000);
/// ```
pub fn bucket(flag_key: &str, kind: &str, key: &str) -> u32 {
    let mut sha1 = Sha1::new();
    sha1.update(flag_key.as_bytes());
    sha1.update(b":");
    sha1.update(kind.as_bytes());
    sha1.update(b":");
    sha1.update(key.as_bytes());
    let digest = sha1.finalize();
    // (r × 2^32 + word) mod n, four bytes at a time: r < n < 2^17, so it fits a u64.
    let n = u64::from(BUCKETS);
    let mut rest: u64 = 0;
    for word in digest.chunks_exact(4) {
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        rest = ((rest << 32) | u64::from(word)) % n;
    }
    rest as u32
}

/// The variation a rollout serves for a bucket: walk the weights, the first whose running
/// total passes the bucket wins; weights summing below 100,000 leave the rest to the last.
pub(crate) fn pick<T: Copy>(rollout: &[(T, u32)], bucket: u32) -> Option<T> {
    let mut total: u64 = 0;
    for (variation, weight) in rollout {
        total += u64::from(*weight);
        if u64::from(bucket) < total {
            return Some(*variation);
        }
    }
    rollout.last().map(|(variation, _)| *variation)
}
