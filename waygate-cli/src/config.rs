//! The user config file and the server URL, found exactly as the Python CLI finds them, so
//! that either CLI can be used on the same machine:
//!
//! 1. `WAYGATE_SERVER_URL` in the environment;
//! 2. a `WAYGATE_SERVER_URL=` line in the nearest `.waygate` file, walking up from the
//!    working directory;
//! 3. `server_url` in `~/.waygate/config.json` (Windows:
//!    `%USERPROFILE%\AppData\Local\waygate\config.json`);
//! 4. `http://localhost:8000/waygate`.
//!
//! The file is `{"server_url": "..", "auth": {"token", "username", "expires_at"}}`, written
//! with an indent of 2; keys this CLI does not know are kept.

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// The URL used when nothing else names one.
pub(crate) const DEFAULT_SERVER_URL: &str = "http://localhost:8000/waygate";
/// The environment variable naming the server URL (also read from `.waygate`).
pub(crate) const SERVER_URL_VAR: &str = "WAYGATE_SERVER_URL";

/// Where the server URL in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `WAYGATE_SERVER_URL`.
    Env,
    /// A `.waygate` file.
    ProjectFile(PathBuf),
    /// The user config file.
    ConfigFile(PathBuf),
    /// Nothing named one.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Python CLI's wording, so `config show` reads the same in both.
        match self {
            Source::Env => write!(f, "env {SERVER_URL_VAR}"),
            Source::ProjectFile(path) => write!(f, ".waygate ({})", path.display()),
            Source::ConfigFile(path) => write!(f, "{}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The stored login.
#[derive(Clone)]
pub(crate) struct Login {
    /// The opaque token.
    pub(crate) token: String,
    /// Who logged in.
    pub(crate) username: String,
    /// When the token expires, as the server wrote it.
    pub(crate) expires_at: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("Login")
            .field("token", &"..")
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Login {
    /// The expiry, if it parses (naive times are UTC, as in the Python CLI).
    pub(crate) fn expiry(&self) -> Option<DateTime<Utc>> {
        parse_expiry(&self.expires_at)
    }

    /// Whether the token is past its expiry. An unparsable expiry counts as valid (the
    /// server decides), as in the Python CLI.
    pub(crate) fn expired(&self) -> bool {
        self.expiry().is_some_and(|at| at <= Utc::now())
    }
}

/// The user config file, loaded.
pub(crate) struct Config {
    path: PathBuf,
    data: Map<String, Value>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The data holds the token.
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("server_url", &self.server_url())
            .field("login", &self.login())
            .finish()
    }
}

impl Config {
    /// Loads the config file; a missing file is an empty config.
    pub(crate) fn load() -> Result<Self> {
        let path = config_path()?;
        let data = match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(config_error(&path, "not a JSON object")),
                Err(e) => return Err(config_error(&path, format!("not valid JSON ({e})"))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(config_error(&path, e)),
        };
        Ok(Self { path, data })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// `server_url`, without a trailing `/`, if set.
    pub(crate) fn server_url(&self) -> Option<String> {
        self.data
            .get("server_url")
            .and_then(Value::as_str)
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
    }

    /// Stores `server_url`.
    pub(crate) fn set_server_url(&mut self, url: &str) {
        self.data.insert(
            "server_url".to_owned(),
            Value::String(url.trim_end_matches('/').to_owned()),
        );
    }

    /// The stored login, if any (expired or not).
    pub(crate) fn login(&self) -> Option<Login> {
        let auth = self.data.get("auth")?.as_object()?;
        let text = |key: &str| {
            auth.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let login = Login {
            token: text("token"),
            username: text("username"),
            expires_at: text("expires_at"),
        };
        (!login.token.is_empty()).then_some(login)
    }

    /// The token to send: the stored one while it has not expired.
    pub(crate) fn valid_token(&self) -> Option<String> {
        self.login()
            .filter(|login| !login.expired())
            .map(|login| login.token)
    }

    /// Stores a login.
    pub(crate) fn set_login(&mut self, login: &Login) {
        self.data.insert(
            "auth".to_owned(),
            json!({
                "token": login.token,
                "username": login.username,
                "expires_at": login.expires_at,
            }),
        );
    }

    /// Forgets the login.
    pub(crate) fn clear_login(&mut self) {
        self.data.remove("auth");
    }

    /// Writes the file: to a temporary file beside it, then renamed over it, so that a
    /// failure loses nothing. On Unix the file is readable by its owner only (it holds a
    /// token).
    pub(crate) fn save(&self) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| config_error(dir, e))?;
        let mut text = serde_json::to_string_pretty(&Value::Object(self.data.clone()))
            .map_err(|e| config_error(&self.path, e))?;
        text.push('\n');
        let tmp = self.path.with_extension("json.tmp");
        write_private(&tmp, text.as_bytes()).map_err(|e| config_error(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            config_error(&self.path, e)
        })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn config_error(path: &Path, reason: impl ToString) -> Error {
    Error::Config {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// `~/.waygate/config.json`, or `%USERPROFILE%\AppData\Local\waygate\config.json` on
/// Windows (the Python CLI's locations).
pub(crate) fn config_path() -> Result<PathBuf> {
    let (var, parts): (&str, &[&str]) = if cfg!(windows) {
        ("USERPROFILE", &["AppData", "Local", "waygate"])
    } else {
        ("HOME", &[".waygate"])
    };
    let home = std::env::var_os(var)
        .filter(|home| !home.is_empty())
        .ok_or_else(|| {
            config_error(
                Path::new("config.json"),
                format!("{var} is not set, so there is no home directory to keep it in"),
            )
        })?;
    let mut path = PathBuf::from(home);
    path.extend(parts);
    path.push("config.json");
    Ok(path)
}

/// The server URL and where it came from (see the [module docs](self)).
pub(crate) fn server_url(config: &Config) -> (String, Source) {
    let clean = |url: &str| url.trim().trim_end_matches('/').to_owned();
    if let Some(url) = std::env::var(SERVER_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        return (clean(&url), Source::Env);
    }
    if let Some((file, url)) = std::env::current_dir()
        .ok()
        .and_then(|dir| project_file(&dir))
        .and_then(|file| project_url(&file).map(|url| (file, url)))
    {
        return (clean(&url), Source::ProjectFile(file));
    }
    if let Some(url) = config.server_url() {
        return (url, Source::ConfigFile(config.path().to_owned()));
    }
    (DEFAULT_SERVER_URL.to_owned(), Source::Default)
}

/// The nearest `.waygate` file at or above `dir`.
fn project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|dir| dir.join(".waygate"))
        .find(|file| file.is_file())
}

/// The non-empty `WAYGATE_SERVER_URL` of a `.waygate` file: `KEY=value` lines, `#`
/// comments. Surrounding quotes are stripped, as waygate's own config parser does (the
/// Python CLI keeps them, which makes a quoted URL unusable there).
fn project_url(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| key.trim() == SERVER_URL_VAR)
        .map(|(_, value)| unquote(value.trim()).to_owned())
        .next_back()
        .filter(|url| !url.trim().is_empty())
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// An `expires_at` as servers write it: RFC 3339 (`+00:00` or `Z`), or naive (UTC).
fn parse_expiry(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let login = Login {
            token: "secret-token".to_owned(),
            username: "admin".to_owned(),
            expires_at: "2099-01-01T00:00:00Z".to_owned(),
        };
        let mut config = Config {
            path: PathBuf::from("config.json"),
            data: Map::new(),
        };
        config.set_login(&login);
        let shown = format!("{login:?} {config:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("admin"), "{shown}");
    }

    #[test]
    fn quotes_are_stripped_in_pairs_only() {
        assert_eq!(unquote("\"http://a\""), "http://a");
        assert_eq!(unquote("'http://a'"), "http://a");
        assert_eq!(unquote("\"http://a"), "\"http://a");
        assert_eq!(unquote("http://a"), "http://a");
    }

    #[test]
    fn expiry_formats_of_both_servers_parse() {
        let python = parse_expiry("2026-12-02T18:29:11.496991+00:00").unwrap();
        assert_eq!(python.to_rfc3339(), "2026-12-02T18:29:11.496991+00:00");
        assert!(parse_expiry("2026-12-02T18:29:11Z").is_some());
        let naive = parse_expiry("2026-12-02T18:29:11").unwrap();
        assert_eq!(naive.to_rfc3339(), "2026-12-02T18:29:11+00:00");
        assert_eq!(parse_expiry("tomorrow"), None);
    }

    #[test]
    fn the_last_server_url_line_of_a_project_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".waygate");
        std::fs::write(
            &file,
            "# comment\nWAYGATE_ENV=dev\nnot a pair\nWAYGATE_SERVER_URL = \"http://a/waygate\"\n",
        )
        .unwrap();
        assert_eq!(project_url(&file).as_deref(), Some("http://a/waygate"));
        let nested = dir.path().join("x/y");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(project_file(&nested), Some(file));
    }
}
