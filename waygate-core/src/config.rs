//! Settings from the environment and the `.waygate` file (the Python original's
//! `make_engine`): explicit arguments beat environment variables, which beat the file, which
//! beats the defaults.

use crate::backend::{Backend, BackendError, MemoryBackend};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

pub(crate) const DEFAULT_ENV: &str = "dev";
const DEFAULT_FILE_PATH: &str = "waygate-state.json";
/// The Python original's default.
const DEFAULT_REDIS_URL: &str = "redis://localhost:6379/0";
const CONFIG_FILE_NAME: &str = ".waygate";

/// A built-in backend, as named by `WAYGATE_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// [`MemoryBackend`].
    Memory,
    /// `FileBackend` (needs the `file` feature).
    File,
    /// `RedisBackend` (needs the `redis` feature), at `WAYGATE_REDIS_URL`.
    Redis,
}

impl FromStr for BackendKind {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "memory" => Ok(Self::Memory),
            "file" => Ok(Self::File),
            "redis" => Ok(Self::Redis),
            _ => Err(ConfigError::UnknownBackend {
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::File => "file",
            Self::Redis => "redis",
        })
    }
}

/// The configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `WAYGATE_BACKEND` (or the file) names no known backend.
    #[error("unknown backend `{value}`; expected one of `memory`, `file`, `redis`")]
    UnknownBackend {
        /// The value given.
        value: String,
    },
    /// A line of the `.waygate` file is not `KEY=value`, a comment or blank.
    #[error("{}:{line}: expected `KEY=value`, found `{text}`", file.display())]
    MalformedLine {
        /// The file.
        file: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// The `.waygate` file exists but cannot be read.
    #[error("cannot read {}: {source}", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The backend needs a cargo feature this build does not have.
    #[error("the `{backend}` backend needs waygate's `{feature}` cargo feature")]
    FeatureDisabled {
        /// The backend.
        backend: BackendKind,
        /// The feature to enable.
        feature: &'static str,
    },
    /// The backend could not be opened.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Settings given explicitly; `None` = look further.
#[derive(Debug, Default, Clone)]
pub(crate) struct Settings {
    pub(crate) backend: Option<BackendKind>,
    pub(crate) file_path: Option<PathBuf>,
    pub(crate) redis_url: Option<String>,
    pub(crate) env: Option<String>,
    pub(crate) config_file: Option<PathBuf>,
}

/// Settings with every value decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) backend: BackendKind,
    pub(crate) file_path: PathBuf,
    pub(crate) redis_url: String,
    pub(crate) env: String,
}

impl Resolved {
    pub(crate) fn backend(&self) -> Result<Arc<dyn Backend>, ConfigError> {
        match self.backend {
            BackendKind::Memory => Ok(Arc::new(MemoryBackend::new())),
            #[cfg(feature = "file")]
            BackendKind::File => Ok(Arc::new(crate::backend::FileBackend::open(
                &self.file_path,
            )?)),
            #[cfg(not(feature = "file"))]
            BackendKind::File => Err(ConfigError::FeatureDisabled {
                backend: BackendKind::File,
                feature: "file",
            }),
            #[cfg(feature = "redis")]
            BackendKind::Redis => Ok(Arc::new(crate::backend::RedisBackend::new(
                &self.redis_url,
            )?)),
            #[cfg(not(feature = "redis"))]
            BackendKind::Redis => Err(ConfigError::FeatureDisabled {
                backend: BackendKind::Redis,
                feature: "redis",
            }),
        }
    }
}

/// Decides every setting: explicit, else the variable `var` gives (empty = unset), else the
/// config file, else the default.
pub(crate) fn resolve(
    explicit: Settings,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ConfigError> {
    let file = match &explicit.config_file {
        Some(path) => read_config(path)?,
        None => match find_config(&std::env::current_dir().unwrap_or_default()) {
            Some(path) => read_config(&path)?,
            None => Vec::new(),
        },
    };
    let lookup = |name: &str| {
        var(name)
            .filter(|v| !v.is_empty())
            .or_else(|| file.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    let backend = match explicit.backend {
        Some(kind) => kind,
        None => lookup("WAYGATE_BACKEND")
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(BackendKind::Memory),
    };
    Ok(Resolved {
        backend,
        file_path: explicit
            .file_path
            .or_else(|| lookup("WAYGATE_FILE_PATH").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE_PATH)),
        redis_url: explicit
            .redis_url
            .or_else(|| lookup("WAYGATE_REDIS_URL"))
            .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
        env: explicit
            .env
            .or_else(|| lookup("WAYGATE_ENV"))
            .unwrap_or_else(|| DEFAULT_ENV.to_owned()),
    })
}

/// The first `.waygate` in `dir` or one of its parents.
pub(crate) fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(CONFIG_FILE_NAME))
        .find(|p| p.is_file())
}

