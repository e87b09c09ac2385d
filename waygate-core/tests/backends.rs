//! Backends: one conformance suite run against every built-in backend, and the file
//! backend's own guarantees (persistence, sharing between processes, atomic writes, corrupt
//! and unreadable files). Engines persisting through a shared file are tested with the axum
//! adapter (`waygate/tests/engines_on_a_file.rs`), where routes are declared.
//!
//! To run the suite against another backend, add one `conformance!` line with a function
//! that builds its [`Fixture`].

use std::sync::Arc;
use std::time::Duration;
use waygate_core::backend::{Backend, MemoryBackend, AUDIT_CAPACITY};
use waygate_core::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use waygate_core::stored::{RouteKey, Sentinel};
use waygate_core::{
    Actor, AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState, RouteStatus,
};

#[cfg(feature = "redis")]
use waygate_core::backend::RedisBackend;
#[cfg(feature = "file")]
use waygate_core::backend::{BackendError, FileBackend};

// The test Redis helpers the axum crate's tests use (this suite needs a part of them).
#[cfg(feature = "redis")]
#[path = "../../waygate/tests/common/redis.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_redis;

/// How long a test waits for something that should happen within a few poll intervals.
const PATIENCE: Duration = Duration::from_secs(10);

/// A backend under test.
struct Fixture {
    backend: Arc<dyn Backend>,
    /// Another writer on the same storage: another process on the file, another client of
    /// the server, another engine sharing the memory backend.
    other: Arc<dyn Backend>,
    _dir: Option<tempfile::TempDir>,
    /// Keys to delete from the test Redis afterwards.
    #[cfg(feature = "redis")]
    redis_prefix: Option<String>,
}

async fn memory() -> Fixture {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    Fixture {
        other: Arc::clone(&backend),
        backend,
        _dir: None,
        #[cfg(feature = "redis")]
        redis_prefix: None,
    }
}

#[cfg(feature = "file")]
async fn file() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("waygate-state.json");
    let fast = Duration::from_millis(10);
    Fixture {
        backend: Arc::new(FileBackend::open(&path).unwrap().with_poll_interval(fast)),
        other: Arc::new(FileBackend::open(&path).unwrap().with_poll_interval(fast)),
        _dir: Some(dir),
        #[cfg(feature = "redis")]
        redis_prefix: None,
    }
}

/// Two clients of the test Redis (`WAYGATE_TEST_REDIS_URL`), each test under its own key
/// prefix.
#[cfg(feature = "redis")]
async fn redis() -> Fixture {
    let prefix = test_redis::unique_prefix();
    let url = test_redis::url();
    let open = || Arc::new(RedisBackend::new(&url).unwrap().with_key_prefix(&prefix));
    Fixture {
        backend: open(),
        other: open(),
        _dir: None,
        redis_prefix: Some(prefix),
    }
}

fn state(key: &str, status: RouteStatus) -> RouteState {
    let mut state = RouteState::active(key);
    state.status = status;
    state.reason = "test".to_owned();
    state
}

fn audit(path: &str, n: usize) -> AuditEntry {
    let mut entry = AuditEntry::new(path, "enable", &Actor::new("alice").platform("cli"));
    entry.id = format!("entry-{n}");
    entry.timestamp = chrono::DateTime::from_timestamp(1_700_000_000 + n as i64, 0).unwrap();
    entry.reason = format!("change {n}");
    entry.previous_status = Some(RouteStatus::Maintenance);
    entry.new_status = Some(RouteStatus::Active);
    entry
}

fn ids(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.id.as_str()).collect()
}

/// The behaviour every backend shares (the Python original's `test_backends.py`, plus the
/// global maintenance sentinel and `watch`).
mod suite {
    use super::*;

    pub(super) async fn set_and_get_state(fx: &Fixture) {
        let b = &*fx.backend;
        let mut stored = state("GET:/api/test", RouteStatus::Deprecated);
        stored.sunset_date = Some("Sat, 01 Nov 2025 00:00:00 GMT".to_owned());
        stored.allowed_envs = vec!["dev".to_owned()];
        b.set_state(&stored).await.unwrap();
        assert_eq!(b.get_state("GET:/api/test").await.unwrap(), Some(stored));
    }

