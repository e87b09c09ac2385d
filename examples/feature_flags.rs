//! Feature flags: a port of the Python original's `examples/fastapi/feature_flags.py` — its
//! five flags (boolean, string, integer, float, JSON) with the same variations, targets,
//! rules and 20 % rollout, and its endpoints with the same query parameters and JSON fields.
//! Flags are evaluated in process, from the engine's snapshot: no lock, no I/O.
//!
//! ```text
//! cargo run --example feature_flags
//! curl "http://127.0.0.1:8000/checkout?user_id=beta_tester_1"     # {"new_checkout": true, ..}
//! curl "http://127.0.0.1:8000/theme?user_id=u1&email=ada@acme.com" # {"theme": "dark"}
//! curl "http://127.0.0.1:8000/search?user_id=u1&plan=pro"          # {"page_size": 50, ..}
//! curl "http://127.0.0.1:8000/pricing?user_id=u1&country=GB"       # {"discount_rate": 0.15, ..}
//! curl "http://127.0.0.1:8000/config?user_id=u1"                   # the v1 bundle
//! waygate config set-url http://127.0.0.1:8000/waygate && waygate login admin   # secret
//! curl "http://127.0.0.1:8000/checkout/v2?user_id=beta_tester_1"  # a route behind the flag
//! waygate flags disable new-checkout     # the Python CLI's flag commands: a kill switch
//! ```
//!
//! | request | answer |
//! |---|---|
//! | `GET /checkout?user_id=beta_tester_1` | `{"user_id", "new_checkout": true, "flow": "v2"}` (individual target) |
//! | `GET /checkout?user_id=..` | `new_checkout` for 20 % of users (rollout by user id), `flow` `v2` or `v1` |
//! | `GET /theme?user_id=..&email=..@acme.com` | `{"user_id", "theme": "dark"}`; any other email `light` |
//! | `GET /search?user_id=..&plan=pro` (or `enterprise`) | `{"user_id", "plan", "page_size": 50, "results": []}`; other plans `10` |
//! | `GET /pricing?user_id=..&country=GB` | `{"user_id", "country", "discount_rate": 0.15, "price_usd": 85.0}`; `DE`, `FR`, `NL`, `SE`, `PL` `0.1`; others `0.0` |
//! | `GET /config?user_id=..` | `{"user_id", "config": {"sidebar": false, "analytics": false, "export_formats": ["csv"], "max_widgets": 5}}` |
//! | `GET /checkout/v2?user_id=..` | a route behind `new-checkout` (`#[feature_flag]`): `{"user_id", "flow": "v2"}` for exactly the users `/checkout` gives the new flow, `404` for the rest |
//! | `POST /waygate/api/flags/new-checkout/disable` (admin / secret) | every `/checkout` answers `new_checkout: false` (off variation); `/checkout/v2` is `404` for everyone |
//! | `POST /waygate/ofrep/v1/evaluate/flags/{key}` (`Authorization: Bearer <token>`) | OFREP: any OpenFeature SDK's OFREP provider evaluates these flags remotely |
//!
//! The flags are created at startup when the backend has none of that key: a flag changed
//! at runtime (`WAYGATE_BACKEND=file`, say) keeps its change across restarts.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Write as _;
use tokio::net::TcpListener;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::flags::{EvaluationContext, FeatureFlag};
use waygate::prelude::*;

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

/// The five flags of the Python original's example.
fn flags() -> Vec<Value> {
    vec![
        json!({
            "key": "new-checkout", "name": "New Checkout Flow",
            "description": "Gradual rollout of the redesigned checkout experience.",
            "type": "boolean",
            "variations": [{"name": "on", "value": true, "description": "New flow enabled"},
                           {"name": "off", "value": false, "description": "Legacy flow"}],
            "off_variation": "off",
            "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}],
            "targets": {"on": ["beta_tester_1", "beta_tester_2"]}
        }),
        json!({
            "key": "ui-theme", "name": "UI Theme", "description": "Default UI theme served to users.",
            "type": "string",
            "variations": [{"name": "light", "value": "light"}, {"name": "dark", "value": "dark"},
                           {"name": "system", "value": "system"}],
            "off_variation": "light", "fallthrough": "light",
            "rules": [{"description": "Corporate users → dark theme",
                       "clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@acme.com"]}],
                       "variation": "dark"}]
        }),
        json!({
            "key": "search-page-size", "name": "Search Page Size",
            "description": "Max results returned per search request.", "type": "integer",
            "variations": [{"name": "small", "value": 10, "description": "Free tier"},
                           {"name": "large", "value": 50, "description": "Pro / enterprise"}],
            "off_variation": "small", "fallthrough": "small",
            "rules": [{"description": "Paid plans → large page size",
                       "clauses": [{"attribute": "plan", "operator": "in", "values": ["pro", "enterprise"]}],
                       "variation": "large"}]
        }),
        json!({
            "key": "discount-rate", "name": "Regional Discount Rate",
            "description": "Fractional discount applied at checkout (0.0 = none, 0.15 = 15%).",
            "type": "float",
            "variations": [{"name": "none", "value": 0.0}, {"name": "eu", "value": 0.10},
                           {"name": "gb", "value": 0.15}],
            "off_variation": "none", "fallthrough": "none",
            "rules": [
                {"description": "GB → 15% discount",
                 "clauses": [{"attribute": "country", "operator": "is", "values": ["GB"]}], "variation": "gb"},
                {"description": "EU → 10% discount",
                 "clauses": [{"attribute": "country", "operator": "in", "values": ["DE", "FR", "NL", "SE", "PL"]}],
                 "variation": "eu"}
            ]
        }),
        json!({
            "key": "feature-config", "name": "Feature Configuration Bundle",
            "description": "Combined config object for the new dashboard experience.", "type": "json",
            "variations": [
                {"name": "v2", "value": {"sidebar": true, "analytics": true,
                                         "export_formats": ["csv", "xlsx", "json"], "max_widgets": 20},
                 "description": "Full v2 dashboard"},
                {"name": "v1", "value": {"sidebar": false, "analytics": false,
                                         "export_formats": ["csv"], "max_widgets": 5},
                 "description": "Legacy v1 dashboard"}
            ],
            "off_variation": "v1", "fallthrough": "v1"
        }),
    ]
}