/// Parses a `.waygate` file: `KEY=value` lines, `#` comments and blank lines; values may be
/// quoted.
pub(crate) fn read_config(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        file: path.to_owned(),
        source,
    })?;
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| {
            let malformed = || ConfigError::MalformedLine {
                file: path.to_owned(),
                line: number,
                text: line.to_owned(),
            };
            let (key, value) = line.split_once('=').ok_or_else(malformed)?;
            let key = key.trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(malformed());
            }
            Ok((key.to_owned(), unquote(value.trim()).to_owned()))
        })
        .collect()
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn with_file(text: &str) -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".waygate");
        std::fs::write(&path, text).unwrap();
        let settings = Settings {
            config_file: Some(path),
            ..Settings::default()
        };
        (dir, settings)
    }

    #[test]
    fn defaults_are_memory_and_dev() {
        let (_dir, settings) = with_file("");
        let resolved = resolve(settings, &vars(&[])).unwrap();
        assert_eq!(resolved.backend, BackendKind::Memory);
        assert_eq!(resolved.env, "dev");
        assert_eq!(resolved.file_path, PathBuf::from("waygate-state.json"));
    }

    #[test]
    fn explicit_beats_env_beats_file() {
        let (_dir, settings) = with_file("WAYGATE_ENV=staging\nWAYGATE_BACKEND=file\n");
        let resolved = resolve(settings.clone(), &vars(&[])).unwrap();
        assert_eq!(
            (resolved.env.as_str(), resolved.backend),
            ("staging", BackendKind::File)
        );

        let resolved = resolve(settings.clone(), &vars(&[("WAYGATE_ENV", "production")])).unwrap();
        assert_eq!(resolved.env, "production");

        let explicit = Settings {
            env: Some("test".into()),
            ..settings
        };
        let resolved = resolve(explicit, &vars(&[("WAYGATE_ENV", "production")])).unwrap();
        assert_eq!(resolved.env, "test");
    }

    #[test]
    fn empty_variable_counts_as_unset() {
        let (_dir, settings) = with_file("WAYGATE_ENV=staging\n");
        let resolved = resolve(settings, &vars(&[("WAYGATE_ENV", "")])).unwrap();
        assert_eq!(resolved.env, "staging");
    }

    #[test]
    fn comments_blank_lines_and_quotes() {
        let (_dir, settings) = with_file(
            "# a comment\n\n  WAYGATE_FILE_PATH = \"/tmp/state.json\"  \nWAYGATE_ENV='qa'\n",
        );
        let resolved = resolve(settings, &vars(&[])).unwrap();
        assert_eq!(resolved.file_path, PathBuf::from("/tmp/state.json"));
        assert_eq!(resolved.env, "qa");
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let (_dir, settings) = with_file("WAYGATE_ENV=dev\nthis is not a setting\n");
        let error = resolve(settings, &vars(&[])).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, ConfigError::MalformedLine { line: 2, .. }),
            "{message}"
        );
        assert!(message.contains(".waygate:2") && message.contains("this is not a setting"));
    }

    #[test]
    fn redis_backend_and_url_come_from_the_environment() {
        let (_dir, settings) = with_file("WAYGATE_REDIS_URL=redis://from-file:6379/1\n");
        let resolved = resolve(settings.clone(), &vars(&[("WAYGATE_BACKEND", "Redis")])).unwrap();
        assert_eq!(resolved.backend, BackendKind::Redis);
        assert_eq!(resolved.redis_url, "redis://from-file:6379/1");
        let vars = vars(&[
            ("WAYGATE_BACKEND", "redis"),
            ("WAYGATE_REDIS_URL", "redis://from-env:6380/2"),
        ]);
        let resolved = resolve(settings, &vars).unwrap();
        assert_eq!(resolved.redis_url, "redis://from-env:6380/2");
        let backend = resolved.backend();
        #[cfg(feature = "redis")]
        assert!(format!("{:?}", backend.unwrap()).contains("from-env:6380"));
        #[cfg(not(feature = "redis"))]
        assert!(matches!(
            backend,
            Err(ConfigError::FeatureDisabled {
                feature: "redis",
                ..
            })
        ));
    }

    #[test]
    fn unknown_backend_lists_the_valid_ones() {
        let (_dir, settings) = with_file("");
        let error = resolve(settings, &vars(&[("WAYGATE_BACKEND", "mongo")])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown backend `mongo`; expected one of `memory`, `file`, `redis`"
        );
    }

    #[test]
    fn backend_names_are_case_insensitive() {
        assert_eq!("FILE".parse::<BackendKind>().unwrap(), BackendKind::File);
        assert_eq!(
            " Memory ".parse::<BackendKind>().unwrap(),
            BackendKind::Memory
        );
    }

    #[test]
    fn config_file_is_found_in_a_parent_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".waygate"), "WAYGATE_ENV=x\n").unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_config(&nested), Some(dir.path().join(".waygate")));
    }
}