    pub(super) async fn missing_state_is_none(fx: &Fixture) {
        assert_eq!(fx.backend.get_state("/not/registered").await.unwrap(), None);
    }

    pub(super) async fn set_state_overwrites(fx: &Fixture) {
        let b = &*fx.backend;
        b.set_state(&state("/api/test", RouteStatus::Active))
            .await
            .unwrap();
        b.set_state(&state("/api/test", RouteStatus::Disabled))
            .await
            .unwrap();
        let stored = b.get_state("/api/test").await.unwrap().unwrap();
        assert_eq!(stored.status, RouteStatus::Disabled);
        assert_eq!(b.list_states().await.unwrap().len(), 1);
    }

    pub(super) async fn delete_state(fx: &Fixture) {
        let b = &*fx.backend;
        b.set_state(&state("/api/test", RouteStatus::Active))
            .await
            .unwrap();
        b.set_state(&state("/api/kept", RouteStatus::Active))
            .await
            .unwrap();
        b.delete_state("/api/test").await.unwrap();
        assert_eq!(b.get_state("/api/test").await.unwrap(), None);
        assert!(b.get_state("/api/kept").await.unwrap().is_some());
    }

    pub(super) async fn delete_missing_state_is_a_no_op(fx: &Fixture) {
        let b = &*fx.backend;
        b.set_state(&state("/api/kept", RouteStatus::Active))
            .await
            .unwrap();
        b.delete_state("/not/registered").await.unwrap();
        assert_eq!(b.list_states().await.unwrap().len(), 1);
    }

    pub(super) async fn list_states_empty(fx: &Fixture) {
        assert_eq!(fx.backend.list_states().await.unwrap(), Vec::new());
    }

