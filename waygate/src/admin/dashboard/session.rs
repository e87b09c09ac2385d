//! `login` and `logout`: the browser session, a `dashboard` token in the `waygate_session`
//! cookie.

use super::super::extract::SESSION_COOKIE;
use super::super::AdminState;
use super::context::Ctx;
use super::redirect;
use super::view::{render, LoginPage};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

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
/// cookie, or back to `login?error=..` without one.
pub(super) async fn login(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(form): Form<Credentials>,
) -> Response {
    let Some(auth) = &admin.auth else {
        return redirect(&ctx.home);
    };
    if form.username.is_empty()
        || form.password.is_empty()
        || !auth.authenticate(&form.username, &form.password).await
    {
        return redirect(&format!("{}login?error=Invalid+credentials", ctx.base));
    }
    let now = admin.engine.now();
    let (token, claims) = admin.tokens.issue(&form.username, "dashboard", now);
    // Whole seconds, rounded up: the token's lifetime.
    let max_age = ((claims.expires_at() - now).num_milliseconds().max(0) + 999) / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path={}; Max-Age={max_age}",
        cookie_path(&ctx.base)
    );
    ([(header::SET_COOKIE, cookie)], redirect(&ctx.home)).into_response()
}

/// `GET logout`: revokes the session's token (for every instance sharing the backend),
/// clears the cookie, back to the login page.
pub(super) async fn logout(
    State(admin): State<AdminState>,
    ctx: Ctx,
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
    let cookie = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path={}; Max-Age=0",
        cookie_path(&ctx.base)
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
