//! `exempt_ips`: a list of IP addresses and networks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An `exempt_ips` entry that is neither an IP address nor a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IP address or network '{entry}'; use an address ('10.0.0.1', '::1') or a CIDR network ('10.0.0.0/8', '2001:db8::/32')")]
pub struct IpNetParseError {
    entry: String,
}

impl IpNetParseError {
    /// The entry that failed to parse.
    pub fn entry(&self) -> &str {
        &self.entry
    }
}

/// IP addresses and networks, IPv4 and IPv6, parsed from a policy's `exempt_ips`.
///
/// Entries are read as Python's `ipaddress.ip_network(entry, strict=False)` reads them: a plain
/// address is a network of one; host bits after the prefix are ignored (`10.1.2.3/8` is
/// `10.0.0.0/8`); IPv4 prefixes may also be written as a netmask (`10.0.0.0/255.0.0.0`) or a
/// hostmask (`10.0.0.0/0.255.255.255`); an IPv6 scope (`fe80::1%eth0`) is ignored.
///
/// Unlike Python, an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack listener
/// reports for IPv4 clients) matches the IPv4 networks, and the other way round.
///
/// ```
/// use waygate_core::rate_limit::IpNetList;
///
/// let exempt = IpNetList::parse(["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]).unwrap();
/// assert!(exempt.contains("10.20.30.40".parse().unwrap()));
/// assert!(exempt.contains("::ffff:10.20.30.40".parse().unwrap()));
/// assert!(exempt.contains("2001:db8::1".parse().unwrap()));
/// assert!(!exempt.contains("192.168.1.8".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpNetList {
    /// `(network, mask)`, host bits cleared.
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpNetList {
    /// An empty list, which contains no address.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses every entry; the first that fails is named in the error.
    pub fn parse<I>(entries: I) -> Result<Self, IpNetParseError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut list = Self::new();
        for entry in entries {
            list.push(entry.as_ref())?;
        }
        Ok(list)
    }

    /// Parses one entry and adds it.
    pub fn push(&mut self, entry: &str) -> Result<(), IpNetParseError> {
        let err = || IpNetParseError {
            entry: entry.to_owned(),
        };
        let (addr, prefix) = match entry.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (entry, None),
        };
        if let Ok(addr) = addr.parse::<Ipv4Addr>() {
            let mask = match prefix {
                None => u32::MAX,
                Some(prefix) => v4_mask(prefix).ok_or_else(err)?,
            };
            self.v4.push((u32::from(addr) & mask, mask));
            return Ok(());
        }
        // Python accepts (and ignores for matching) a scope on IPv6 addresses.
        let addr = addr.split_once('%').map_or(addr, |(addr, _scope)| addr);
        let addr = addr.parse::<Ipv6Addr>().map_err(|_| err())?;
        let mask = match prefix {
            None => u128::MAX,
            Some(prefix) => prefix_len(prefix, 128)
                .map(v6_prefix_mask)
                .ok_or_else(err)?,
        };
        self.v6.push((u128::from(addr) & mask, mask));
        Ok(())
    }

    /// Whether `ip` is in any of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v4, v6) = match ip {
            IpAddr::V4(v4) => (Some(v4), v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => (v6.to_ipv4_mapped(), v6),
        };
        if let Some(v4) = v4 {
            let ip = u32::from(v4);
            if self.v4.iter().any(|&(net, mask)| ip & mask == net) {
                return true;
            }
        }
        let ip = u128::from(v6);
        self.v6.iter().any(|&(net, mask)| ip & mask == net)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A prefix length written in ASCII digits (leading zeros allowed, as Python's `int`), at most
/// `max`.
fn prefix_len(text: &str, max: u32) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > 3 {
        return None;
    }
    let len = digits.parse().unwrap_or(0);
    (len <= max).then_some(len)
}

fn v4_prefix_mask(len: u32) -> u32 {
    u32::MAX.checked_shl(32 - len).unwrap_or(0)
}

fn v6_prefix_mask(len: u32) -> u128 {
    u128::MAX.checked_shl(128 - len).unwrap_or(0)
}