    pub(super) async fn list_states_with_prefix(fx: &Fixture) {
        let b = &*fx.backend;
        for key in [
            "/api/a",
            "/api/b",
            "/apix",
            "/other",
            "__waygate:rl:GET:/x__",
        ] {
            b.set_state(&state(key, RouteStatus::Active)).await.unwrap();
        }
        let mut keys: Vec<String> = b
            .list_states_with_prefix("/api/")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.path)
            .collect();
        keys.sort();
        assert_eq!(keys, ["/api/a", "/api/b"]);
        let records = b.list_states_with_prefix("__waygate:").await.unwrap();
        assert_eq!(records.len(), 1);
        assert!(b
            .list_states_with_prefix("/nothing")
            .await
            .unwrap()
            .is_empty());
    }

    pub(super) async fn list_states(fx: &Fixture) {
        let b = &*fx.backend;
        b.set_state(&state("/api/a", RouteStatus::Active))
            .await
            .unwrap();
        b.set_state(&state("/api/b", RouteStatus::Maintenance))
            .await
            .unwrap();
        let mut listed = b.list_states().await.unwrap();
        listed.sort_by(|x, y| x.path.cmp(&y.path));
        assert_eq!(
            listed,
            vec![
                state("/api/a", RouteStatus::Active),
                state("/api/b", RouteStatus::Maintenance)
            ]
        );
    }

    pub(super) async fn write_and_read_audit(fx: &Fixture) {
        let b = &*fx.backend;
        let entry = audit("GET:/api/test", 1);
        b.write_audit(&entry).await.unwrap();
        assert_eq!(
            b.audit_log(&AuditQuery::default()).await.unwrap(),
            vec![entry]
        );
    }

    pub(super) async fn audit_log_is_newest_first(fx: &Fixture) {
        let b = &*fx.backend;
        for n in 1..=3 {
            b.write_audit(&audit("GET:/api/test", n)).await.unwrap();
        }
        let log = b.audit_log(&AuditQuery::default()).await.unwrap();
        assert_eq!(ids(&log), ["entry-3", "entry-2", "entry-1"]);
    }

    pub(super) async fn audit_log_filters_by_exact_path(fx: &Fixture) {
        let b = &*fx.backend;
        b.write_audit(&audit("/api/payments", 1)).await.unwrap();
        b.write_audit(&audit("/api/users", 2)).await.unwrap();
        b.write_audit(&audit("/api/payments/refunds", 3))
            .await
            .unwrap();
        b.write_audit(&audit("GET:/api/payments", 4)).await.unwrap();
        b.write_audit(&audit("/api/payments", 5)).await.unwrap();
        let log = b
            .audit_log(&AuditQuery::default().route("/api/payments"))
            .await
            .unwrap();
        assert_eq!(ids(&log), ["entry-5", "entry-1"]);
        let log = b
            .audit_log(&AuditQuery::default().route("/nowhere"))
            .await
            .unwrap();
        assert!(log.is_empty());
    }

    pub(super) async fn audit_log_limit(fx: &Fixture) {
        let b = &*fx.backend;
        for n in 0..10 {
            b.write_audit(&audit("/api/test", n)).await.unwrap();
        }
        let log = b.audit_log(&AuditQuery::latest(5)).await.unwrap();
        assert_eq!(
            ids(&log),
            ["entry-9", "entry-8", "entry-7", "entry-6", "entry-5"]
        );
        let log = b
            .audit_log(&AuditQuery::latest(2).route("/api/test"))
            .await
            .unwrap();
        assert_eq!(ids(&log), ["entry-9", "entry-8"]);
    }

    pub(super) async fn audit_log_keeps_the_newest_entries(fx: &Fixture) {
        let b = &*fx.backend;
        let extra = 5;
        for n in 0..AUDIT_CAPACITY + extra {
            b.write_audit(&audit("/api/test", n)).await.unwrap();
        }
        let log = b
            .audit_log(&AuditQuery::latest(2 * AUDIT_CAPACITY))
            .await
            .unwrap();
        assert_eq!(log.len(), AUDIT_CAPACITY);
        assert_eq!(log[0].id, format!("entry-{}", AUDIT_CAPACITY + extra - 1));
        assert_eq!(log[AUDIT_CAPACITY - 1].id, format!("entry-{extra}"));
    }

    pub(super) async fn global_config_defaults_to_off(fx: &Fixture) {
        let config = fx.backend.global_config().await.unwrap();
        assert_eq!(config, GlobalMaintenanceConfig::default());
        assert!(!config.enabled);
    }

    pub(super) async fn global_config_round_trips_through_the_sentinel(fx: &Fixture) {
        let b = &*fx.backend;
        let config = GlobalMaintenanceConfig::enabled("Deploying v2")
            .exempt_paths(["/health", "GET:/ready"])
            .include_force_active(true);
        b.set_global_config(&config).await.unwrap();
        assert_eq!(b.global_config().await.unwrap(), config);
        let key = "__waygate:global__";
        let sentinel = b.get_state(key).await.unwrap().unwrap();
        assert_eq!(sentinel.path, key);
        let listed = b.list_states().await.unwrap();
        assert!(listed.iter().any(|s| s.path == key), "{listed:?}");

        b.set_global_config(&GlobalMaintenanceConfig::default())
            .await
            .unwrap();
        assert_eq!(
            b.global_config().await.unwrap(),
            GlobalMaintenanceConfig::default()
        );
    }

    /// Every stored name — each sentinel kind (as the Python original and earlier versions
    /// wrote it) and each form of route key — is stored, listed and read back under its key,
    /// and reads back as the same typed name.
    pub(super) async fn stored_names_round_trip(fx: &Fixture) {
        let b = &*fx.backend;
        let sentinels = [
            (Sentinel::GlobalMaintenance, "__waygate:global__"),
            (Sentinel::GlobalRateLimit, "__waygate:global_rl__"),
            (
                Sentinel::RouteRateLimit {
                    method: "GET",
                    path: "pay:/items/{id}",
                },
                "__waygate:rl:GET:pay:/items/{id}__",
            ),
            (Sentinel::ServiceRateLimit("pay"), "__waygate:svc_rl:pay__"),
            (
                Sentinel::ServiceMaintenance("pay"),
                "__waygate:svc_global:pay__",
            ),
            (Sentinel::PolicyOff("GET:/x"), "__waygate:rl_off:GET:/x__"),
            (Sentinel::RevokedToken("j-1"), "__waygate:revoked:j-1__"),
            (Sentinel::BypassRevoked, "__waygate:bypass_revoked__"),
            (
                Sentinel::Flag("new-checkout"),
                "__waygate:flag:new-checkout__",
            ),
            (Sentinel::Segment("beta"), "__waygate:segment:beta__"),
        ];
        for (sentinel, key) in sentinels {
            assert_eq!(sentinel.to_string(), key);
            let record = sentinel.record("2030-01-01T00:00:00+00:00");
            b.set_state(&record).await.unwrap();
            let back = b.get_state(key).await.unwrap().expect(key);
            assert_eq!(back, record);
            assert_eq!(Sentinel::parse(&back.path), Some(sentinel));
        }
        let routes = ["GET:/items/{id}", "/items", "pay:POST:/a:b", "pay:/x"];
        for key in routes {
            b.set_state(&state(key, RouteStatus::Active)).await.unwrap();
            let back = b.get_state(key).await.unwrap().expect(key);
            assert_eq!(RouteKey::parse(&back.path).unwrap().to_string(), key);
        }
        let mut records: Vec<String> = b
            .list_states_with_prefix(waygate_core::stored::SENTINEL_PREFIX)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.path)
            .collect();
        records.sort();
        let mut expected: Vec<String> = sentinels.iter().map(|(_, k)| k.to_string()).collect();
        expected.sort();
        assert_eq!(records, expected);
        assert_eq!(
            b.list_states().await.unwrap().len(),
            sentinels.len() + routes.len()
        );
        for (_, key) in sentinels {
            b.delete_state(key).await.unwrap();
            assert_eq!(b.get_state(key).await.unwrap(), None, "{key}");
        }

        // Policies round-trip (Redis keeps route policies under keys of their own, as the
        // Python original), and a service's lands under its sentinel.
        let policy = RateLimitPolicy::new("pay:/p", "POST", "5/minute");
        b.set_rate_limit_policy(&policy).await.unwrap();
        assert_eq!(b.rate_limit_policies().await.unwrap(), vec![policy]);
        let shared = GlobalRateLimitPolicy::new("9/minute");
        b.set_service_rate_limit_policy("orders", Some(&shared))
            .await
            .unwrap();
        let stored = b
            .get_state("__waygate:svc_rl:orders__")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.service.as_deref(), Some("orders"));
        assert_eq!(
            b.service_rate_limit_policies().await.unwrap(),
            vec![("orders".to_owned(), shared)]
        );
    }

    /// `watch` moves when another writer changes the data, and the change is then readable.
    pub(super) async fn watch_reports_other_writers(fx: &Fixture) {
        let mut changes = fx
            .backend
            .watch()
            .expect("a shared backend reports changes");
        changes.borrow_and_update();
        fx.other
            .set_state(&state("GET:/elsewhere", RouteStatus::Disabled))
            .await
            .unwrap();
        tokio::time::timeout(PATIENCE, changes.changed())
            .await
            .expect("watch did not move after another writer's change")
            .unwrap();
        let seen = fx
            .backend
            .get_state("GET:/elsewhere")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen.status, RouteStatus::Disabled);
    }

    /// Of many claims of one job through both writers, exactly one wins; other jobs are
    /// claimed independently, and a lapsed claim can be taken again.
    pub(super) async fn claim_once_has_one_winner(fx: &Fixture) {
        let ttl = Duration::from_secs(60);
        let mut claims = Vec::new();
        for n in 0..10 {
            let backend = if n % 2 == 0 { &fx.backend } else { &fx.other };
            let backend = Arc::clone(backend);
            claims.push(tokio::spawn(async move {
                backend.claim_once("webhook:42", ttl).await.unwrap()
            }));
        }
        let mut winners = 0;
        for claim in claims {
            winners += usize::from(claim.await.unwrap());
        }
        assert_eq!(winners, 1, "one claim of the same job wins");
        assert!(fx.other.claim_once("webhook:43", ttl).await.unwrap());

        // Long enough that a loaded machine answers the second claim before the first lapses.
        let short = Duration::from_millis(300);
        assert!(fx.backend.claim_once("webhook:44", short).await.unwrap());
        assert!(!fx.other.claim_once("webhook:44", short).await.unwrap());
        tokio::time::sleep(2 * short).await;
        assert!(fx.other.claim_once("webhook:44", short).await.unwrap());
    }
}

