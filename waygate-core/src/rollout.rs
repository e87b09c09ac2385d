//! Percentage rollout: which clients a route with `rollout_percentage < 100` is served to.
//!
//! A client falls in one of 10,000 buckets per route, from a fixed hash of the route key and
//! the client's key (its user, IP, API key or a custom key). The hash is 64-bit FNV-1a with a
//! final avalanche (MurmurHash3's `fmix64`): no per-process seed, so the same client gets the
//! same answer across requests, instances and restarts, and a client inside 25% stays inside
//! at 30% (raising the percentage only adds clients). Routes are hashed in, so the 25% of one
//! route are not the 25% of every other.
//!
//! ```
//! use waygate_core::rollout::in_rollout;
//!
//! let served = in_rollout("GET:/beta", "user-42", 25);
//! assert_eq!(served, in_rollout("GET:/beta", "user-42", 25), "stable");
//! assert!(!served || in_rollout("GET:/beta", "user-42", 60), "raising only adds clients");
//! assert!(in_rollout("GET:/beta", "anyone", 100));
//! assert!(!in_rollout("GET:/beta", "anyone", 0));
//! ```

/// The number of buckets a route's clients are spread over (a hundredth of a percent each).
pub const BUCKETS: u16 = 10_000;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The client's bucket for `route_key`, in `0..BUCKETS`. Deterministic: a pure function of
/// its arguments, the same on every platform and in every process.
pub fn bucket(route_key: &str, client_key: &str) -> u16 {
    let mut hash = FNV_OFFSET;
    for byte in route_key
        .bytes()
        // A separator no UTF-8 text contains, so ("ab", "c") and ("a", "bc") differ.
        .chain(std::iter::once(0xff))
        .chain(client_key.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    (fmix64(hash) % u64::from(BUCKETS)) as u16
}

/// Whether the client with `client_key` is inside `percent` (0 to 100; above 100 counts as
/// 100) of `route_key`'s clients.
pub fn in_rollout(route_key: &str, client_key: &str, percent: u8) -> bool {
    match percent {
        0 => false,
        100.. => true,
        percent => bucket(route_key, client_key) < u16::from(percent) * (BUCKETS / 100),
    }
}

/// MurmurHash3's 64-bit finalizer: every input bit moves every output bit, so the buckets
/// of keys that differ in their last character are unrelated.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(route: &str, percent: u8, keys: impl Iterator<Item = String>) -> f64 {
        let (mut inside, mut total) = (0u32, 0u32);
        for key in keys {
            total += 1;
            inside += u32::from(in_rollout(route, &key, percent));
        }
        f64::from(inside) * 100.0 / f64::from(total)
    }

    #[test]
    fn ten_thousand_keys_land_within_two_percent_of_the_target() {
        let shapes: [fn(u32) -> String; 3] = [
            |i| format!("user-{i}"),
            |i| format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
            |i| format!("{i:032x}"),
        ];
        for shape in shapes {
            for route in ["GET:/beta", "POST:/v2/orders"] {
                for percent in [1, 5, 10, 25, 50, 75, 90, 99] {
                    let got = share(route, percent, (0..10_000).map(shape));
                    assert!(
                        (got - f64::from(percent)).abs() <= 2.0,
                        "{route} at {percent}%: {got:.2}% of {}",
                        shape(0)
                    );
                }
            }
        }
    }

    #[test]
    fn stable_values_across_processes_and_platforms() {
        // Fixed expectations: a change of hash would reshuffle every rollout in production.
        assert_eq!(bucket("GET:/beta", "user-1"), bucket("GET:/beta", "user-1"));
        let known = [
            bucket("GET:/beta", "user-1"),
            bucket("GET:/beta", "user-2"),
            bucket("GET:/other", "user-1"),
            bucket("", ""),
        ];
        assert_eq!(known, KNOWN);
    }

    const KNOWN: [u16; 4] = [9110, 564, 4520, 2295];

    #[test]
    fn raising_the_percentage_only_adds_clients() {
        for i in 0..2_000 {
            let key = format!("client-{i}");
            let mut was_in = false;
            for percent in 0..=100 {
                let now_in = in_rollout("GET:/beta", &key, percent);
                assert!(now_in || !was_in, "{key} left the rollout at {percent}%");
                was_in = now_in;
            }
            assert!(was_in, "everyone is in at 100%");
        }
    }

    #[test]
    fn routes_roll_out_to_different_clients() {
        let same = (0..10_000)
            .map(|i| format!("user-{i}"))
            .filter(|k| in_rollout("GET:/a", k, 50) == in_rollout("GET:/b", k, 50))
            .count();
        // Independent halves agree on about half the clients.
        assert!((4_500..5_500).contains(&same), "{same}");
        assert_ne!(bucket("ab", "c"), bucket("a", "bc"));
    }
}
