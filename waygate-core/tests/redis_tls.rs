//! `rediss://`: the Redis backend over TLS (rustls, ring), against a `redis-server` of the
//! test's own that only speaks TLS, with a certificate signed by a throwaway CA
//! (`scripts/redis-tls-cert`, which `scripts/test` runs and names in
//! `WAYGATE_TEST_REDIS_TLS_DIR`; without it the test runs the script itself).
#![cfg(feature = "redis")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use waygate_core::backend::{Backend, RedisBackend};
use waygate_core::rate_limit::{Algorithm, CounterRequest};
use waygate_core::RouteState;

/// The certificates: `ca.crt`, `server.crt`, `server.key`.
fn certificates() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(dir) = std::env::var_os("WAYGATE_TEST_REDIS_TLS_DIR") {
        return (PathBuf::from(dir), None);
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/redis-tls-cert");
    let made = Command::new(script).arg(dir.path()).status().unwrap();
    assert!(made.success(), "scripts/redis-tls-cert failed");
    (dir.path().to_owned(), Some(dir))
}

/// A `redis-server` listening with TLS only; killed when dropped.
struct TlsRedis {
    port: u16,
    child: Child,
}

impl TlsRedis {
    fn start(certs: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(certs.join("server.crt"))
            .arg("--tls-key-file")
            .arg(certs.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(certs.join("ca.crt"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server with TLS did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_counters_over_rediss_with_a_private_ca() {
    let (certs, _dir) = certificates();
    let redis = TlsRedis::start(&certs);
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    let url = format!("rediss://127.0.0.1:{}", redis.port);

    let backend = RedisBackend::with_root_certificate(&url, &ca).unwrap();
    let mut state = RouteState::active("GET:/tls");
    state.reason = "over TLS".to_owned();
    backend.set_state(&state).await.expect("written over TLS");
    let read = backend.get_state("GET:/tls").await.unwrap().unwrap();
    assert_eq!(read.reason, "over TLS");
    let counters = backend.rate_limit_counters().unwrap();
    let request = CounterRequest::new(
        "GET:/tls",
        "10.0.0.1",
        Algorithm::SlidingWindow,
        1,
        Duration::from_secs(60),
    );
    assert!(counters.hit(&request).await.unwrap().allowed);
    assert!(!counters.hit(&request).await.unwrap().allowed);

    // Without the CA the certificate is not trusted: refused, not read in the clear.
    let untrusted = RedisBackend::new(&url)
        .unwrap()
        .with_response_timeout(Duration::from_secs(5));
    assert!(untrusted.get_state("GET:/tls").await.is_err());
    // Plain text to a TLS-only port gets nothing either.
    let plain = RedisBackend::new(&format!("redis://127.0.0.1:{}", redis.port))
        .unwrap()
        .with_response_timeout(Duration::from_secs(2));
    assert!(plain.get_state("GET:/tls").await.is_err());
    // A certificate is for TLS URLs only.
    assert!(RedisBackend::with_root_certificate("redis://127.0.0.1:1", &ca).is_err());
}
