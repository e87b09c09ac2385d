//! The flag and segment endpoints (upstream §5.8) on a Waygate Server over real HTTP: the
//! Python original's paths, bodies, codes and messages, plus optimistic concurrency
//! (`ETag` / `If-Match` → `412`) and an evaluate debugger that takes `context: null` and
//! `targetingKey`.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use waygate::admin::Auth;
use waygate::backend::MemoryBackend;
use waygate::server::WaygateServer;

struct Running {
    url: String,
    _stop: oneshot::Sender<()>,
}

async fn run() -> Running {
    let server = WaygateServer::new(MemoryBackend::new())
        .secret_key("k")
        .auth(Auth::single("admin", "secret"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    Running { url, _stop: stop }
}

struct Client {
    url: String,
    token: String,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    etag: Option<String>,
    json: Value,
}

impl Client {
    async fn login(url: &str, body: Value) -> Self {
        let http = reqwest::Client::new();
        let reply: Value = http
            .post(format!("{url}/api/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            url: url.to_owned(),
            token: reply["token"].as_str().expect("a token").to_owned(),
            http,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .header("x-waygate-token", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        Reply {
            status,
            etag,
            json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}

/// A flag as the Python CLI's `flags create` sends it.
fn flag(key: &str) -> Value {
    json!({
        "key": key, "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "off"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_over_the_api_as_the_python_original_serves_them() {
    let server = run().await;
    let admin = Client::login(
        &server.url,
        json!({"username": "admin", "password": "secret"}),
    )
    .await;

    let created = admin
        .send("POST", "/api/flags", Some(flag("new-checkout")), None)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["enabled"], true);
    assert_eq!(created.json["status"], "active");
    let again = admin
        .send("POST", "/api/flags", Some(flag("new-checkout")), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.json["error"],
        "Flag 'new-checkout' already exists. Use PUT to update."
    );
    let bad = admin
        .send("POST", "/api/flags", Some(json!({"key": "x"})), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json["error"]
        .as_str()
        .unwrap()
        .starts_with("Invalid flag definition: "));

    let listed = admin.send("GET", "/api/flags", None, None).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    let read = admin
        .send("GET", "/api/flags/new-checkout", None, None)
        .await;
    let tag = read.etag.clone().expect("an ETag");
    assert_eq!(read.json["key"], "new-checkout");
    let missing = admin.send("GET", "/api/flags/nope", None, None).await;
    assert_eq!(
        (missing.status, missing.json["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Flag 'nope' not found"))
    );

    // PATCH merges (key and type ignored) and checks names as upstream's PATCH does.
    let patched = admin
        .send(
            "PATCH",
            "/api/flags/new-checkout",
            Some(json!({"fallthrough": "on", "key": "zzz", "type": "string"})),
            Some(&tag),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_eq!(
        (patched.json["key"].as_str(), patched.json["type"].as_str()),
        (Some("new-checkout"), Some("boolean"))
    );
    assert_ne!(
        patched.json["updated_at"], read.json["updated_at"],
        "updated_at moves"
    );
    let wrong = admin
        .send(
            "PATCH",
            "/api/flags/new-checkout",
            Some(json!({"off_variation": "nope"})),
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json["error"],
        "off_variation 'nope' does not match any variation name"
    );
    // A lost update: the ETag read before the PATCH no longer matches.
    let stale = admin
        .send(
            "PUT",
            "/api/flags/new-checkout",
            Some(flag("new-checkout")),
            Some(&tag),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.json
    );
    let mismatch = admin
        .send("PUT", "/api/flags/new-checkout", Some(flag("other")), None)
        .await;
    assert_eq!(
        mismatch.json["error"],
        "Flag key in URL and body must match"
    );
    // Without If-Match (the Python CLI sends none) a PUT replaces.
    let fresh = patched.etag.clone().unwrap();
    let mut replaced = flag("new-checkout");
    replaced["rules"] = json!([{"id": "pro", "clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}], "variation": "on"}]);
    let put = admin
        .send(
            "PUT",
            "/api/flags/new-checkout",
            Some(replaced),
            Some(&fresh),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.json);

    // The evaluate debugger: a context, `null`, or an OpenFeature targetingKey.
    let pro = admin
        .send(
            "POST",
            "/api/flags/new-checkout/evaluate",
            Some(json!({"context": {"key": "u1", "attributes": {"plan": "pro"}}})),
            None,
        )
        .await;
    assert_eq!(
        pro.json,
        json!({"flag_key": "new-checkout", "value": true, "variation": "on", "reason": "RULE_MATCH",
               "rule_id": "pro", "prerequisite_key": null, "error_message": null})
    );
    let anonymous = admin
        .send(
            "POST",
            "/api/flags/new-checkout/evaluate",
            Some(json!({"context": null})),
            None,
        )
        .await;
    assert_eq!(
        (anonymous.status, anonymous.json["reason"].as_str()),
        (StatusCode::OK, Some("FALLTHROUGH"))
    );
    let targeted = admin
        .send(
            "POST",
            "/api/flags/new-checkout/evaluate",
            Some(json!({"context": {"targetingKey": "u9", "attributes": {"plan": "pro"}}})),
            None,
        )
        .await;
    assert_eq!(targeted.json["variation"], "on");

    let off = admin
        .send("POST", "/api/flags/new-checkout/disable", None, None)
        .await;
    assert_eq!(off.json["enabled"], false);
    let on = admin
        .send("POST", "/api/flags/new-checkout/enable", None, None)
        .await;
    assert_eq!(on.json["enabled"], true);

    // Segments: no PATCH, as upstream.
    let segment = json!({"key": "beta", "name": "Beta", "included": ["u1"]});
    assert_eq!(
        admin
            .send("POST", "/api/segments", Some(segment.clone()), None)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        admin
            .send("POST", "/api/segments", Some(segment), None)
            .await
            .json["error"],
        "Segment 'beta' already exists. Use PUT to update."
    );
    let seg = admin.send("GET", "/api/segments/beta", None, None).await;
    assert!(seg.etag.is_some());
    let put = admin
        .send(
            "PUT",
            "/api/segments/beta",
            Some(json!({"key": "beta", "name": "Beta", "included": ["u1", "u2"]})),
            None,
        )
        .await;
    assert_eq!(put.json["included"], json!(["u1", "u2"]));
    assert_eq!(
        admin
            .send(
                "PUT",
                "/api/segments/beta",
                Some(json!({"key": "gamma", "name": "G"})),
                None
            )
            .await
            .json["error"],
        "Segment key in URL and body must match"
    );

    // A service token reads flags and segments (it evaluates them), and changes nothing.
    let service = Client::login(
        &server.url,
        json!({"username": "admin", "password": "secret", "platform": "sdk", "app_id": "pay"}),
    )
    .await;
    assert_eq!(
        service.send("GET", "/api/flags", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        service
            .send("GET", "/api/segments/beta", None, None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        service
            .send("POST", "/api/flags/new-checkout/disable", None, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Audited as upstream names it.
    let audit = admin.send("GET", "/api/audit?limit=20", None, None).await;
    let actions: Vec<&str> = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "flag_created",
        "flag_updated",
        "flag_disabled",
        "flag_enabled",
        "segment_created",
        "segment_updated",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    let deleted = admin
        .send("DELETE", "/api/flags/new-checkout", None, None)
        .await;
    assert_eq!(deleted.json, json!({"ok": true, "deleted": "new-checkout"}));
    assert_eq!(
        admin
            .send("DELETE", "/api/flags/new-checkout", None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .send("DELETE", "/api/segments/beta", None, None)
            .await
            .json,
        json!({"ok": true, "deleted": "beta"})
    );
    assert_eq!(
        admin
            .send("GET", "/api/segments/beta", None, None)
            .await
            .json["error"],
        "Segment 'beta' not found"
    );
}

/// A service registering a flag whose default is not of its type is refused, naming it; a
/// well-formed declaration creates the flag, audited as the service.
#[tokio::test]
async fn registered_flags_are_checked_and_created() {
    let server = run().await;
    let admin = Client::login(
        &server.url,
        json!({"username": "admin", "password": "secret"}),
    )
    .await;
    let register = |flags: Value| json!({"app_id": "shop", "states": [], "flags": flags});
    let refused = admin
        .send(
            "POST",
            "/api/sdk/register",
            Some(register(
                json!([{"key": "new-checkout", "type": "boolean", "default": "yes"}]),
            )),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.json["error"]
            .as_str()
            .unwrap()
            .contains("new-checkout"),
        "{}",
        refused.json
    );
    let missing = admin
        .send("GET", "/api/flags/new-checkout", None, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let created = admin
        .send(
            "POST",
            "/api/sdk/register",
            Some(register(
                json!([{"key": "page-size", "type": "integer", "default": 10}]),
            )),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.json);
    let flag = admin.send("GET", "/api/flags/page-size", None, None).await;
    assert_eq!(flag.json["variations"][0]["value"], 10);
    assert_eq!(flag.json["created_by"], "shop");
}
