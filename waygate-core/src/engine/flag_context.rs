//! A request's flag evaluation context: the one the `FlagContext` extractors build, and the
//! one a `#[feature_flag]` route is decided with, kept per thread and made again only when
//! the next request comes from another client.

use super::Engine;
use crate::flags::EvaluationContext;
use crate::{Identity, RequestHead};
use std::cell::Cell;
use std::net::IpAddr;

impl Engine {
    /// The evaluation context of a request, as the adapters' `FlagContext` extractors build
    /// it when the app put none in the request: the authenticated user
    /// ([`Identity`](crate::Identity)) as the key, with `plan` and `roles` attributes; else
    /// the client's address (resolved through [trusted proxies](crate::EngineBuilder::trusted_proxies)
    /// only, as the rate limiter does); else `anonymous`. The address is the `ip` attribute.
    pub fn evaluation_context<H: RequestHead + ?Sized>(&self, request: &H) -> EvaluationContext {
        let mut ctx = EvaluationContext::default();
        fill(self.client_ip(request), request.identity(), &mut ctx);
        ctx
    }

    /// Whether the boolean flag `key` is `true` for `request`: what serves a
    /// `#[feature_flag]` route. The context is the builder's
    /// [`flag_context`](crate::EngineBuilder::flag_context), else the one the app put in
    /// the request's extensions, else [`evaluation_context`](Self::evaluation_context).
    // Kept out of the decision it is called from: a route without a flag pays nothing for it.
    #[inline(never)]
    pub(crate) fn flag_serves<H: RequestHead + ?Sized>(&self, key: &str, request: &H) -> bool {
        let flags = self.thread_flags();
        if let Some(context) = &self.inner.flag_context {
            return flags.bool(key, &(context.0)(&request.parts()), false);
        }
        if let Some(ctx) = request.flag_context() {
            return flags.bool(key, ctx, false);
        }
        thread_local! {
            static SCRATCH: Cell<Option<Box<ScratchContext>>> = const { Cell::new(None) };
        }
        let ip = self.client_ip(request);
        let identity = request.identity();
        // Taken while in use: a flag's evaluation that asked for a route's flag (none does)
        // would find none and make its own.
        let mut scratch = SCRATCH
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default();
        let on = flags.bool(key, scratch.of(ip, identity), false);
        let _ = SCRATCH.try_with(|kept| kept.set(Some(scratch)));
        on
    }
}

/// A thread's default context for the routes' flags, and what it was made of: the next
/// request of the same client (the same address and identity) reads it as it is, and
/// another's refills its buffers (no allocation unless the user has a plan or roles).
#[derive(Default)]
struct ScratchContext {
    ctx: EvaluationContext,
    /// The address and identity `ctx` was made of; `None` before the first fill.
    made_of: Option<(Option<IpAddr>, Option<Identity>)>,
}

impl ScratchContext {
    /// The context of a request from `ip` by `identity`.
    fn of(&mut self, ip: Option<IpAddr>, identity: Option<&Identity>) -> &EvaluationContext {
        let same = matches!(&self.made_of, Some((was_ip, was)) if *was_ip == ip && was.as_ref() == identity);
        if !same {
            fill(ip, identity, &mut self.ctx);
            remember(&mut self.made_of, ip, identity);
        }
        &self.ctx
    }
}

/// Records what a context was made of, reusing the buffers of the identity recorded before.
fn remember(
    made_of: &mut Option<(Option<IpAddr>, Option<Identity>)>,
    ip: Option<IpAddr>,
    identity: Option<&Identity>,
) {
    match (made_of, identity) {
        (Some((was_ip, Some(was))), Some(identity)) => {
            *was_ip = ip;
            was.user_id.clone_from(&identity.user_id);
            was.plan.clone_from(&identity.plan);
            was.roles.clone_from(&identity.roles);
        }
        (made_of, identity) => *made_of = Some((ip, identity.cloned())),
    }
}

/// Makes `ctx` the [`Engine::evaluation_context`] of a request from `ip` by `identity`,
/// reusing its buffers: no allocation once they are grown, unless the user has a plan or
/// roles.
fn fill(ip: Option<IpAddr>, identity: Option<&Identity>, ctx: &mut EvaluationContext) {
    use std::fmt::Write as _;
    // The address, formatted once: it is the `ip` attribute and may be the key too.
    match (ip, &mut ctx.ip) {
        (Some(ip), Some(text)) => {
            text.clear();
            let _ = write!(text, "{ip}");
        }
        (Some(ip), slot) => *slot = Some(ip.to_string()),
        (None, slot) => *slot = None,
    }
    ctx.key.clear();
    match (identity.and_then(|i| i.user_id.as_deref()), &ctx.ip) {
        (Some(user), _) => ctx.key.push_str(user),
        (None, Some(ip)) => ctx.key.push_str(ip),
        (None, None) => ctx.key.push_str("anonymous"),
    }
    if ctx.kind != "user" {
        ctx.kind.clear();
        ctx.kind.push_str("user");
    }
    ctx.email = None;
    ctx.country = None;
    ctx.app_version = None;
    if !ctx.attributes.is_empty() {
        ctx.attributes.clear();
    }
    if let Some(identity) = identity {
        if let Some(plan) = &identity.plan {
            ctx.attributes
                .insert("plan".to_owned(), plan.as_str().into());
        }
        if !identity.roles.is_empty() {
            ctx.attributes
                .insert("roles".to_owned(), identity.roles.clone().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn context_of(
        scratch: &mut ScratchContext,
        ip: Option<IpAddr>,
        identity: Option<&Identity>,
    ) -> EvaluationContext {
        let ctx = scratch.of(ip, identity).clone();
        let mut fresh = EvaluationContext::default();
        fill(ip, identity, &mut fresh);
        assert_eq!(ctx, fresh, "the kept context is the one a fresh fill makes");
        ctx
    }

    #[test]
    fn a_kept_context_follows_each_change_of_client() {
        let mut scratch = ScratchContext::default();
        let one = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let two = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        let alice = Identity::user("alice").plan("pro");
        let bob = Identity::user("bob");
        assert_eq!(context_of(&mut scratch, None, None).key, "anonymous");
        assert_eq!(context_of(&mut scratch, None, None).key, "anonymous");
        assert_eq!(context_of(&mut scratch, one, None).key, "10.0.0.1");
        assert_eq!(context_of(&mut scratch, two, None).key, "10.0.0.2");
        let ctx = context_of(&mut scratch, two, Some(&alice));
        assert_eq!(ctx.key, "alice");
        assert!(ctx.attributes.contains_key("plan"));
        let ctx = context_of(&mut scratch, two, Some(&bob));
        assert_eq!(ctx.key, "bob");
        assert!(!ctx.attributes.contains_key("plan"), "bob has no plan");
        assert_eq!(context_of(&mut scratch, two, None).key, "10.0.0.2");
        assert_eq!(context_of(&mut scratch, None, Some(&alice)).key, "alice");
    }
}
