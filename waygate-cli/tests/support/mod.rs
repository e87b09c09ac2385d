//! Running the real `waygate` binary: each [`Cli`] has a home directory (and so a config
//! file) of its own, a working directory with no `.waygate` above it, no `WAYGATE_*`
//! variables, stdin closed and stdout/stderr piped.

#![allow(dead_code, unreachable_pub)]

pub mod flag_scenario;

use serde_json::Value;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one CLI command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The CLI with a home of its own (removed on drop).
pub struct Cli {
    exe: PathBuf,
    home: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

/// What one command did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waygate {:?} exited with {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

impl Cli {
    /// Our CLI.
    pub fn new() -> Self {
        Self::with_exe(PathBuf::from(env!("CARGO_BIN_EXE_waygate")))
    }

    /// Another executable with the same interface (the Python CLI).
    pub fn with_exe(exe: PathBuf) -> Self {
        Self {
            exe,
            home: tempfile::Builder::new()
                .prefix("waygate-cli-test-")
                .tempdir()
                .expect("a temporary home"),
            envs: Vec::new(),
        }
    }

    /// The home directory (also the working directory).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Sets an environment variable for every later command.
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.envs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `config set-url url` and a login as admin/secret.
    pub fn logged_in(url: &str) -> Self {
        let cli = Self::new();
        cli.ok(&["config", "set-url", url]);
        cli.ok(&["login", "admin", "--password", "secret"]);
        cli
    }

    /// Runs a command that must exit with 0; its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(0), "{run}");
        run.stdout
    }

    /// Runs a command that must exit with `code`; the run.
    #[track_caller]
    pub fn fails(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, Some(code), "{run}");
        run
    }

    /// Runs `--json args..`, which must succeed; its JSON.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Runs a command.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.home(), args, None)
    }

    /// Runs a command in `dir`, with `stdin` as its input when given.
    pub fn run_in(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home())
            .env("USERPROFILE", self.home())
            .env_remove("WAYGATE_SERVER_URL")
            .env_remove("WAYGATE_SERVICE")
            .env("COLUMNS", "250")
            .env("NO_COLOR", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.exe.display()));
        if let Some(input) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let read = |pipe: Box<dyn std::io::Read + Send>| {
            let mut pipe = pipe;
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = read(Box::new(child.stdout.take().expect("piped")));
        let stderr = read(Box::new(child.stderr.take().expect("piped")));
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the CLI") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("waygate {args:?} did not finish within {TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(5));
        };
        Run {
            args: args.iter().map(|&a| a.to_owned()).collect(),
            code: status.code(),
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        }
    }

    /// Runs a command on a terminal of its own (util-linux `script` gives it a pty): each
    /// time the output shows the next of `answers`' prompts, its reply is typed. `envs` are
    /// set on top of the usual ones (`NO_COLOR` is not set here). The output is the
    /// terminal's, escapes included, with `\r\n` as `\n`.
    pub fn run_tty(&self, args: &[&str], answers: &[(&str, &str)], envs: &[(&str, &str)]) -> Run {
        use std::io::{Read, Write};
        use std::sync::{Arc, Mutex};
        let quote = |arg: &str| format!("'{}'", arg.replace('\'', "'\\''"));
        let line = std::iter::once(self.exe.display().to_string())
            .chain(args.iter().map(|a| (*a).to_owned()))
            .map(|a| quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = Command::new("script");
        command
            .args(["-q", "-e", "-f", "-c", &line, "/dev/null"])
            .current_dir(self.home())
            .env("HOME", self.home())
            .env_remove("WAYGATE_SERVER_URL")
            .env_remove("WAYGATE_SERVICE")
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in self
            .envs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(envs.iter().copied())
        {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .expect("run `script` (util-linux) for a pty");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let output = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stdout.take().expect("piped stdout");
        let sink = Arc::clone(&output);
        let reader = thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = 0;
        for (prompt, reply) in answers {
            loop {
                let text = output.lock().unwrap().clone();
                if let Some(at) = text[seen..].find(prompt) {
                    seen += at + prompt.len();
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "no prompt {prompt:?} in {text:?}"
                );
                thread::sleep(Duration::from_millis(5));
            }
            // The prompt is written just before the terminal's echo is turned off: a user
            // does not type within 100 ms of it, and neither does this.
            thread::sleep(Duration::from_millis(100));
            stdin.write_all(reply.as_bytes()).expect("type a reply");
            stdin.flush().unwrap();
        }
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for script") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "waygate {args:?} on a pty did not finish: {:?}",
                    output.lock().unwrap()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        drop(stdin);
        reader.join().expect("pty reader");
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let stdout = output.lock().unwrap().replace("\r\n", "\n");
        Run {
            args: args.iter().map(|&a| a.to_owned()).collect(),
            code: status.code(),
            stdout,
            stderr,
        }
    }

    /// `$HOME/.waygate/config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.home().join(".waygate").join("config.json")
    }

    /// The config file's JSON.
    pub fn config(&self) -> Value {
        let text = std::fs::read_to_string(self.config_path()).expect("the config file");
        serde_json::from_str(&text).expect("config JSON")
    }

    /// Replaces the config file.
    pub fn write_config(&self, config: &Value) {
        std::fs::create_dir_all(self.config_path().parent().unwrap()).unwrap();
        std::fs::write(
            self.config_path(),
            serde_json::to_string_pretty(config).unwrap(),
        )
        .unwrap();
    }
}

