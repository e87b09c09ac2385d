//! The client's address: the peer, or — only when the peer is a trusted proxy — what the
//! proxies say, read from the header they are configured to set.

use super::head::RequestHead;
use crate::rate_limit::IpNetList;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// The header trusted proxies put the client's address in.
///
/// Read only when the connection comes from a
/// [trusted proxy](crate::EngineBuilder::trusted_proxies). List headers are walked from the
/// right (the hop nearest to us) and the walk stops at the first address that is not a
/// trusted proxy: that is the client. An entry that cannot be parsed ends the walk too (the
/// nearest trusted hop is then taken), so a client can never choose its own key by sending a
/// forged header the proxy appends to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientIpHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default).
    #[default]
    XForwardedFor,
    /// `X-Real-IP: client`, one address set by the proxy (any `X-Forwarded-For` is ignored).
    XRealIp,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl FromStr for ClientIpHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "x-real-ip" => Ok(Self::XRealIp),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!(
                "unknown client ip header `{text}`; expected one of `X-Forwarded-For`, `X-Real-IP`, `Forwarded`"
            )),
        }
    }
}

/// The client of a request that came from `peer`.
pub(crate) fn client_ip<H>(
    request: &H,
    peer: Option<IpAddr>,
    trusted: &IpNetList,
    header: ClientIpHeader,
) -> Option<IpAddr>
where
    H: RequestHead + ?Sized,
{
    let peer = peer?;
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = match header {
        ClientIpHeader::XRealIp => request.header("x-real-ip").into_iter().collect(),
        ClientIpHeader::XForwardedFor => request
            .header_values("x-forwarded-for")
            .flat_map(|value| value.split(','))
            .collect(),
        ClientIpHeader::Forwarded => request
            .header_values("forwarded")
            .flat_map(|value| value.split(','))
            .map(forwarded_for)
            .collect(),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_ip(hop.trim()) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    Some(client)
}

/// The `for=` parameter of one `Forwarded` element (`for="[2001:db8::1]:4711";proto=https`),
/// unquoted; empty when it has none (which then ends the walk).
fn forwarded_for(element: &str) -> &str {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or("", |(_, value)| value.trim().trim_matches('"'))
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]` or `[::1]:5678`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn parts(headers: &[(&'static str, &str)]) -> http::request::Parts {
        let mut request = Request::get("/").body(()).unwrap();
        for (name, value) in headers {
            request.headers_mut().append(*name, value.parse().unwrap());
        }
        request.into_parts().0
    }

    fn trusted() -> IpNetList {
        IpNetList::parse(&["10.0.0.0/8".to_owned()]).unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    const PROXY: &str = "10.0.0.1";

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let request = parts(&[("x-forwarded-for", "1.1.1.1")]);
        let got = client_ip(
            &request,
            ip("2.2.2.2"),
            &trusted(),
            ClientIpHeader::default(),
        );
        assert_eq!(got, ip("2.2.2.2"));
    }

    #[test]
    fn no_peer_no_client() {
        let request = parts(&[]);
        assert_eq!(
            client_ip(&request, None, &trusted(), ClientIpHeader::default()),
            None
        );
    }

    #[test]
    fn forwarded_for_is_walked_from_the_right_to_the_first_untrusted_hop() {
        let request = parts(&[("x-forwarded-for", "6.6.6.6, 3.3.3.3, 10.0.0.7")]);
        let got = client_ip(
            &request,
            ip(PROXY),
            &trusted(),
            ClientIpHeader::XForwardedFor,
        );
        assert_eq!(got, ip("3.3.3.3"));
    }

    #[test]
    fn forwarded_for_spans_repeated_headers() {
        let request = parts(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "3.3.3.3"),
        ]);
        let got = client_ip(
            &request,
            ip(PROXY),
            &trusted(),
            ClientIpHeader::XForwardedFor,
        );
        assert_eq!(got, ip("3.3.3.3"));
    }

    #[test]
    fn an_unparseable_hop_ends_the_walk_at_the_nearest_trusted_hop() {
        let request = parts(&[("x-forwarded-for", "6.6.6.6, garbage, 10.0.0.7")]);
        let got = client_ip(
            &request,
            ip(PROXY),
            &trusted(),
            ClientIpHeader::XForwardedFor,
        );
        assert_eq!(got, ip("10.0.0.7"));
        let request = parts(&[("x-forwarded-for", "6.6.6.6, nonsense")]);
        let got = client_ip(
            &request,
            ip(PROXY),
            &trusted(),
            ClientIpHeader::XForwardedFor,
        );
        assert_eq!(got, ip(PROXY));
    }

    #[test]
    fn x_real_ip_mode_ignores_a_client_sent_forwarded_for() {
        let request = parts(&[("x-forwarded-for", "6.6.6.6"), ("x-real-ip", "3.3.3.3")]);
        let got = client_ip(&request, ip(PROXY), &trusted(), ClientIpHeader::XRealIp);
        assert_eq!(got, ip("3.3.3.3"));
        let request = parts(&[("x-forwarded-for", "6.6.6.6")]);
        let got = client_ip(&request, ip(PROXY), &trusted(), ClientIpHeader::XRealIp);
        assert_eq!(got, ip(PROXY));
    }

    #[test]
    fn the_forwarded_header_is_read_per_rfc_7239() {
        let request = parts(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::17]:4711\";proto=https, for=10.0.0.9;by=10.0.0.1",
        )]);
        let got = client_ip(&request, ip(PROXY), &trusted(), ClientIpHeader::Forwarded);
        assert_eq!(got, ip("2001:db8::17"));
    }

    #[test]
    fn header_names_parse_case_insensitively() {
        assert_eq!("X-Real-IP".parse(), Ok(ClientIpHeader::XRealIp));
        assert_eq!("forwarded".parse(), Ok(ClientIpHeader::Forwarded));
        assert!("x-client"
            .parse::<ClientIpHeader>()
            .unwrap_err()
            .contains("expected one of"));
    }
}
