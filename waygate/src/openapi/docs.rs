//! Swagger UI served from the binary, with waygate's banner script (the Python original's
//! `setup_waygate_docs`).

use super::WaygateOpenApi;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use std::sync::Arc;
use utoipa_swagger_ui::Config;

/// The banner, chip and badge styles.
const STYLE: &str = include_str!("banner.css");
/// The script that follows the document and draws the banner, chip and badges.
const SCRIPT: &str = include_str!("banner.js");

/// Adds `path`, `path/` and `path/{file}` to `router`.
pub(super) fn routes(router: Router<WaygateOpenApi>, path: &str) -> Router<WaygateOpenApi> {
    router
        .route(path, get(index))
        .route(&format!("{path}/"), get(index))
        .route(&format!("{path}/{{*file}}"), get(asset))
}

/// The Swagger UI configuration: the one document, at the configured path.
fn config(docs: &WaygateOpenApi) -> Arc<Config<'static>> {
    Arc::new(Config::new([docs.inner.settings.openapi_path.clone()]))
}

/// `GET /docs`: Swagger UI's page with a `<base>` (so that `/docs` and `/docs/` both find the
/// assets), the app's title, the document's address on `<body>`, and the banner.
async fn index(State(docs): State<WaygateOpenApi>) -> Response {
    let page = match docs.inner.page.get() {
        Some(page) => page.clone(),
        None => match render(&docs) {
            Some(page) => docs.inner.page.get_or_init(|| Bytes::from(page)).clone(),
            None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}

/// Swagger UI's `index.html` with waygate's additions.
pub(super) fn render(docs: &WaygateOpenApi) -> Option<String> {
    let settings = &docs.inner.settings;
    let file = utoipa_swagger_ui::serve("index.html", config(docs)).ok()??;
    let html = String::from_utf8(file.bytes.into_owned()).ok()?;
    let base = format!(
        "{}/",
        escape(settings.docs_path.as_deref().unwrap_or_default())
    );
    let body = format!(
        "<body data-openapi-url=\"{}\" data-poll-ms=\"{}\">",
        escape(&settings.openapi_path),
        settings.poll.as_millis()
    );
    let tail = format!("<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n</body>");
    Some(
        html.replacen("<head>", &format!("<head>\n    <base href=\"{base}\">"), 1)
            .replacen(
                "<title>Swagger UI</title>",
                &format!("<title>{} - Swagger UI</title>", escape(&settings.title)),
                1,
            )
            .replacen("<body>", &body, 1)
            .replacen("</body>", &tail, 1),
    )
}

/// `GET /docs/{file}`: Swagger UI's own files.
async fn asset(State(docs): State<WaygateOpenApi>, Path(file): Path<String>) -> Response {
    if file.is_empty() || file == "index.html" {
        return index(State(docs)).await;
    }
    match utoipa_swagger_ui::serve(&file, config(&docs)) {
        Ok(Some(file)) => {
            let content_type = HeaderValue::from_str(&file.content_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
            let body = Bytes::from(file.bytes.into_owned());
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "waygate: cannot serve a Swagger UI file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Escapes text for HTML text and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
