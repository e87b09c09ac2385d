//! The web dashboard (feature `dashboard`), driven like a browser drives it: an app with
//! declared routes, the admin nested at `/waygate` with `admin`/`secret`, the layer in front.

use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt;
use std::time::Duration;
use tower::ServiceExt;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::prelude::*;
use waygate::{Actor, RouteStatus};

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[route(POST, "/orders")]
async fn create_order() -> &'static str {
    "created"
}

const XSS: &str = "<script>alert(1)</script>";

struct Dash {
    app: Router,
    engine: Engine,
}

impl Dash {
    async fn new(auth: bool) -> Self {
        let engine = Engine::new();
        engine.start().await.unwrap();
        let mut admin = WaygateAdmin::new(engine.clone()).secret_key("test-secret");
        if auth {
            admin = admin.auth(Auth::single("admin", "secret"));
        }
        let app = Router::new()
            .merge(routes![payments, health, create_order])
            .nest("/waygate", admin.into_router())
            .layer(WaygateLayer::new(engine.clone()));
        Self { app, engine }
    }

    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(request).await.unwrap()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A form `POST` with the session cookie and, if given, the CSRF header.
    async fn post(
        &self,
        path: &str,
        form: &str,
        cookie: Option<&str>,
        csrf: Option<&str>,
    ) -> Response<Body> {
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    /// Logs in through the form: the `waygate_session=..` cookie pair.
    async fn login(&self) -> String {
        let response = self
            .post(
                "/waygate/login",
                "username=admin&password=secret",
                None,
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let cookie = set_cookie(&response).expect("a session cookie");
        cookie.split(';').next().unwrap().to_owned()
    }

    /// The routes page's HTML and its CSRF token.
    async fn page(&self, cookie: Option<&str>) -> (String, String) {
        let response = self.get("/waygate", cookie).await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = text(response).await;
        let csrf = html
            .split(r#""X-CSRF-Token": ""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page carries a CSRF token")
            .to_owned();
        (html, csrf)
    }

    fn status(&self, key: &str) -> RouteStatus {
        self.engine.state(key).unwrap().status
    }
}

fn set_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn location(response: &Response<Body>) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn b64u(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

#[tokio::test]
async fn login_sets_the_session_cookie_and_redirects() {
    let dash = Dash::new(true).await;
    let response = dash
        .post(
            "/waygate/login",
            "username=admin&password=secret",
            None,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/waygate");
    let cookie = set_cookie(&response).unwrap();
    assert!(cookie.starts_with("waygate_session="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/waygate",
        "Max-Age=86400",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    // The cookie is a session: pages and the API accept it, as platform `dashboard`.
    let pair = cookie.split(';').next().unwrap();
    let response = dash.get("/waygate/api/auth/me", Some(pair)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(text(response).await.contains(r#""platform":"dashboard""#));
    let (html, _) = dash.page(Some(pair)).await;
    assert!(html.contains("Log out"));
}

#[tokio::test]
async fn wrong_credentials_redirect_back_with_an_error_and_no_cookie() {
    let dash = Dash::new(true).await;
    for form in [
        "username=admin&password=wrong",
        "username=root&password=secret",
        "username=admin&password=",
        "",
    ] {
        let response = dash.post("/waygate/login", form, None, None).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{form}");
        assert_eq!(
            location(&response),
            "/waygate/login?error=Invalid+credentials"
        );
        assert_eq!(set_cookie(&response), None, "{form}");
    }
    let response = dash
        .get("/waygate/login?error=Invalid+credentials", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(text(response).await.contains("Invalid credentials"));
}

#[tokio::test]
async fn pages_without_a_session_redirect_to_login_and_the_api_keeps_its_401() {
    let dash = Dash::new(true).await;
    for page in [
        "/waygate",
        "/waygate/audit",
        "/waygate/rate-limits",
        "/waygate/blocked",
        "/waygate/events",
        "/waygate/loginx",
        "/waygate/static/other.js",
    ] {
        let response = dash.get(page, None).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{page}");
        assert_eq!(location(&response), "/waygate/login", "{page}");
    }
    let response = dash
        .get("/waygate", Some("waygate_session=forged.0000"))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND, "a forged session");
    let response = dash
        .post("/waygate/disable/R0VUOi9wYXltZW50cw", "", None, None)
        .await;
    assert_eq!(response.status(), StatusCode::FOUND, "an action");
    assert_eq!(dash.status("GET:/payments"), RouteStatus::Active);

    for api in ["/waygate/api/routes", "/waygate/api/audit"] {
        let response = dash.get(api, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{api}");
        assert!(text(response).await.contains(r#""error""#));
    }

    // Exactly these are public.
    for public in [
        "/waygate/login",
        "/waygate/static/htmx.min.js",
        "/waygate/static/waygate.js",
        "/waygate/static/waygate.css",
    ] {
        let response = dash.get(public, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{public}");
    }
    let response = dash.get("/waygate/static/htmx.min.js", None).await;
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(text(response).await.contains("htmx"));
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let response = dash.get("/waygate/logout", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/waygate/login");
    let cleared = set_cookie(&response).unwrap();
    assert!(cleared.starts_with("waygate_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"));
    let response = dash.get("/waygate", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND, "the token is revoked");
}

#[tokio::test]
async fn the_routes_page_lists_routes_with_badges() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let (html, _) = dash.page(Some(&cookie)).await;
    for expected in [
        r#"id="row-GET--payments""#,
        r#"id="row-GET--health""#,
        r#"id="row-POST--orders""#,
        r#"<code class="path">/payments</code>"#,
        r#"class="badge badge-active""#,
        "force-active",
        "Global maintenance",
        "static/htmx.min.js",
        r#"<base href="/waygate/">"#,
    ] {
        assert!(html.contains(expected), "{expected} in the page");
    }
    for page in ["/waygate/audit", "/waygate/rate-limits", "/waygate/blocked"] {
        let response = dash.get(page, Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
    }
}

#[tokio::test]
async fn pagination_and_service_filter() {
    let dash = Dash::new(false).await;
    let response = dash.get("/waygate?page=99", None).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "clamped to the last page"
    );
    let html = text(response).await;
    assert!(html.contains("row-GET--payments"));
    let response = dash.get("/waygate?service=nope", None).await;
    let html = text(response).await;
    assert!(!html.contains("row-GET--payments"));
    assert!(html.contains("No routes"));
}

#[tokio::test]
async fn a_disable_form_with_the_csrf_token_changes_the_route_and_answers_its_row() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let (_, csrf) = dash.page(Some(&cookie)).await;
    let path = format!("/waygate/disable/{}", b64u("GET:/payments"));
    let response = dash
        .post(&path, "reason=hotfix", Some(&cookie), Some(&csrf))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let row = text(response).await;
    assert!(
        row.trim_start()
            .starts_with(r#"<tr id="row-GET--payments""#),
        "{row}"
    );
    assert!(row.contains(r#"class="badge badge-disabled""#), "{row}");
    assert!(row.contains("hotfix"));
    assert_eq!(dash.status("GET:/payments"), RouteStatus::Disabled);

    // The app now refuses the route.
    let response = dash.get("/payments", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The token also works as the hidden form field, and the audit log says who.
    let path = format!("/waygate/enable/{}", b64u("GET:/payments"));
    let response = dash
        .post(&path, &format!("csrf={csrf}"), Some(&cookie), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(dash.status("GET:/payments"), RouteStatus::Active);
    let audit = text(dash.get("/waygate/audit", Some(&cookie)).await).await;
    assert!(audit.contains("admin") && audit.contains("dashboard"));
}

#[tokio::test]
async fn actions_without_a_valid_csrf_token_are_forbidden() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let (_, csrf) = dash.page(Some(&cookie)).await;
    let other_session = dash.login().await;
    let (_, other_csrf) = dash.page(Some(&other_session)).await;
    assert_ne!(csrf, other_csrf, "bound to the session");
    let path = format!("/waygate/disable/{}", b64u("GET:/payments"));
    for (form, header) in [
        ("reason=x".to_owned(), None),
        ("reason=x".to_owned(), Some("0".repeat(64))),
        ("reason=x".to_owned(), Some(other_csrf.clone())),
        ("reason=x&csrf=".to_owned(), None),
        (format!("reason=x&csrf={other_csrf}"), None),
        (format!("reason=x&csrf={}", &csrf[..10]), None),
    ] {
        let response = dash
            .post(&path, &form, Some(&cookie), header.as_deref())
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{form} {header:?}"
        );
        assert_eq!(dash.status("GET:/payments"), RouteStatus::Active);
    }
    for path in [
        "/waygate/global-maintenance/enable".to_owned(),
        format!("/waygate/rl/delete/{}", b64u("GET:/payments")),
        "/waygate/rl/add".to_owned(),
    ] {
        let response = dash
            .post(&path, "limit=1/minute&path=/payments", Some(&cookie), None)
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(!dash.engine.global_maintenance().enabled);
    assert!(dash.engine.rate_limit_policies().is_empty());
}

#[tokio::test]
async fn flags_and_segments_from_their_pages_csrf_protected_and_escaped() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let (_, csrf) = dash.page(Some(&cookie)).await;
    // Without the token: refused, nothing created.
    for path in ["/waygate/flags/create", "/waygate/segments/create"] {
        let response = dash.post(path, "key=x&name=x", Some(&cookie), None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(dash.engine.flags().is_empty());

    let created = dash
        .post(
            "/waygate/flags/create",
            "key=new-checkout&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&type=boolean",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let rows = text(created).await;
    assert!(rows.contains(r#"href="flags/new-checkout""#), "{rows}");
    assert!(
        rows.contains("&#60;script&#62;") || rows.contains("&lt;script&gt;"),
        "{rows}"
    );
    assert!(!rows.contains("<script>"), "{rows}");

    let segment = dash
        .post(
            "/waygate/segments/create",
            "key=beta&name=Beta",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert_eq!(segment.status(), StatusCode::OK);
    let saved = dash
        .post(
            "/waygate/segments/beta/save",
            "name=Beta&included=u1%2C+u2&excluded=",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert!(text(saved).await.contains("Segment saved."));
    let rule = dash
        .post(
            "/waygate/flags/new-checkout/rules",
            "attribute=key&operator=in_segment&values=beta&variation=on&description=",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    let body = text(rule).await;
    assert!(
        body.contains("Rule added.") && body.contains("key in_segment beta"),
        "{body}"
    );
    let evaluated = dash
        .post(
            "/waygate/flags/new-checkout/evaluate",
            "key=u2&kind=user&attributes=",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    let result = text(evaluated).await;
    assert!(
        result.contains("RULE_MATCH") && result.contains("true"),
        "{result}"
    );
    let refused = dash
        .post(
            "/waygate/flags/new-checkout/settings",
            "name=x&off_variation=nope&fallthrough=on",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    let body = text(refused).await;
    assert!(
        body.contains(r#"class="alert""#) && body.contains("nope"),
        "the engine's refusal is shown: {body}"
    );
    assert_eq!(
        dash.engine
            .flags()
            .flag("new-checkout")
            .unwrap()
            .off_variation,
        "off"
    );

    // The pages, and the audit log naming the dashboard's user.
    let page = text(dash.get("/waygate/flags/new-checkout", Some(&cookie)).await).await;
    assert!(page.contains("Targeting rules") && page.contains("Individual targets"));
    let missing = dash.get("/waygate/flags/nope", Some(&cookie)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let entries = dash
        .engine
        .audit_log(&waygate::AuditQuery::latest(10))
        .await
        .unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "flag_created" && e.actor == "admin" && e.platform == "dashboard"));
    let deleted = dash
        .post(
            "/waygate/flags/new-checkout/delete",
            "",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert!(text(deleted).await.contains("deleted"));
    assert!(dash.engine.flags().is_empty());
}

#[tokio::test]
async fn user_strings_render_escaped() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let (_, csrf) = dash.page(Some(&cookie)).await;
    let form = "reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let path = format!("/waygate/disable/{}", b64u("GET:/payments"));
    let row = text(dash.post(&path, form, Some(&cookie), Some(&csrf)).await).await;
    assert_eq!(dash.engine.state("GET:/payments").unwrap().reason, XSS);
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    assert!(row.contains(escaped), "{row}");
    assert!(!row.contains(XSS));

    let (html, _) = dash.page(Some(&cookie)).await;
    assert!(html.contains(escaped));
    assert!(!html.contains(XSS));
    let audit = text(dash.get("/waygate/audit", Some(&cookie)).await).await;
    assert!(audit.contains(escaped));
    assert!(!audit.contains(XSS));

    // Global maintenance reason and exempt paths too.
    let form = "reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E&exempt_paths=%2F%3Cb%3E%0A%2Fhealth&include_force_active=1";
    let panel = text(
        dash.post(
            "/waygate/global-maintenance/enable",
            form,
            Some(&cookie),
            Some(&csrf),
        )
        .await,
    )
    .await;
    let global = dash.engine.global_maintenance();
    assert!(global.enabled && global.include_force_active);
    assert_eq!(global.exempt_paths, ["/<b>", "/health"]);
    assert!(panel.contains(escaped) && !panel.contains(XSS), "{panel}");
    assert!(panel.contains("/&#60;b&#62;") && !panel.contains("/<b>"));
}

#[tokio::test]
async fn rate_limit_policies_from_the_page() {
    let dash = Dash::new(false).await;
    let (_, csrf) = dash.page(None).await;
    let response = dash
        .post(
            "/waygate/rl/add",
            "method=GET&path=%2Fpayments&limit=5%2Fminute&algorithm=fixed_window&key_strategy=ip&burst=2",
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let table = text(response).await;
    assert!(table.contains("5/minute"), "{table}");
    let policies = dash.engine.rate_limit_policies();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].burst, 2);

    let key = b64u("GET:/payments");
    let response = dash
        .post(
            &format!("/waygate/rl/edit/{key}"),
            "limit=7%2Fminute",
            None,
            Some(&csrf),
        )
        .await;
    assert!(text(response).await.contains("7/minute"));
    let response = dash
        .post(&format!("/waygate/rl/reset/{key}"), "", None, Some(&csrf))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = dash
        .post(
            "/waygate/rl/add",
            "path=%2Fpayments&limit=lots",
            None,
            Some(&csrf),
        )
        .await;
    assert!(
        text(response).await.contains(r#"class="alert""#),
        "a bad limit shows an error"
    );
    let response = dash
        .post(&format!("/waygate/rl/delete/{key}"), "", None, Some(&csrf))
        .await;
    assert!(text(response).await.contains("No per-route policies"));
    assert!(dash.engine.rate_limit_policies().is_empty());
}

#[tokio::test]
async fn open_mode_pages_and_actions_work_without_login() {
    let dash = Dash::new(false).await;
    let (html, csrf) = dash.page(None).await;
    assert!(html.contains("open mode"));
    let response = dash.get("/waygate/login", None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let path = format!("/waygate/maintenance/{}", b64u("GET:/payments"));
    let response = dash
        .post(
            &path,
            "reason=migration&start=2099-01-01T10%3A00&end=2099-01-01T11%3A00",
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let row = text(response).await;
    assert!(row.contains("badge-scheduled"), "{row}");
    assert!(row.contains("2099-01-01 10:00 UTC"));
    let response = dash.post(&path, "reason=x", None, None).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "CSRF in open mode too"
    );
}

#[tokio::test]
async fn the_events_stream_ends_when_its_session_logs_out() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let response = dash.get("/waygate/events", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let logout = dash.get("/waygate/logout", Some(&cookie)).await;
    assert_eq!(logout.status(), StatusCode::FOUND);
    // Changes keep coming, the stream does not carry them: it ends.
    dash.engine
        .disable("GET:/payments", "after logout", Actor::new("cli"))
        .await
        .unwrap();
    let ended = async {
        let mut seen = String::new();
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame.unwrap().data_ref() {
                seen.push_str(std::str::from_utf8(data).unwrap());
            }
        }
        seen
    };
    let seen = tokio::time::timeout(Duration::from_secs(10), ended)
        .await
        .expect("the stream ends within 10 s of the logout");
    assert!(!seen.contains("after logout"), "{seen}");
}

#[tokio::test]
async fn events_stream_the_changed_row() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let response = dash.get("/waygate/events", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    let mut body = response.into_body();

    dash.engine
        .disable("GET:/payments", "hotfix", Actor::new("cli"))
        .await
        .unwrap();

    let mut received = String::new();
    let read = async {
        while !received.contains("\n\n") {
            let frame = body.frame().await.unwrap().unwrap();
            if let Some(data) = frame.data_ref() {
                received.push_str(std::str::from_utf8(data).unwrap());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("an event within 5 s");
    assert!(
        received.starts_with("event: waygate:update:GET--payments\n"),
        "{received}"
    );
    assert!(
        received.contains("\ndata: <tr id=\"row-GET--payments\""),
        "{received}"
    );
    assert!(received.contains("badge-disabled"), "{received}");
    assert!(received
        .lines()
        .filter(|l| !l.is_empty())
        .skip(1)
        .all(|l| l.starts_with("data:")));
}

#[tokio::test]
async fn nest_in_redirects_the_trailing_slash_to_the_dashboard() {
    use tower::ServiceExt;
    let app: axum::Router = waygate::admin::WaygateAdmin::new(waygate::Engine::new())
        .nest_in(axum::Router::new(), "/waygate/");
    let request = |uri: &str| {
        http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let response = app.clone().oneshot(request("/waygate/")).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.headers()["location"], "/waygate");
    let response = app.oneshot(request("/waygate")).await.unwrap();
    assert_eq!(
        response.status(),
        http::StatusCode::OK,
        "open mode: the routes page"
    );
}

/// The label of a chart's blocked total: `blocked <b>N</b>` in the figure of `slug`.
fn chart_totals(html: &str, slug: &str) -> Option<(u64, u64)> {
    let figure = html.split(&format!("id=\"chart-{slug}\"")).nth(1)?;
    let figure = figure.split("</figure>").next()?;
    let number = |label: &str| -> Option<u64> {
        figure
            .split(&format!("</i> {label} <b>"))
            .nth(1)?
            .split("</b>")
            .next()?
            .parse()
            .ok()
    };
    Some((number("blocked")?, number("429")?))
}

#[tokio::test]
async fn refused_requests_are_charted_per_route_and_in_total() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    dash.engine
        .disable("GET:/payments", "hotfix", Actor::new("cli"))
        .await
        .unwrap();
    for _ in 0..3 {
        let response = dash.get("/payments", None).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(dash.get("/health", None).await.status(), StatusCode::OK);

    let page = text(dash.get("/waygate/traffic", Some(&cookie)).await).await;
    assert!(page.contains("aria-current=\"page\">Traffic</a>"), "{page}");
    assert_eq!(chart_totals(&page, "total"), Some((3, 0)), "{page}");
    assert_eq!(chart_totals(&page, "GET--payments"), Some((3, 0)), "{page}");
    assert!(
        chart_totals(&page, "GET--health").is_none(),
        "nothing refused there"
    );
    assert!(page.contains("<svg viewBox=\"0 0 600 100\""), "{page}");
    // The busiest minute reaches the top of the plot: its point is at y = 0.
    assert!(page.contains(" L600.0 0.0\""), "{page}");

    let (routes, _) = dash.page(Some(&cookie)).await;
    assert!(routes.contains("id=\"chart-strip\""), "{routes}");
    assert_eq!(chart_totals(&routes, "total"), Some((3, 0)), "{routes}");
}

#[tokio::test]
async fn chart_labels_render_escaped() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let key = format!("GET:/{XSS}");
    dash.engine
        .note_refused(&key, waygate::RefusalKind::RateLimited);
    let page = text(dash.get("/waygate/traffic", Some(&cookie)).await).await;
    assert!(!page.contains(XSS), "{page}");
    assert!(
        page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert_eq!(chart_totals(&page, "total"), Some((0, 1)), "{page}");
}

#[tokio::test]
async fn charts_update_over_the_event_stream() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    let response = dash.get("/waygate/events", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();

    dash.engine
        .note_refused("GET:/payments", waygate::RefusalKind::Blocked);
    dash.engine
        .note_refused("GET:/payments", waygate::RefusalKind::RateLimited);

    let mut received = String::new();
    let read = async {
        while !(received.contains("event: waygate:charts\n") && received.ends_with("\n\n")) {
            let frame = body.frame().await.unwrap().unwrap();
            if let Some(data) = frame.data_ref() {
                received.push_str(std::str::from_utf8(data).unwrap());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the charts within 20 s");
    let strip = received
        .split("event: waygate:chart-strip\n")
        .nth(1)
        .expect("the strip is sent");
    assert!(
        strip.starts_with("data: <section class=\"card strip\" id=\"chart-strip\">"),
        "{strip}"
    );
    let charts = received.split("event: waygate:charts\n").nth(1).unwrap();
    assert!(charts.starts_with("data: <div id=\"charts\""), "{charts}");
    let html: String = charts
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .collect();
    assert_eq!(chart_totals(&html, "GET--payments"), Some((1, 1)), "{html}");
}

#[tokio::test]
async fn a_route_in_a_rollout_shows_its_share() {
    let dash = Dash::new(true).await;
    let cookie = dash.login().await;
    dash.engine
        .set_rollout_percentage("GET:/payments", 25, Actor::new("cli"))
        .await
        .unwrap();
    let (html, _) = dash.page(Some(&cookie)).await;
    let row = html
        .split("id=\"row-GET--payments\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap();
    assert!(
        row.contains("title=\"Served to 25% of clients (rollout)\">25%</span>"),
        "{row}"
    );
    let other = html.split("id=\"row-POST--orders\"").nth(1).unwrap();
    assert!(!other.split("</tr>").next().unwrap().contains("rollout"));
}

/// A Waygate Server's routes page filtered to a service shows the service's panel: its
/// maintenance and rate limit, changed from there.
#[tokio::test]
async fn a_service_s_maintenance_and_rate_limit_from_its_page() {
    let dash = Dash::new(true).await;
    let mut state = waygate::RouteState::active("pay:GET:/api/pay");
    state.service = Some("pay".into());
    dash.engine.register_states(vec![state]).await.unwrap();
    let cookie = dash.login().await;
    let (_, csrf) = dash.page(Some(&cookie)).await;
    let (all, _) = dash.page(Some(&cookie)).await;
    assert!(!all.contains("service-panel"), "no panel without a service");
    let html = text(dash.get("/waygate?service=pay", Some(&cookie)).await).await;
    assert!(
        html.contains("service-panel") && html.contains("<code>pay</code>"),
        "{html}"
    );

    let panel = text(
        dash.post(
            "/waygate/service-maintenance/enable",
            "service=pay&reason=migration&exempt_paths=%2Fhealth",
            Some(&cookie),
            Some(&csrf),
        )
        .await,
    )
    .await;
    let config = dash.engine.service_maintenance("pay");
    assert!(config.enabled);
    assert_eq!(config.reason, "migration");
    assert_eq!(config.exempt_paths, ["/health"]);
    assert!(panel.contains("badge-maintenance"), "{panel}");
    dash.post(
        "/waygate/service-maintenance/disable",
        "service=pay",
        Some(&cookie),
        Some(&csrf),
    )
    .await;
    assert!(!dash.engine.service_maintenance("pay").enabled);

    let panel = text(
        dash.post(
            "/waygate/service-rl/set",
            "service=pay&limit=500%2Fminute",
            Some(&cookie),
            Some(&csrf),
        )
        .await,
    )
    .await;
    assert_eq!(
        dash.engine.service_rate_limit("pay").unwrap().limit,
        "500/minute"
    );
    assert!(panel.contains("rate limit 500/minute"), "{panel}");
    let bad = dash
        .post(
            "/waygate/service-rl/set",
            "service=pay&limit=lots",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    dash.post(
        "/waygate/service-rl/delete",
        "service=pay",
        Some(&cookie),
        Some(&csrf),
    )
    .await;
    assert_eq!(dash.engine.service_rate_limit("pay"), None);
    let none = dash
        .post(
            "/waygate/service-maintenance/enable",
            "reason=x",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert_eq!(none.status(), StatusCode::BAD_REQUEST);

    // A token for the service, shown once, that acts as the service.
    assert!(html.contains(r#"hx-post="service-token""#), "{html}");
    let issued = text(
        dash.post(
            "/waygate/service-token",
            "service=pay&ttl_days=30",
            Some(&cookie),
            Some(&csrf),
        )
        .await,
    )
    .await;
    let token = issued
        .split(r#"<code class="token">"#)
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap_or_else(|| panic!("no token shown: {issued}"));
    let me = dash
        .send(
            Request::get("/waygate/api/auth/me")
                .header("x-waygate-token", token)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text(me).await).unwrap(),
        serde_json::json!({"username": "pay", "platform": "sdk"})
    );
    let bad = dash
        .post(
            "/waygate/service-token",
            "service=a+b",
            Some(&cookie),
            Some(&csrf),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