/// Runs every check of [`suite`] against the fixture `$make` builds, in a module `$name`.
macro_rules! conformance {
    ($name:ident, $make:path) => {
        mod $name {
            use super::*;

            conformance!(@checks $make;
                set_and_get_state,
                missing_state_is_none,
                set_state_overwrites,
                delete_state,
                delete_missing_state_is_a_no_op,
                list_states_empty,
                list_states,
                list_states_with_prefix,
                write_and_read_audit,
                audit_log_is_newest_first,
                audit_log_filters_by_exact_path,
                audit_log_limit,
                audit_log_keeps_the_newest_entries,
                global_config_defaults_to_off,
                global_config_round_trips_through_the_sentinel,
                stored_names_round_trip,
                watch_reports_other_writers,
                claim_once_has_one_winner,
            );
        }
    };
    (@checks $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let fx = $make().await;
                fx.backend.startup().await.unwrap();
                fx.other.startup().await.unwrap();
                suite::$check(&fx).await;
                fx.backend.shutdown().await.unwrap();
                fx.other.shutdown().await.unwrap();
                #[cfg(feature = "redis")]
                if let Some(prefix) = &fx.redis_prefix {
                    test_redis::delete_prefix(prefix).await;
                }
            }
        )*
    };
}

conformance!(memory_backend, memory);
#[cfg(feature = "file")]
conformance!(file_backend, file);
#[cfg(feature = "redis")]
conformance!(redis_backend, redis);