/// The rows of an aligned table: each line split on runs of two or more spaces.
pub fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The index of the first row of `text` with every one of `cells`.
#[track_caller]
pub fn row(text: &str, cells: &[&str]) -> usize {
    rows(text)
        .iter()
        .position(|row| cells.iter().all(|want| row.iter().any(|cell| cell == want)))
        .unwrap_or_else(|| panic!("no row with {cells:?} in:\n{text}"))
}

/// One plain-text line: no ANSI escapes, no stack trace, no panic.
#[track_caller]
pub fn one_line_error(run: &Run) -> String {
    assert!(
        !run.stderr.contains('\x1b'),
        "escapes in piped stderr: {run}"
    );
    assert!(!run.stderr.contains("panicked"), "{run}");
    assert!(!run.stderr.contains("RUST_BACKTRACE"), "{run}");
    let first = run.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(first.starts_with("error: "), "{run}");
    first
}

/// `waygate serve` on a free port; killed on drop.
pub struct Served {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it wrote to stderr, line by line (with [`Served::logging`]).
    logs: Option<std::sync::mpsc::Receiver<String>>,
    /// The state file's directory, unless the test named a backend.
    _state: Option<tempfile::TempDir>,
}

impl Served {
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(args, false, None)
    }

    /// Like [`start`](Self::start), keeping its stderr for [`log_line`](Self::log_line).
    pub fn logging(args: &[&str]) -> Self {
        Self::spawn(args, true, None)
    }

    /// The first log line that `wanted` accepts among those in `seen` (lines read before,
    /// not taken) and those still to come, waiting at most 15 s; the lines read on the way
    /// stay in `seen`.
    pub fn log_line(&self, seen: &mut Vec<String>, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(at) = seen.iter().position(|line| wanted(line)) {
            return seen.remove(at);
        }
        let logs = self.logs.as_ref().expect("started with Served::logging");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match logs.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no such log line; the server wrote:\n{}", seen.join("\n")),
            }
        }
    }

    /// `waygate serve` with `HOME` set to `home` and no `--backend` unless `args` give one:
    /// its default backend, under `home`. Logging.
    pub fn at_home(args: &[&str], home: &Path) -> Self {
        Self::spawn(args, true, Some(home))
    }

    fn spawn(args: &[&str], logging: bool, home: Option<&Path>) -> Self {
        // Never the user's ~/.waygate: a state file of the test's own.
        let state =
            (home.is_none() && !args.contains(&"--backend")).then(|| tempfile::tempdir().unwrap());
        let backend = state
            .as_ref()
            .map(|dir| format!("file:{}", dir.path().join("state.json").display()));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_waygate"))
            .arg("serve")
            .args(["--port", "0"])
            .args(args)
            .args(backend.iter().flat_map(|b| ["--backend", b.as_str()]))
            .envs(home.map(|home| ("HOME", home)))
            .env_remove("WAYGATE_SERVER_BACKEND")
            .env_remove("WAYGATE_SERVER_AUTH")
            .env_remove("WAYGATE_SECRET_KEY")
            .env("RUST_LOG", "info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(if logging {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start waygate serve");
        let logs = child.stderr.take().map(|stderr| {
            let (lines, logs) = std::sync::mpsc::channel();
            thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { return };
                    if lines.send(line).is_err() {
                        return;
                    }
                }
            });
            logs
        });
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("waygate serve printed {line:?}"))
            .to_owned();
        Self {
            child,
            url,
            logs,
            _state: state,
        }
    }

    /// SIGTERM; it must exit with 0 within 10 s.
    pub fn stop(mut self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "waygate serve exited with {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "waygate serve did not shut down on SIGTERM with an SDK stream open"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
