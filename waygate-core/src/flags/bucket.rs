//! Percentage rollouts: the Python original's bucketing, so that a team moving from it keeps
//! every user in the same bucket.

use sha1::{Digest, Sha1};

/// How many buckets there are: rollout weights are out of this.
pub const BUCKETS: u32 = 100_000;

/// The bucket of a context for a flag: the whole 160-bit SHA-1 digest of
/// `"{flag_key}:{kind}:{key}"` read as a big-endian integer, modulo 100,000 — Python's
/// `int(sha1(seed).hexdigest(), 16) % 100000`. Hashes the parts in place (no allocation),
/// with the CPU's SHA instructions where it has them; a seed of one block (55 bytes or
/// fewer) is padded on the stack and compressed in one call.
///
/// ```
/// use waygate_core::flags::bucket;
///
/// assert!(bucket("new-checkout", "user", "user-42") < 100_000);
/// ```
pub fn bucket(flag_key: &str, kind: &str, key: &str) -> u32 {
    let digest = match one_block(flag_key, kind, key) {
        Some(blocks) => {
            let mut state = SHA1_INIT;
            sha1::block_api::compress(&mut state, &blocks);
            state
        }
        None => {
            let mut sha1 = Sha1::new();
            sha1.update(flag_key.as_bytes());
            sha1.update(b":");
            sha1.update(kind.as_bytes());
            sha1.update(b":");
            sha1.update(key.as_bytes());
            let bytes = sha1.finalize();
            let mut words = [0u32; 5];
            for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
                *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            }
            words
        }
    };
    // Σ word_i × (2^(32·(4−i)) mod n), then one reduction: each term is below
    // 2^32 × 2^17, the sum of five below 2^52.
    let sum: u64 = digest
        .iter()
        .zip(WORD_WEIGHTS)
        .map(|(word, weight)| u64::from(*word) * weight)
        .sum();
    (sum % u64::from(BUCKETS)) as u32
}

/// `2^(32·(4−i)) mod BUCKETS` for the digest's words, most significant first.
const WORD_WEIGHTS: [u64; 5] = {
    let n = BUCKETS as u64;
    let shift = (1u64 << 32) % n;
    let mut weights = [1u64; 5];
    let mut i = 4;
    while i > 0 {
        weights[i - 1] = weights[i] * shift % n;
        i -= 1;
    }
    weights
};

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const SHA1_INIT: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// `"{flag_key}:{kind}:{key}"` as the one padded SHA-1 block it fits in (55 bytes or fewer:
/// the usual case), built on the stack: the whole hash is then one call of the compression
/// function, without the streaming hasher's buffering.
fn one_block(flag_key: &str, kind: &str, key: &str) -> Option<[[u8; 64]; 1]> {
    let len = flag_key.len() + kind.len() + key.len() + 2;
    if len > 55 {
        return None;
    }
    // Built where the compression reads it: no copy of the block once written.
    let mut blocks = [[0u8; 64]];
    let block = &mut blocks[0];
    let mut at = 0;
    for part in [
        flag_key.as_bytes(),
        b":",
        kind.as_bytes(),
        b":",
        key.as_bytes(),
    ] {
        block[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    block[at] = 0x80;
    block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    Some(blocks)
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
