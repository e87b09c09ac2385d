//! OFREP bulk evaluation on the Waygate Server: 100 flags (each with a target, a rule and a
//! 20 % rollout) evaluated for one context per request, through the server's router (auth
//! on, a bearer token), in process: the answer with its `ETag`, and the `304` a client with
//! an unchanged `ETag` gets. Requests per second on one core = 1 s / the time shown.
//!
//! `cargo bench -p waygate --features server --bench ofrep`

use axum::body::Body;
use criterion::Criterion;
use http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;
use waygate::admin::Auth;
use waygate::backend::MemoryBackend;
use waygate::flags::FeatureFlag;
use waygate::server::WaygateServer;

const FLAGS: usize = 100;
const CONTEXT: &str =
    r#"{"context":{"targetingKey":"user-42","plan":"pro","email":"ada@corp.io"}}"#;

fn flag(n: usize) -> FeatureFlag {
    serde_json::from_value(json!({
        "key": format!("flag-{n:03}"), "name": format!("Flag {n}"), "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "targets": {"on": ["ada", "grace"]},
        "rules": [{"clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}], "variation": "on"}],
        "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
    }))
    .expect("a flag")
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server = WaygateServer::new(MemoryBackend::new())
        .secret_key("bench")
        .auth(Auth::single("admin", "secret"));
    let router = server.router();
    let token = runtime.block_on(async {
        server.engine().start().await.expect("started");
        for n in 0..FLAGS {
            server
                .engine()
                .save_flag(flag(n), "bench")
                .await
                .expect("saved");
        }
        let login = Request::post("/api/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"username":"admin","password":"secret"}"#))
            .unwrap();
        let response = router.clone().oneshot(login).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
        reply["token"].as_str().unwrap().to_owned()
    });
    let bulk = |etag: Option<&str>| {
        let mut request = Request::post("/ofrep/v1/evaluate/flags")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.body(Body::from(CONTEXT)).unwrap()
    };
    let etag = runtime.block_on(async {
        let response = router.clone().oneshot(bulk(None)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(reply["flags"].as_array().unwrap().len(), FLAGS);
        let again = router.clone().oneshot(bulk(Some(&etag))).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        etag
    });
    let mut group = criterion.benchmark_group("ofrep bulk, 100 flags");
    group.bench_function("200 with the flags", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = router.clone().oneshot(bulk(None)).await.unwrap();
                axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .unwrap()
            })
        });
    });
    group.bench_function("304 (If-None-Match)", |b| {
        b.iter(|| {
            runtime
                .block_on(router.clone().oneshot(bulk(Some(&etag))))
                .unwrap()
        });
    });
    group.finish();
    criterion.final_summary();
}