/// An IPv4 prefix: a length, a netmask (`255.255.0.0`) or a hostmask (`0.0.255.255`).
fn v4_mask(text: &str) -> Option<u32> {
    if let Some(len) = prefix_len(text, 32) {
        return Some(v4_prefix_mask(len));
    }
    let mask = u32::from(text.parse::<Ipv4Addr>().ok()?);
    if mask.leading_ones() + mask.trailing_zeros() == 32 {
        Some(mask)
    } else if (!mask).leading_ones() + (!mask).trailing_zeros() == 32 {
        Some(!mask)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn plain_addresses_match_only_themselves() {
        let list = IpNetList::parse(["10.0.0.1", "::1"]).unwrap();
        assert!(list.contains(ip("10.0.0.1")));
        assert!(!list.contains(ip("10.0.0.2")));
        assert!(list.contains(ip("::1")));
        assert!(!list.contains(ip("::2")));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn cidr_networks_match_their_addresses() {
        let list = IpNetList::parse(["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]).unwrap();
        assert!(list.contains(ip("10.255.255.255")));
        assert!(list.contains(ip("192.168.1.200")));
        assert!(!list.contains(ip("192.168.2.1")));
        assert!(!list.contains(ip("11.0.0.0")));
        assert!(list.contains(ip("2001:db8:ffff::1")));
        assert!(!list.contains(ip("2001:db9::1")));
    }

    #[test]
    fn host_bits_are_ignored_like_strict_false() {
        let list = IpNetList::parse(["10.1.2.3/8", "2001:db8::1/32"]).unwrap();
        assert!(list.contains(ip("10.9.9.9")));
        assert!(list.contains(ip("2001:db8::dead")));
    }

    #[test]
    fn zero_and_full_prefixes() {
        let all = IpNetList::parse(["0.0.0.0/0"]).unwrap();
        assert!(all.contains(ip("1.2.3.4")));
        assert!(all.contains(ip("::ffff:1.2.3.4")));
        assert!(!all.contains(ip("2001:db8::1")));
        let all6 = IpNetList::parse(["::/0"]).unwrap();
        assert!(all6.contains(ip("2001:db8::1")));
        let one = IpNetList::parse(["1.2.3.4/32", "2001:db8::7/128"]).unwrap();
        assert!(one.contains(ip("1.2.3.4")));
        assert!(!one.contains(ip("1.2.3.5")));
        assert!(one.contains(ip("2001:db8::7")));
    }

    #[test]
    fn netmask_and_hostmask_forms() {
        let list = IpNetList::parse(["10.0.0.0/255.255.0.0", "172.16.0.0/0.0.255.255"]).unwrap();
        assert!(list.contains(ip("10.0.200.1")));
        assert!(!list.contains(ip("10.1.0.1")));
        assert!(list.contains(ip("172.16.9.9")));
        assert!(!list.contains(ip("172.17.0.1")));
        assert!(IpNetList::parse(["10.0.0.0/255.0.255.0"]).is_err());
        assert!(IpNetList::parse(["10.0.0.0/024"])
            .unwrap()
            .contains(ip("10.0.0.9")));
    }

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_networks_and_back() {
        let list = IpNetList::parse(["10.0.0.0/8"]).unwrap();
        assert!(list.contains(ip("::ffff:10.1.2.3")));
        assert!(!list.contains(ip("::ffff:11.1.2.3")));
        let mapped = IpNetList::parse(["::ffff:10.0.0.0/104"]).unwrap();
        assert!(mapped.contains(ip("10.1.2.3")));
        assert!(!mapped.contains(ip("11.1.2.3")));
    }

    #[test]
    fn ipv6_scope_is_ignored() {
        let list = IpNetList::parse(["fe80::1%eth0/64"]).unwrap();
        assert!(list.contains(ip("fe80::abcd")));
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "",
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "::/129",
            "::1/ffff::",
            " 10.0.0.1",
            "localhost",
            "10.0.0.0/+8",
        ] {
            let err = IpNetList::parse(["10.0.0.1", bad]).unwrap_err();
            assert_eq!(err.entry(), bad);
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn empty_list_contains_nothing() {
        let list = IpNetList::new();
        assert!(list.is_empty());
        assert!(!list.contains(ip("127.0.0.1")));
    }
}
