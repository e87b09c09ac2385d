//! What every page needs to know about the request: where the admin is mounted, who is
//! logged in, the session's CSRF token.

use super::super::extract::Caller;
use super::super::AdminState;
use super::mount_prefix;
use crate::model::Actor;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use std::convert::Infallible;

/// The session a CSRF token is bound to in open mode (there is no login, so no token id).
pub(super) const OPEN_SESSION: &str = "open";

/// The request's page context.
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    /// The dashboard's URL path with a trailing `/` (`/waygate/`): the pages' `<base href>`,
    /// so every link and form in them is relative.
    pub(super) base: String,
    /// The routes page: the mount point itself (`/waygate`; `/` at the root). axum's
    /// `nest("/waygate", ..)` routes `/waygate` to the nested `/` but not `/waygate/`.
    pub(super) home: String,
    /// The logged-in user; `None` in open mode.
    pub(super) user: Option<String>,
    /// Whether auth is configured (a login page exists).
    pub(super) auth: bool,
    /// The session's CSRF token.
    pub(super) csrf: String,
    /// Who acts, for the audit log (platform `dashboard`).
    pub(super) actor: Actor,
}

impl FromRequestParts<AdminState> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, admin: &AdminState) -> Result<Self, Infallible> {
        let prefix = mount_prefix(parts.extensions.get::<OriginalUri>(), parts.uri.path());
        let claims = admin.verified(&parts.headers);
        let session = claims
            .as_ref()
            .map_or(OPEN_SESSION, |claims| claims.jti.as_str());
        let csrf = admin.tokens.csrf(session);
        let name = match (&claims, parts.extensions.get::<Caller>()) {
            (Some(claims), _) => claims.sub.clone(),
            (None, Some(caller)) => caller.name.clone(),
            (None, None) => "anonymous".to_owned(),
        };
        Ok(Self {
            base: format!("{prefix}/"),
            home: if prefix.is_empty() {
                "/".to_owned()
            } else {
                prefix
            },
            user: claims.as_ref().map(|c| c.sub.clone()),
            auth: admin.auth.is_some(),
            csrf,
            actor: Actor::new(name).platform("dashboard"),
        })
    }
}
