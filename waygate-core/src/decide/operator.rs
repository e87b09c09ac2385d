//! The operator tools' part of a decision: maintenance bypass tokens (asked only of a
//! request that route state refuses) and percentage rollouts (asked only of a route served
//! to less than 100% of its clients). A request to a route with neither pays nothing.

use super::client_ip::client_ip;
use super::head::RequestHead;
use crate::registry::RolloutKeyMeta;
use crate::rollout::in_rollout;
use crate::snapshot::RolloutRule;
use crate::Engine;
use std::fmt;
use std::io::Write as _;

/// Tells whether a request carries a valid maintenance bypass token. Installed with
/// [`Engine::set_bypass_check`]; the admin's (feature `admin` of `waygate`) checks signed,
/// expiring tokens in the `X-Waygate-Bypass` header or the `waygate_bypass` cookie.
///
/// Asked only of requests that maintenance, a disabled route, or global or service
/// maintenance refuse; a request it vouches for is then served under the route's rate
/// limits. Env gates and rollouts are never bypassed.
pub trait BypassCheck: Send + Sync + 'static {
    /// Whether `request` may pass. `engine` is the deciding engine (for revocations).
    fn is_valid(&self, engine: &Engine, request: &dyn BypassRequest) -> bool;
}

/// What a [`BypassCheck`] reads of a request: its headers, as text.
pub trait BypassRequest {
    /// The first value of a header (`x-waygate-bypass`, `cookie`), as text.
    fn header<'a>(&'a self, name: &'a str) -> Option<&'a str>;
    /// Every value of a header, in the order received.
    fn header_values<'a>(&'a self, name: &'a str) -> Vec<&'a str>;
}

struct Head<'a, H: ?Sized>(&'a H);

impl<H: RequestHead + ?Sized> BypassRequest for Head<'_, H> {
    fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.0.header(name)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        self.0.header_values(name).collect()
    }
}

/// The installed check (boxed, so that it can sit in an `ArcSwapOption`).
pub(crate) struct BypassHook(pub(crate) Box<dyn BypassCheck>);

impl fmt::Debug for BypassHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BypassHook")
    }
}

impl Engine {
    /// Whether the installed bypass check vouches for `request`.
    pub(super) fn bypassed<H: RequestHead + ?Sized>(&self, request: &H) -> bool {
        let Some(hook) = self.bypass_hook() else {
            return false;
        };
        hook.as_ref()
            .is_some_and(|hook| hook.0.is_valid(self, &Head(request)))
    }

    /// Whether the client of `request` is inside the route's rollout. A client without the
    /// key the rollout buckets by is outside.
    pub(super) fn in_rollout<H: RequestHead + ?Sized>(
        &self,
        route: &str,
        rollout: &RolloutRule,
        request: &H,
    ) -> bool {
        let user = || {
            request
                .identity()
                .and_then(|identity| identity.user_id.as_deref())
        };
        let ip = || {
            client_ip(
                request,
                request.peer(),
                self.trusted_proxies(),
                self.client_ip_header(),
            )
        };
        // An IP as text, without allocating: at most 45 bytes (IPv4-mapped IPv6).
        let mut buffer = [0u8; 48];
        let mut ip_text = |ip: std::net::IpAddr| -> Option<usize> {
            let mut cursor = std::io::Cursor::new(&mut buffer[..]);
            write!(cursor, "{ip}").ok()?;
            Some(cursor.position() as usize)
        };
        let custom;
        let key: Option<&str> = match rollout.key {
            RolloutKeyMeta::User => user(),
            RolloutKeyMeta::ApiKey => request.header("x-api-key").filter(|k| !k.is_empty()),
            RolloutKeyMeta::Custom(key) => {
                custom = key(&request.parts());
                custom.as_deref()
            }
            RolloutKeyMeta::Ip | RolloutKeyMeta::UserThenIp => {
                let user = matches!(rollout.key, RolloutKeyMeta::UserThenIp)
                    .then(user)
                    .flatten();
                match user {
                    Some(user) => Some(user),
                    None => match ip().and_then(&mut ip_text) {
                        Some(len) => std::str::from_utf8(&buffer[..len]).ok(),
                        None => None,
                    },
                }
            }
        };
        key.is_some_and(|key| in_rollout(route, key, rollout.percent))
    }
}