/// Creates each flag the backend does not hold yet (stored flags win).
async fn seed(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    for definition in flags() {
        let flag: FeatureFlag = serde_json::from_value(definition)?;
        if engine.flags().flag(&flag.key).is_none() {
            engine.save_flag(flag, "system").await?;
        }
    }
    Ok(())
}

/// The query parameters of the Python original's endpoints.
#[derive(Deserialize)]
struct Params {
    #[serde(default = "anonymous")]
    user_id: String,
    #[serde(default)]
    email: String,
    #[serde(default = "free")]
    plan: String,
    #[serde(default = "us")]
    country: String,
}

fn anonymous() -> String {
    "anonymous".to_owned()
}

fn free() -> String {
    "free".to_owned()
}

fn us() -> String {
    "US".to_owned()
}

async fn checkout(State(engine): State<Engine>, Query(p): Query<Params>) -> Json<Value> {
    let enabled = engine
        .flags()
        .bool("new-checkout", &EvaluationContext::new(&p.user_id), false);
    Json(json!({
        "user_id": p.user_id,
        "new_checkout": enabled,
        "flow": if enabled { "v2" } else { "v1" },
    }))
}

async fn theme(State(engine): State<Engine>, Query(p): Query<Params>) -> Json<Value> {
    let mut ctx = EvaluationContext::new(&p.user_id);
    if !p.email.is_empty() {
        ctx = ctx.email(&p.email);
    }
    let theme = engine.flags().string("ui-theme", &ctx, "light");
    Json(json!({"user_id": p.user_id, "theme": theme}))
}

async fn search(State(engine): State<Engine>, Query(p): Query<Params>) -> Json<Value> {
    let ctx = EvaluationContext::new(&p.user_id).attribute("plan", p.plan.as_str());
    let page_size = engine.flags().int("search-page-size", &ctx, 10);
    Json(json!({"user_id": p.user_id, "plan": p.plan, "page_size": page_size, "results": []}))
}

async fn pricing(State(engine): State<Engine>, Query(p): Query<Params>) -> Json<Value> {
    let ctx = EvaluationContext::new(&p.user_id).country(&p.country);
    let discount = engine.flags().float("discount-rate", &ctx, 0.0);
    let price = (100.0 * (1.0 - discount) * 100.0).round() / 100.0;
    Json(json!({
        "user_id": p.user_id,
        "country": p.country,
        "discount_rate": discount,
        "price_usd": price,
    }))
}

/// The new checkout itself, served only to the users `new-checkout` is on for: the flag is
/// evaluated for the request's context, its key the `user_id` parameter (see `main`).
#[route(GET, "/checkout/v2")]
#[feature_flag("new-checkout")]
async fn checkout_v2(Query(p): Query<Params>) -> Json<Value> {
    Json(json!({"user_id": p.user_id, "flow": "v2"}))
}

/// The evaluation context of a request to a `#[feature_flag]` route: `?user_id=` is its key,
/// as the endpoints above build it.
fn user_context(request: &axum::http::request::Parts) -> EvaluationContext {
    let query = request.uri.query().unwrap_or_default();
    let user = user_id_of(query).unwrap_or_else(anonymous);
    EvaluationContext::new(user)
}

/// The `user_id` of a query string.
fn user_id_of(query: &str) -> Option<String> {
    Query::<Params>::try_from_uri(&format!("/?{query}").parse().ok()?)
        .ok()
        .map(|Query(params)| params.user_id)
}

async fn config(State(engine): State<Engine>, Query(p): Query<Params>) -> Json<Value> {
    let fallback = json!({"sidebar": false, "analytics": false});
    let config = engine.flags().json(
        "feature-config",
        &EvaluationContext::new(&p.user_id),
        fallback,
    );
    Json(json!({"user_id": p.user_id, "config": config}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();
    let engine = engine_builder()
        .flag_context(user_context)
        .build_from_env()?;
    engine.start().await?;
    seed(&engine).await?;

    let admin = WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret"));
    let app = admin
        .nest_in(
            Router::new()
                .route("/checkout", get(checkout))
                .route("/theme", get(theme))
                .route("/search", get(search))
                .route("/pricing", get(pricing))
                .route("/config", get(config))
                .merge(routes![checkout_v2]),
            "/waygate",
        )
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(engine.clone());

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
