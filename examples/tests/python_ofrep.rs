//! OFREP across languages: the real Python OpenFeature OFREP provider (PyPI
//! `openfeature-provider-ofrep` 0.3.0 with `openfeature-sdk`, driven by
//! `scripts/python_ofrep.py`) evaluates the five flags of the `feature_flags` example — one
//! of each type — against the example's embedded admin and against `waygate serve` holding
//! the same flags, and gets what the example's own endpoints answer for the same users.
//!
//! Built only with the `python-server` feature; it needs the Python environment from
//! `scripts/python-server-env` in `WAYGATE_PYTHON_SERVER` (`scripts/test` does that) and
//! fails without it.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::{get, send, waygate_cli, Example};

fn python() -> PathBuf {
    let exe = std::env::var_os("WAYGATE_PYTHON_SERVER")
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "WAYGATE_PYTHON_SERVER is not set: run WAYGATE_PYTHON_SERVER=\"$(scripts/\
                 python-server-env)\" cargo test -p waygate-examples --features python-server \
                 --test python_ofrep, or scripts/test"
            )
        });
    assert!(exe.is_file(), "{} is not a file", exe.display());
    exe
}

/// One evaluation: the flag, its OpenFeature type, the caller's default, the context, and
/// the example's endpoint (path and JSON field) that answers the same question.
struct Case {
    flag: &'static str,
    kind: &'static str,
    default: Value,
    context: Value,
    endpoint: String,
    field: &'static str,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // The target, and enough users that the 20 % rollout picks some and not others.
    for user in ["beta_tester_1".to_owned()]
        .into_iter()
        .chain((0..30).map(|n| format!("user-{n}")))
    {
        cases.push(Case {
            flag: "new-checkout",
            kind: "boolean",
            default: json!(false),
            context: json!({"targetingKey": user}),
            endpoint: format!("/checkout?user_id={user}"),
            field: "new_checkout",
        });
    }
    for email in ["ada@acme.com", "bob@elsewhere.org"] {
        cases.push(Case {
            flag: "ui-theme",
            kind: "string",
            default: json!("light"),
            context: json!({"targetingKey": "u1", "email": email}),
            endpoint: format!("/theme?user_id=u1&email={email}"),
            field: "theme",
        });
    }
    for plan in ["pro", "enterprise", "free"] {
        cases.push(Case {
            flag: "search-page-size",
            kind: "integer",
            default: json!(10),
            context: json!({"targetingKey": "u1", "plan": plan}),
            endpoint: format!("/search?user_id=u1&plan={plan}"),
            field: "page_size",
        });
    }
    for country in ["GB", "DE", "US"] {
        cases.push(Case {
            flag: "discount-rate",
            kind: "float",
            default: json!(0.0),
            context: json!({"targetingKey": "u1", "country": country}),
            endpoint: format!("/pricing?user_id=u1&country={country}"),
            field: "discount_rate",
        });
    }
    cases.push(Case {
        flag: "feature-config",
        kind: "object",
        default: json!({}),
        context: json!({"targetingKey": "u1"}),
        endpoint: "/config?user_id=u1".to_owned(),
        field: "config",
    });
    cases
}

/// What the Python provider answers for every case, from the OFREP server at `base_url`.
fn python_answers(base_url: &str, token: &str, cases: &[Case]) -> Vec<Value> {
    let request = json!({
        "base_url": base_url,
        "token": token,
        "cases": cases.iter().map(|case| json!({
            "flag": case.flag, "type": case.kind, "default": case.default, "context": case.context,
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python())
        .arg(workspace().join("scripts/python_ofrep.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python_ofrep.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON list")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn login(addr: SocketAddr, prefix: &str) -> String {
    let reply = send(
        addr,
        "POST",
        &format!("{prefix}/api/auth/login"),
        &[],
        Some(r#"{"username": "admin", "password": "secret"}"#),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// Each Python answer is the endpoint's, with a reason OpenFeature knows and no error.
fn assert_same(answers: &[Value], expected: &[Value], cases: &[Case], server: &str) {
    assert_eq!(answers.len(), cases.len());
    let mut on = 0;
    for ((answer, expected), case) in answers.iter().zip(expected).zip(cases) {
        assert_eq!(
            answer["value"], *expected,
            "{server}: {} for {} (Python provider: {answer})",
            case.flag, case.context
        );
        assert!(answer["error_code"].is_null(), "{server}: {answer}");
        assert!(answer["variant"].is_string(), "{server}: {answer}");
        if case.context["targetingKey"] == "beta_tester_1" {
            assert_eq!(answer["reason"], "TARGETING_MATCH", "{server}: {answer}");
        }
        on += usize::from(case.flag == "new-checkout" && *expected == json!(true));
    }
    // The target and some of the rollout, not everyone.
    assert!((2..31).contains(&on), "{server}: {on} of 31 on");
}

/// `waygate serve` on an ephemeral port (killed on drop).
struct Serve(Child, SocketAddr);

impl Serve {
    fn start() -> Self {
        let mut child = Command::new(waygate_cli())
            .args([
                "serve",
                "--backend",
                "memory",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ])
            .args(["--auth", "admin:secret"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start waygate serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("waygate serve printed {line:?}"))
            .parse()
            .unwrap();
        Self(child, addr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_python_ofrep_provider_evaluates_every_flag_type_as_the_example_does() {
    let example = Example::start("feature_flags", &[]);
    let cases = cases();
    let expected: Vec<Value> = cases
        .iter()
        .map(|case| {
            let reply = get(example.addr, &case.endpoint, &[]);
            assert_eq!(reply.status, 200, "{}: {reply:?}", case.endpoint);
            reply.json()[case.field].clone()
        })
        .collect();

    let token = login(example.addr, "/waygate");
    let base = format!("http://{}/waygate", example.addr);
    assert_same(
        &python_answers(&base, &token, &cases),
        &expected,
        &cases,
        "embedded admin",
    );

    // The same flags on a Waygate Server, copied over its REST API.
    let serve = Serve::start();
    let server_token = login(serve.1, "");
    let flags = get(
        example.addr,
        "/waygate/api/flags",
        &[("x-waygate-token", &token)],
    );
    assert_eq!(flags.status, 200);
    for flag in flags.json().as_array().unwrap() {
        let reply = send(
            serve.1,
            "POST",
            "/api/flags",
            &[("x-waygate-token", &server_token)],
            Some(&flag.to_string()),
        );
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let base = format!("http://{}", serve.1);
    assert_same(
        &python_answers(&base, &server_token, &cases),
        &expected,
        &cases,
        "waygate serve",
    );
}
