//! Configuring an engine from `WAYGATE_*` environment variables and the `.waygate` file:
//! explicit settings beat the environment, which beats the file, which beats the defaults
//! (memory backend, env `dev`).
//!
//! Environment variables and the working directory are process-wide, so every test here
//! holds [`Env`] (a lock, with the variables cleared and the working directory moved to an
//! empty temp directory) and everything is restored when it ends.

use std::ffi::OsString;
#[cfg(feature = "file")]
use std::path::Path;
use std::path::PathBuf;
#[cfg(feature = "file")]
use waygate_core::backend::BackendError;
use waygate_core::{ConfigError, Engine};
#[cfg(feature = "file")]
use waygate_core::{RouteState, RouteStatus};

const VARS: [&str; 3] = ["WAYGATE_BACKEND", "WAYGATE_FILE_PATH", "WAYGATE_ENV"];

static ENV_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Exclusive use of the process environment for one test.
struct Env {
    dir: tempfile::TempDir,
    saved: Vec<(&'static str, Option<OsString>)>,
    cwd: PathBuf,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

impl Env {
    async fn take() -> Self {
        let lock = ENV_LOCK.lock().await;
        let saved = VARS
            .iter()
            .map(|&name| (name, std::env::var_os(name)))
            .collect();
        for name in VARS {
            std::env::remove_var(name);
        }
        let cwd = std::env::current_dir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::env::set_current_dir(dir.path()).unwrap();
        Self {
            dir,
            saved,
            cwd,
            _lock: lock,
        }
    }

    fn set(&self, name: &str, value: impl AsRef<std::ffi::OsStr>) {
        assert!(
            VARS.contains(&name),
            "{name} is not restored after the test"
        );
        std::env::set_var(name, value);
    }

    /// A path in the test's temp directory.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a config file in the temp directory and returns its path.
    fn config(&self, text: &str) -> PathBuf {
        let path = self.path("custom.waygate");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for (name, value) in &self.saved {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
        // Best effort: failing here would hide the test's own failure.
        let _ = std::env::set_current_dir(&self.cwd);
    }
}

fn backend_kind(engine: &Engine) -> String {
    let debug = format!("{:?}", engine.backend());
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Checks that `engine` stores state in the file at `path`.
#[cfg(feature = "file")]
async fn assert_file_backend(engine: &Engine, path: &Path) {
    assert_eq!(backend_kind(engine), "FileBackend");
    engine
        .backend()
        .set_state(&RouteState::active("GET:/probe"))
        .await
        .unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(document["states"]["GET:/probe"]["status"], "active");
}

#[tokio::test]
async fn defaults_are_the_memory_backend_and_env_dev() {
    let _env = Env::take().await;
    let engine = Engine::from_env().unwrap();
    assert_eq!(backend_kind(&engine), "MemoryBackend");
    assert_eq!(engine.current_env(), "dev");
}

#[cfg(feature = "file")]
#[tokio::test]
async fn file_backend_from_builder_arguments() {
    let env = Env::take().await;
    let state = env.path("state.json");
    let engine = Engine::builder()
        .backend_kind(waygate_core::BackendKind::File)
        .file_path(&state)
        .build_from_env()
        .unwrap();
    assert_file_backend(&engine, &state).await;
}

#[cfg(feature = "file")]
#[tokio::test]
async fn file_backend_from_environment_variables() {
    let env = Env::take().await;
    let state = env.path("state.json");
    env.set("WAYGATE_BACKEND", "file");
    env.set("WAYGATE_FILE_PATH", &state);
    let engine = Engine::from_env().unwrap();
    assert_file_backend(&engine, &state).await;
}

#[cfg(feature = "file")]
#[tokio::test]
async fn file_backend_from_a_given_config_file() {
    let env = Env::take().await;
    let state = env.path("state.json");
    let config = env.config(&format!(
        "WAYGATE_BACKEND=file\nWAYGATE_FILE_PATH={}\n",
        state.display()
    ));
    let engine = Engine::builder()
        .config_file(config)
        .build_from_env()
        .unwrap();
    assert_file_backend(&engine, &state).await;
}

#[cfg(feature = "file")]
#[tokio::test]
async fn dot_waygate_is_found_from_the_working_directory_upwards() {
    let env = Env::take().await;
    let state = env.path("state.json");
    std::fs::write(
        env.path(".waygate"),
        format!(
            "WAYGATE_BACKEND=file\nWAYGATE_FILE_PATH=\"{}\"\nWAYGATE_ENV=staging\n",
            state.display()
        ),
    )
    .unwrap();
    let nested = env.path("app/src");
    std::fs::create_dir_all(&nested).unwrap();
    std::env::set_current_dir(&nested).unwrap();

    let engine = Engine::from_env().unwrap();
    assert_eq!(engine.current_env(), "staging");
    assert_file_backend(&engine, &state).await;
}

#[tokio::test]
async fn environment_variables_beat_the_file() {
    let env = Env::take().await;
    let config = env.config("WAYGATE_BACKEND=file\nWAYGATE_ENV=staging\n");
    env.set("WAYGATE_BACKEND", "memory");
    env.set("WAYGATE_ENV", "production");
    let engine = Engine::builder()
        .config_file(&config)
        .build_from_env()
        .unwrap();
    assert_eq!(backend_kind(&engine), "MemoryBackend");
    assert_eq!(engine.current_env(), "production");
}

#[tokio::test]
async fn an_empty_variable_counts_as_unset() {
    let env = Env::take().await;
    let config = env.config("WAYGATE_ENV=staging\n");
    env.set("WAYGATE_ENV", "");
    let engine = Engine::builder()
        .config_file(&config)
        .build_from_env()
        .unwrap();
    assert_eq!(engine.current_env(), "staging");
}

#[tokio::test]
async fn comments_and_blank_lines_are_ignored() {
    let env = Env::take().await;
    let config =
        env.config("# WAYGATE_BACKEND=file\n\n   # WAYGATE_ENV=production\nWAYGATE_ENV=qa\n");
    let engine = Engine::builder()
        .config_file(&config)
        .build_from_env()
        .unwrap();
    assert_eq!(backend_kind(&engine), "MemoryBackend");
    assert_eq!(engine.current_env(), "qa");
}

#[tokio::test]
async fn an_unknown_backend_is_an_error_listing_the_valid_ones() {
    let env = Env::take().await;
    env.set("WAYGATE_BACKEND", "postgres");
    let error = Engine::from_env().unwrap_err();
    assert!(
        matches!(&error, ConfigError::UnknownBackend { value } if value == "postgres"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "unknown backend `postgres`; expected one of `memory`, `file`, `redis`"
    );

    std::env::remove_var("WAYGATE_BACKEND");
    let config = env.config("WAYGATE_BACKEND=mongo\n");
    let error = Engine::builder()
        .config_file(config)
        .build_from_env()
        .unwrap_err();
    assert!(
        matches!(&error, ConfigError::UnknownBackend { value } if value == "mongo"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_malformed_line_names_the_file_and_the_line() {
    let env = Env::take().await;
    let config = env.config("WAYGATE_ENV=dev\nthis is not a setting\n");
    let error = Engine::builder()
        .config_file(&config)
        .build_from_env()
        .unwrap_err();
    match &error {
        ConfigError::MalformedLine { file, line, text } => {
            assert_eq!(
                (file, *line, text.as_str()),
                (&config, 2, "this is not a setting")
            );
        }
        other => panic!("expected a malformed line, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&format!("{}:2", config.display())),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_config_file_given_explicitly_is_an_error() {
    let env = Env::take().await;
    let missing = env.path("nowhere.waygate");
    let error = Engine::builder()
        .config_file(&missing)
        .build_from_env()
        .unwrap_err();
    assert!(
        matches!(&error, ConfigError::Unreadable { file, .. } if *file == missing),
        "{error:?}"
    );
}

#[cfg(feature = "file")]
#[tokio::test]
async fn a_corrupt_state_file_is_a_backend_error_and_is_left_alone() {
    let env = Env::take().await;
    let state = env.path("state.json");
    std::fs::write(&state, b"{\"states\": 42}").unwrap();
    env.set("WAYGATE_BACKEND", "file");
    env.set("WAYGATE_FILE_PATH", &state);
    let error = Engine::from_env().unwrap_err();
    match &error {
        ConfigError::Backend(BackendError::Corrupt { location, message }) => {
            assert_eq!(location, &state.display().to_string());
            assert!(
                message.contains("invalid type") && message.contains("line 1"),
                "{message}"
            );
        }
        other => panic!("expected a corrupt state file, got {other:?}"),
    }
    assert!(error.to_string().contains(&state.display().to_string()));
    assert_eq!(std::fs::read(&state).unwrap(), b"{\"states\": 42}");
}

#[tokio::test]
async fn env_defaults_to_dev_and_can_be_overridden() {
    let env = Env::take().await;
    assert_eq!(Engine::from_env().unwrap().current_env(), "dev");
    env.set("WAYGATE_ENV", "production");
    assert_eq!(Engine::from_env().unwrap().current_env(), "production");
    let engine = Engine::builder().env("staging").build_from_env().unwrap();
    assert_eq!(engine.current_env(), "staging");
}

/// The Python original's "CLI and app use the same file backend".
#[cfg(feature = "file")]
#[tokio::test]
async fn engines_configured_alike_share_the_state_file() {
    let env = Env::take().await;
    let state = env.path("shared.json");
    env.set("WAYGATE_BACKEND", "file");
    env.set("WAYGATE_FILE_PATH", &state);

    let app = Engine::from_env().unwrap();
    app.backend()
        .set_state(&RouteState::active("GET:/api/pay"))
        .await
        .unwrap();
    app.start().await.unwrap();
    app.disable("GET:/api/pay", "migration", "alice")
        .await
        .unwrap();
    app.shutdown().await;

    let cli = Engine::from_env().unwrap();
    cli.start().await.unwrap();
    let stored = cli.state("GET:/api/pay").unwrap();
    assert_eq!(
        (stored.status, stored.reason.as_str()),
        (RouteStatus::Disabled, "migration")
    );
    cli.shutdown().await;
}

#[cfg(not(feature = "file"))]
#[tokio::test]
async fn the_file_backend_needs_its_feature() {
    let env = Env::take().await;
    env.set("WAYGATE_BACKEND", "file");
    let error = Engine::from_env().unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::FeatureDisabled {
                feature: "file",
                ..
            }
        ),
        "{error:?}"
    );
}
