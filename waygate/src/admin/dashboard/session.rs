//! `login` and `logout`: the browser session, a `dashboard` token in the `waygate_session`
//! cookie.

use super::super::body::MAX_TEXT;
use super::super::extract::{ClientIp, Peer, SESSION_COOKIE};
use super::super::AdminState;
use super::context::Ctx;
use super::redirect;
use super::view::{render, LoginPage};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// `GET login?error=`: the form (in open mode, straight to the routes page).
pub(super) async fn login_page(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Query(query): Query<ErrorQuery>,
) -> Response {
    if admin.auth.is_none() {
        return redirect(&ctx.home);
    }
    render(&LoginPage {
        ctx,
        error: query.error.filter(|e| !e.is_empty()),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorQuery {
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST login` (form `username`, `password`): `302` to the routes page with the session
/// cookie, or back to `login?error=..` without one. Throttled as the API's login: while
/// the username or the client is locked, back to the login page with `Retry-After`.
pub(super) async fn login(
    State(admin): State<AdminState>,
    ctx: Ctx,
    ClientIp(client): ClientIp,
    Peer(peer): Peer,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<Credentials>,
) -> Response {
    let Some(auth) = &admin.auth else {
        return redirect(&ctx.home);
    };
    if form.username.is_empty() || form.password.is_empty() || form.username.len() > MAX_TEXT {
        return redirect(&format!("{}login?error=Invalid+credentials", ctx.base));
    }
    match admin
        .attempt_login(auth, &form.username, &form.password, client, "dashboard")
        .await
    {
        Ok(()) => {}
        Err(refused) => {
            let Some(seconds) = refused.retry_after() else {
                return redirect(&format!("{}login?error=Invalid+credentials", ctx.base));
            };
            let location = format!(
                "{}login?error=Too+many+failed+logins%3B+try+again+in+{seconds}+seconds",
                ctx.base
            );
            return (
                [(header::RETRY_AFTER, seconds.to_string())],
                redirect(&location),
            )
                .into_response();
        }
    }
    let secure = admin.secure_cookie || is_https(&admin, &uri, &headers, peer);
    let now = admin.engine.now();
    let (token, claims) = admin.tokens.issue(&form.username, "dashboard", now);
    // Whole seconds, rounded up: the token's lifetime.
    let max_age = ((claims.expires_at() - now).num_milliseconds().max(0) + 999) / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path={}; Max-Age={max_age}{}",
        cookie_path(&ctx.base),
        if secure { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], redirect(&ctx.home)).into_response()
}

/// Whether the request came over HTTPS: an `https` request URI (HTTP/2's `:scheme`, or an
/// absolute-form target), or `X-Forwarded-Proto: https` from a trusted proxy (its first
/// value: the proxy nearest the client).
fn is_https(admin: &AdminState, uri: &Uri, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    if uri.scheme_str() == Some("https") {
        return true;
    }
    let trusted = peer.is_some_and(|peer| admin.engine.trusted_proxies().contains(peer.ip()));
    trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// `GET logout`: revokes the session's token (for every instance sharing the backend),
/// clears the cookie, back to the login page.
pub(super) async fn logout(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(claims) = admin.verified(&headers) {
        if let Err(error) = admin
            .engine
            .revoke_token(&claims.jti, claims.expires_at())
            .await
        {
            tracing::warn!(%error, "could not revoke a dashboard session on logout");
        }
    }
    let secure = admin.secure_cookie || is_https(&admin, &uri, &headers, peer);
    let cookie = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path={}; Max-Age=0{}",
        cookie_path(&ctx.base),
        if secure { "; Secure" } else { "" }
    );
    (
        [(header::SET_COOKIE, cookie)],
        redirect(&format!("{}login", ctx.base)),
    )
        .into_response()
}

/// The cookie's `Path`: the mount point (`/waygate`), or `/` at the root.
fn cookie_path(base: &str) -> &str {
    match base.trim_end_matches('/') {
        "" => "/",
        path => path,
    }
}