/// The file backend's own guarantees.
#[cfg(feature = "file")]
mod file {
    use super::*;
    use std::path::{Path, PathBuf};

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waygate-state.json");
        (dir, path)
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn assert_corrupt(error: &BackendError, path: &Path, problem: &str) {
        match error {
            BackendError::Corrupt { location, message } => {
                assert_eq!(location, &path.display().to_string());
                assert!(message.contains(problem), "{message}");
                assert!(message.contains("line"), "no position in {message:?}");
            }
            other => panic!("expected a corrupt-file error, got {other:?}"),
        }
        let text = error.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
    }

    #[tokio::test]
    async fn missing_file_is_empty_until_the_first_write_creates_it() {
        let (dir, _) = temp();
        let path = dir.path().join("nested/deeper/state.json");
        let backend = FileBackend::open(&path).unwrap();
        assert!(backend.list_states().await.unwrap().is_empty());
        assert!(!path.exists());
        backend
            .set_state(&state("GET:/x", RouteStatus::Active))
            .await
            .unwrap();
        let document: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(document["states"]["GET:/x"]["status"], "active");
        assert_eq!(document["audit"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn data_persists_between_instances() {
        let (_dir, path) = temp();
        let first = FileBackend::open(&path).unwrap();
        first
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();
        first.write_audit(&audit("GET:/x", 1)).await.unwrap();
        first
            .set_global_config(&GlobalMaintenanceConfig::enabled(""))
            .await
            .unwrap();
        drop(first);

        let second = FileBackend::open(&path).unwrap();
        assert_eq!(
            second.get_state("GET:/x").await.unwrap(),
            Some(state("GET:/x", RouteStatus::Disabled))
        );
        assert_eq!(
            ids(&second.audit_log(&AuditQuery::default()).await.unwrap()),
            ["entry-1"]
        );
        assert!(second.global_config().await.unwrap().enabled);
    }

    #[tokio::test]
    async fn a_second_instance_sees_writes_through_watch() {
        let (_dir, path) = temp();
        let writer = FileBackend::open(&path).unwrap();
        let reader = FileBackend::open(&path)
            .unwrap()
            .with_poll_interval(Duration::from_millis(10));
        reader.startup().await.unwrap();
        let mut changes = reader.watch().unwrap();

        for (n, status) in [RouteStatus::Disabled, RouteStatus::Maintenance]
            .into_iter()
            .enumerate()
        {
            changes.borrow_and_update();
            writer.set_state(&state("GET:/x", status)).await.unwrap();
            tokio::time::timeout(PATIENCE, changes.changed())
                .await
                .unwrap_or_else(|_| panic!("change {n} was not noticed"))
                .unwrap();
            assert_eq!(
                reader.get_state("GET:/x").await.unwrap().unwrap().status,
                status
            );
        }
        reader.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn reads_pick_up_external_changes_without_the_poll() {
        let (_dir, path) = temp();
        let writer = FileBackend::open(&path).unwrap();
        let reader = FileBackend::open(&path).unwrap();
        let mut changes = reader.watch().unwrap();
        assert!(reader.list_states().await.unwrap().is_empty());

        writer
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();
        let listed = reader.list_states().await.unwrap();
        assert_eq!(listed, vec![state("GET:/x", RouteStatus::Disabled)]);
        assert!(
            changes.has_changed().unwrap(),
            "an external change must move watch"
        );
        changes.borrow_and_update();

        writer.delete_state("GET:/x").await.unwrap();
        assert_eq!(reader.get_state("GET:/x").await.unwrap(), None);
        assert!(changes.has_changed().unwrap());
    }

    #[tokio::test]
    async fn own_writes_do_not_move_watch() {
        let (_dir, path) = temp();
        let backend = FileBackend::open(&path).unwrap();
        let changes = backend.watch().unwrap();
        backend
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();
        backend.write_audit(&audit("GET:/x", 1)).await.unwrap();
        backend.delete_state("GET:/x").await.unwrap();
        // Reads look at the file again; the instance must recognise its own writes.
        backend.list_states().await.unwrap();
        backend.audit_log(&AuditQuery::default()).await.unwrap();
        assert!(!changes.has_changed().unwrap());
    }

    #[tokio::test]
    async fn writes_leave_no_temp_files_behind() {
        let (dir, path) = temp();
        let backend = FileBackend::open(&path).unwrap();
        for n in 0..5 {
            backend
                .set_state(&state(&format!("GET:/r{n}"), RouteStatus::Active))
                .await
                .unwrap();
            backend.write_audit(&audit("GET:/r", n)).await.unwrap();
        }
        backend.delete_state("GET:/r0").await.unwrap();
        assert_eq!(names_in(dir.path()), ["waygate-state.json"]);
    }

    #[tokio::test]
    async fn concurrent_writes_are_all_kept() {
        let (_dir, path) = temp();
        let backend = Arc::new(FileBackend::open(&path).unwrap());
        let writes: Vec<_> = (0..20)
            .map(|n| {
                let backend = Arc::clone(&backend);
                tokio::spawn(async move {
                    let key = format!("GET:/r{n}");
                    backend
                        .set_state(&state(&key, RouteStatus::Disabled))
                        .await
                        .unwrap();
                    backend.write_audit(&audit(&key, n)).await.unwrap();
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap();
        }
        backend.shutdown().await.unwrap();

        let reopened = FileBackend::open(&path).unwrap();
        assert_eq!(reopened.list_states().await.unwrap().len(), 20);
        assert_eq!(
            reopened
                .audit_log(&AuditQuery::latest(100))
                .await
                .unwrap()
                .len(),
            20
        );
    }

    #[tokio::test]
    async fn corrupt_file_is_a_typed_error_and_is_left_alone() {
        let (_dir, path) = temp();
        let garbage = b"{\"states\": {\"GET:/x\": {\"path\": \"GET:/x\",,}}}".to_vec();
        std::fs::write(&path, &garbage).unwrap();
        let error = FileBackend::open(&path).unwrap_err();
        assert_corrupt(&error, &path, "key must be a string at line 1 column 41");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }

    #[tokio::test]
    async fn wrongly_shaped_documents_are_corrupt() {
        let (_dir, path) = temp();
        let cases: [(&[u8], &str); 4] = [
            (b"[1, 2]", "invalid type"),
            (b"{\"states\": []}", "invalid type"),
            (
                b"{\"states\": {\"GET:/x\": {\"path\": \"GET:/x\", \"status\": \"sleeping\"}}}",
                "unknown variant",
            ),
            (b"{\"audit\": [{\"id\": \"1\"}]}", "missing field"),
        ];
        for (bytes, problem) in cases {
            std::fs::write(&path, bytes).unwrap();
            let error = FileBackend::open(&path).unwrap_err();
            assert_corrupt(&error, &path, problem);
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
        }
    }

    #[tokio::test]
    async fn a_file_corrupted_later_keeps_serving_the_last_good_data_and_refuses_writes() {
        let (_dir, path) = temp();
        let backend = FileBackend::open(&path).unwrap();
        backend
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();

        let garbage = b"{ this is not json".to_vec();
        std::fs::write(&path, &garbage).unwrap();
        assert_eq!(
            backend.get_state("GET:/x").await.unwrap(),
            Some(state("GET:/x", RouteStatus::Disabled))
        );
        let error = backend
            .set_state(&state("GET:/y", RouteStatus::Active))
            .await
            .unwrap_err();
        assert_corrupt(&error, &path, "key must be a string");
        let error = backend.write_audit(&audit("GET:/y", 1)).await.unwrap_err();
        assert!(matches!(error, BackendError::Corrupt { .. }), "{error:?}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);

        // Once the file is valid again, its content is used and writes resume.
        let mut changes = backend.watch().unwrap();
        changes.borrow_and_update();
        std::fs::write(&path, br#"{"states": {}, "audit": []}"#).unwrap();
        assert_eq!(backend.get_state("GET:/x").await.unwrap(), None);
        assert!(changes.has_changed().unwrap());
        backend
            .set_state(&state("GET:/y", RouteStatus::Active))
            .await
            .unwrap();
        let reopened = FileBackend::open(&path).unwrap();
        assert_eq!(
            reopened.list_states().await.unwrap(),
            vec![state("GET:/y", RouteStatus::Active)]
        );
    }

    #[tokio::test]
    async fn the_poll_survives_a_corrupt_file() {
        let (_dir, path) = temp();
        let backend = FileBackend::open(&path)
            .unwrap()
            .with_poll_interval(Duration::from_millis(10));
        backend.startup().await.unwrap();
        let mut changes = backend.watch().unwrap();
        std::fs::write(&path, b"not json").unwrap();
        // Valid again: the poll, which saw the bad content in between or not, reports it.
        std::fs::write(
            &path,
            br#"{"states": {"GET:/x": {"path": "GET:/x", "status": "disabled"}}}"#,
        )
        .unwrap();
        tokio::time::timeout(PATIENCE, changes.changed())
            .await
            .expect("the valid file was not noticed")
            .unwrap();
        assert_eq!(
            backend.get_state("GET:/x").await.unwrap().unwrap().status,
            RouteStatus::Disabled
        );
        backend.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn unreadable_file_is_an_io_error() {
        let (_dir, path) = temp();
        std::fs::create_dir(&path).unwrap();
        match FileBackend::open(&path).unwrap_err() {
            BackendError::Io {
                action,
                path: reported,
                ..
            } => {
                assert_eq!(action, "read");
                assert_eq!(reported, path);
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_turned_unreadable_keeps_serving_and_refuses_writes() {
        let (_dir, path) = temp();
        let backend = FileBackend::open(&path).unwrap();
        backend
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(
            backend.get_state("GET:/x").await.unwrap(),
            Some(state("GET:/x", RouteStatus::Disabled))
        );
        let error = backend
            .set_state(&state("GET:/y", RouteStatus::Active))
            .await
            .unwrap_err();
        assert!(
            matches!(error, BackendError::Io { action: "read", .. }),
            "{error:?}"
        );
        assert!(path.is_dir());
    }

    #[tokio::test]
    async fn unknown_sections_survive_a_write() {
        let (_dir, path) = temp();
        let original = serde_json::json!({
            "states": {},
            "audit": [],
            "rl_hits": [{"path": "/api", "key": "1.2.3.4"}],
            "rl_policies": {"GET:/api": {"limit": "10/minute", "algorithm": "fixed_window"}},
            "rate_limits": {"counters": [1, 2, 3]},
        });
        std::fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
        let backend = FileBackend::open(&path).unwrap();
        backend
            .set_state(&state("GET:/x", RouteStatus::Disabled))
            .await
            .unwrap();
        backend.write_audit(&audit("GET:/x", 1)).await.unwrap();

        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for section in ["rl_hits", "rl_policies", "rate_limits"] {
            assert_eq!(written[section], original[section], "{section}");
        }
        assert_eq!(written["states"]["GET:/x"]["status"], "disabled");
        assert_eq!(written["audit"][0]["id"], "entry-1");
    }

    #[tokio::test]
    async fn reads_the_python_original_s_file() {
        let (_dir, path) = temp();
        let python = r#"{"states": {"/api/pay": {"path": "/api/pay", "service": null, "status": "maintenance", "reason": "Migration", "allowed_envs": [], "allowed_roles": [], "allowed_ips": [], "window": {"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T02:00:00Z", "reason": "Migration"}, "sunset_date": null, "successor_path": null, "rollout_percentage": 100, "force_active": false}}, "audit": [{"id": "a1", "timestamp": "2025-01-01T00:00:00.123456Z", "path": "/api/pay", "service": null, "action": "maintenance_on", "actor": "alice", "platform": "cli", "reason": "Migration", "previous_status": "active", "new_status": "maintenance"}], "rl_hits": [], "rl_policies": {}}"#;
        std::fs::write(&path, python).unwrap();
        let backend = FileBackend::open(&path).unwrap();
        let stored = backend.get_state("/api/pay").await.unwrap().unwrap();
        assert_eq!(stored.status, RouteStatus::Maintenance);
        assert_eq!(stored.window.unwrap().reason, "Migration");
        let log = backend.audit_log(&AuditQuery::default()).await.unwrap();
        assert_eq!(
            (log[0].actor.as_str(), log[0].new_status),
            ("alice", Some(RouteStatus::Maintenance))
        );
    }

    #[tokio::test]
    async fn empty_file_is_an_empty_state() {
        let (_dir, path) = temp();
        std::fs::write(&path, b"").unwrap();
        let backend = FileBackend::open(&path).unwrap();
        assert!(backend.list_states().await.unwrap().is_empty());
        assert!(backend
            .audit_log(&AuditQuery::default())
            .await
            .unwrap()
            .is_empty());
        backend
            .set_state(&state("GET:/x", RouteStatus::Active))
            .await
            .unwrap();
        let reopened = FileBackend::open(&path).unwrap();
        assert_eq!(reopened.list_states().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_oversized_audit_log_is_trimmed_to_the_newest_entries() {
        let (_dir, path) = temp();
        let entries: Vec<AuditEntry> = (0..AUDIT_CAPACITY + 3).map(|n| audit("/a", n)).collect();
        let document = serde_json::json!({"states": {}, "audit": entries});
        std::fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
        let backend = FileBackend::open(&path).unwrap();
        let log = backend
            .audit_log(&AuditQuery::latest(usize::MAX))
            .await
            .unwrap();
        assert_eq!(log.len(), AUDIT_CAPACITY);
        assert_eq!(log.last().unwrap().id, "entry-3");
    }
}
