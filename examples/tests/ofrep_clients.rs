//! OFREP across languages: two real OpenFeature OFREP providers — Python's (PyPI
//! `openfeature-provider-ofrep` 0.3.0 with `openfeature-sdk`, driven by
//! `scripts/python_ofrep.py`) and Rust's (`open-feature-ofrep`, in `interop/ofrep-rust`) —
//! evaluate the five flags of the `feature_flags` example — one of each type — against the
//! example's embedded admin and against `waygate serve` holding the same flags, and get what
//! the example's own endpoints answer for the same users.
//!
//! Built only with the `ofrep-clients` feature; it needs the Python environment from
//! `scripts/python-server-env` in `WAYGATE_PYTHON_SERVER` and the Rust client built from
//! `interop/ofrep-rust` in `WAYGATE_OFREP_RUST_CLIENT` (`scripts/test` does both) and fails
//! without them.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::{get, send, waygate_cli, Example};

/// An executable named by the environment variable `var`.
fn executable(var: &str) -> PathBuf {
    let exe = std::env::var_os(var)
        .filter(|exe| !exe.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{var} is not set: run scripts/test, or set WAYGATE_PYTHON_SERVER=\"$(scripts/\
                 python-server-env)\" and WAYGATE_OFREP_RUST_CLIENT (cargo build --manifest-path \
                 interop/ofrep-rust/Cargo.toml) for cargo test -p waygate-examples --features \
                 ofrep-clients --test ofrep_clients"
            )
        });
    assert!(exe.is_file(), "{} is not a file", exe.display());
    exe
}

/// An OFREP client: a command that reads the request on stdin and prints the answers.
#[derive(Clone, Copy, Debug)]
enum Client {
    Python,
    Rust,
}

impl Client {
    fn command(self) -> Command {
        match self {
            Self::Python => {
                let mut command = Command::new(executable("WAYGATE_PYTHON_SERVER"));
                command.arg(workspace().join("scripts/python_ofrep.py"));
                command
            }
            Self::Rust => Command::new(executable("WAYGATE_OFREP_RUST_CLIENT")),
        }
    }
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

/// What `client`'s provider answers for every case, from the OFREP server at `base_url`.
fn answers(client: Client, base_url: &str, token: &str, cases: &[Case]) -> Vec<Value> {
    let request = json!({
        "base_url": base_url,
        "token": token,
        "cases": cases.iter().map(|case| json!({
            "flag": case.flag, "type": case.kind, "default": case.default, "context": case.context,
        })).collect::<Vec<_>>(),
    });
    let mut child = client
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the OFREP client");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the {client:?} OFREP client failed: {}",
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
            "{server}: {} for {} (provider: {answer})",
            case.flag, case.context
        );
        assert!(answer["error_code"].is_null(), "{server}: {answer}");
        assert!(answer["variant"].is_string(), "{server}: {answer}");
        // The Rust provider (0.1.2) says `STATIC` whatever the server answers.
        if case.context["targetingKey"] == "beta_tester_1" && !server.starts_with("Rust") {
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
fn the_python_and_rust_ofrep_providers_evaluate_every_flag_type_as_the_example_does() {
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
    for client in [Client::Python, Client::Rust] {
        let server = format!("{client:?} client, embedded admin");
        assert_same(
            &answers(client, &base, &token, &cases),
            &expected,
            &cases,
            &server,
        );
    }

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
    for client in [Client::Python, Client::Rust] {
        let server = format!("{client:?} client, waygate serve");
        assert_same(
            &answers(client, &base, &server_token, &cases),
            &expected,
            &cases,
            &server,
        );
    }
}
