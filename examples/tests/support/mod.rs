//! The harness shared by the tests that run the examples: [`Example`] starts an example's real
//! binary on loopback and stops it, [`Reply`] is an answer of the minimal HTTP/1.1 client
//! (GET, or any method with a JSON body for the admin API; optional extra headers;
//! `Connection: close`), so the tests need no HTTP client crate and no async runtime.

// Each test crate that declares `mod support;` uses a part of it.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long an example may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Running an example
// ---------------------------------------------------------------------------------------------

/// A running example binary. Dropping it kills the process, so a failed assertion leaks
/// nothing; a failing test also prints the example's log.
pub(crate) struct Example {
    name: &'static str,
    child: Child,
    pub(crate) addr: SocketAddr,
    /// The example's stderr (its tracing log).
    log: Arc<Mutex<String>>,
    /// Reads stdout after the `listening on` line; returns what else the example printed.
    stdout: Option<thread::JoinHandle<Vec<String>>>,
}

impl Example {
    /// Starts the example on an ephemeral port, with `env` on top of a clean environment
    /// (no `APP_ENV`, `WAYGATE_*`, `SCHEDULE_*` or `TRUSTED_PROXIES` from the caller; memory
    /// backend).
    pub(crate) fn start(name: &'static str, env: &[(&str, &str)]) -> Self {
        Self::start_args(name, &[], env)
    }

    /// [`start`](Self::start) with command-line arguments (`server`, `service`, ...).
    pub(crate) fn start_args(name: &'static str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut command = Command::new(&binary);
        command.args(args);
        for var in [
            "APP_ENV",
            "WAYGATE_ENV",
            "WAYGATE_FILE_PATH",
            "WAYGATE_REDIS_URL",
            "WAYGATE_SQLITE_PATH",
            "SCHEDULE_DELAY_SECS",
            "SCHEDULE_DURATION_SECS",
            "TRUSTED_PROXIES",
            "WAYGATE_SERVER_URL",
            "WAYGATE_USERNAME",
            "WAYGATE_PASSWORD",
            "WAYGATE_TOKEN",
        ] {
            command.env_remove(var);
        }
        command
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("WAYGATE_BACKEND", "memory")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });

        let stdout = child.stdout.take().expect("stdout is piped");
        let (first_line, first_line_rx) = mpsc::channel();
        let stdout = thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = first_line.send(lines.next());
            lines.collect()
        });

        let mut example = Self {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            stdout: Some(stdout),
        };
        let line = match first_line_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Some(line)) => line,
            Ok(None) => panic!("{name} exited without printing its address"),
            Err(_) => panic!("{name} printed nothing within {STARTUP_TIMEOUT:?}"),
        };
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("{name}'s first line is not `listening on ..`: {line:?}"));
        example.addr = addr
            .parse()
            .unwrap_or_else(|e| panic!("{name} printed a bad address ({e}): {line:?}"));
        assert!(example.addr.ip().is_loopback(), "{name} listens on {addr}");
        assert_ne!(example.addr.port(), 0);
        example
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Reply {
        get(self.addr, path, &[])
    }

    /// `GET path`, which must answer `status`.
    pub(crate) fn expect(&self, path: &str, status: u16) -> Reply {
        self.expect_with(path, &[], status)
    }

    /// `GET path` with extra request headers, which must answer `status`.
    pub(crate) fn expect_with(&self, path: &str, headers: &[(&str, &str)], status: u16) -> Reply {
        let reply = get(self.addr, path, headers);
        assert_eq!(
            reply.status, status,
            "{} GET {path} {headers:?}: {reply:?}",
            self.name
        );
        reply
    }

    /// `method path` with `headers` and a JSON `body`.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        send(self.addr, method, path, headers, body)
    }

    /// The statuses of `n` requests `GET path` with `headers`, one after the other.
    pub(crate) fn statuses(&self, path: &str, headers: &[(&str, &str)], n: usize) -> Vec<u16> {
        (0..n)
            .map(|_| get(self.addr, path, headers).status)
            .collect()
    }

    /// `GET path` until `done(reply)`, a few times a second, failing at `deadline`.
    pub(crate) fn poll(
        &self,
        path: &str,
        done: impl Fn(&Reply) -> bool,
        deadline: DateTime<Utc>,
    ) -> Reply {
        loop {
            let reply = self.get(path);
            if done(&reply) {
                return reply;
            }
            assert!(
                Utc::now() < deadline,
                "{} GET {path}: still {reply:?} at the deadline",
                self.name
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks the example to shut down as a user would (SIGTERM), checks that it exits cleanly,
    /// and that it printed nothing to stdout but its address.
    pub(crate) fn stop(mut self) {
        #[cfg(not(unix))]
        {
            self.child.kill().expect("kill the example");
            self.child.wait().expect("wait for the example");
        }
        #[cfg(unix)]
        {
            let sent = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {}", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            let status = loop {
                if let Some(status) = self.child.try_wait().expect("wait for the example") {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not shut down on SIGTERM",
                    self.name
                );
                thread::sleep(Duration::from_millis(20));
            };
            assert!(status.success(), "{} exited with {status}", self.name);
        }
        // The process is gone, so its stdout is closed and the reader finishes.
        let reader = self.stdout.take().expect("stop is called once");
        let extra = reader.join().expect("the stdout reader");
        assert!(
            extra.is_empty(),
            "{} printed more to stdout: {extra:?}",
            self.name
        );
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        // Already exited after `stop`; otherwise a test failed half-way.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("--- {} log ---\n{log}", self.name);
        }
    }
}

