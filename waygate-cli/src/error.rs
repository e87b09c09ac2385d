//! What can go wrong after the command line parsed, each with the exit code and the hint
//! the user sees.

use std::path::PathBuf;

/// The exit code of a refused or failed action (not found, ambiguous, protected, auth,
/// server unreachable).
pub(crate) const EXIT_REFUSED: u8 = 1;
/// The exit code of a usage error (clap's own, and ours after parsing).
pub(crate) const EXIT_USAGE: u8 = 2;

/// A failed command. `Display` is the one-line message; [`hint`](Error::hint) says what to
/// do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// The arguments parsed but make no sense together.
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error status.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The body's `error`, or `HTTP <status>`.
        message: String,
        /// What the user should do about it.
        hint: Option<String>,
    },
    /// A bare path matched several routes and the user did not pick (or confirm) them.
    #[error("{route} matches {} routes: {}", matches.len(), matches.join(", "))]
    Ambiguous {
        /// The route as given.
        route: String,
        /// The method keys it matched.
        matches: Vec<String>,
        /// The command, to write the hint with (`disable`).
        command: String,
    },
    /// No answer from the server.
    #[error("cannot reach the waygate server at {url}: {reason}")]
    Unreachable {
        /// The server URL in use.
        url: String,
        /// The innermost cause (`Connection refused (os error 111)`).
        reason: String,
    },
    /// The server answered something that is not the admin API's JSON.
    #[error("unexpected answer from {url}: {detail}")]
    BadResponse {
        /// The request's URL.
        url: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The config file could not be read or written.
    #[error("config file {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Reading the user's input (a prompt, stdin) failed.
    #[error("{0}")]
    Input(String),
}

impl Error {
    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            _ => EXIT_REFUSED,
        }
    }

    /// What to do next, if there is something to say.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Error::Api { hint, .. } => hint.clone(),
            Error::Ambiguous {
                matches, command, ..
            } => Some(format!(
                "name one of them, e.g. `waygate {command} {}`",
                matches.first().map(String::as_str).unwrap_or("GET:/path")
            )),
            Error::Unreachable { .. } => Some(
                "is the server running? Check the URL with `waygate config show`, set it with \
                 `waygate config set-url http://host:port/waygate`"
                    .to_owned(),
            ),
            Error::BadResponse { .. } => Some(
                "the server URL must be where the waygate admin is mounted, e.g. \
                 http://host:8000/waygate (see `waygate config show`)"
                    .to_owned(),
            ),
            Error::Config { .. } => Some(
                "fix or remove the file; `waygate config set-url` and `waygate login` \
                 write a new one"
                    .to_owned(),
            ),
            Error::Usage(_) => Some("see `waygate --help`".to_owned()),
            Error::Input(_) => {
                Some("in scripts, pass the password with --password-stdin".to_owned())
            }
        }
    }
}

/// The result of a command.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