/// Where cargo puts the example binaries, after building them (once per test run).
///
/// Test binaries live in `<target>/<profile>/deps/`, examples in
/// `<target>/<profile>/examples/`; building with the same target dir and profile is cheap when
/// `cargo test` has already built them.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        cargo_build(&[
            "--examples",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ]);
        build_dir().0.join("examples")
    })
}

/// The `waygate` command-line tool (`waygate-cli`), built with the test's profile and target
/// directory (once per test run).
pub(crate) fn waygate_cli() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        cargo_build(&[
            "--package",
            "waygate-cli",
            "--bin",
            "waygate",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"),
        ]);
        build_dir()
            .0
            .join(format!("waygate{}", std::env::consts::EXE_SUFFIX))
    })
}

/// `<target>/<profile>` of the running test binary, and the profile's name.
fn build_dir() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => panic!("unexpected test binary path {}", exe.display()),
    };
    (profile_dir.to_owned(), profile)
}

/// `cargo build` with `args`, the test's profile and target directory.
fn cargo_build(args: &[&str]) {
    let (profile_dir, profile) = build_dir();
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--profile", &profile])
        .args(args)
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo build {args:?} failed: {status}");
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

/// A response, read whole.
#[derive(Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }

    /// The `error.code` of a waygate error body.
    pub(crate) fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {self:?}"))
            .to_owned()
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} {:?}", self.status, self.headers, self.body)
    }
}

/// `GET path` with extra `headers`, on a fresh connection.
pub(crate) fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("send GET {path}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read the reply to GET {path}: {e}"));
    parse(&raw).unwrap_or_else(|e| {
        panic!(
            "GET {path}: malformed reply ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `method path` with extra `headers` and a JSON `body`, on a fresh connection.
pub(crate) fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("send {method} {path}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read the reply to {method} {path}: {e}"));
    parse(&raw).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: malformed reply ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse(raw: &[u8]) -> Result<Reply, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        ["HTTP/1.1", code, ..] => code.parse().map_err(|_| "bad status code")?,
        _ => return Err(format!("bad status line {status_line:?}")),
    };
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').ok_or("bad header line")?;
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let mut reply = Reply {
        status,
        headers,
        body: String::new(),
    };
    let rest = &raw[end + 4..];
    let body = if reply.header("transfer-encoding") == Some("chunked") {
        dechunk(rest)?
    } else if let Some(length) = reply.header("content-length") {
        let length: usize = length.parse().map_err(|_| "bad content-length")?;
        if rest.len() != length {
            return Err(format!("content-length {length}, got {} bytes", rest.len()));
        }
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    reply.body = String::from_utf8(body).map_err(|e| e.to_string())?;
    Ok(reply)
}

/// Decodes a chunked body.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("unterminated chunk size")?;
        let size = std::str::from_utf8(&raw[..line_end]).map_err(|e| e.to_string())?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| format!("bad chunk size {size:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if raw.len() < size + 2 {
            return Err("truncated chunk".to_owned());
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
