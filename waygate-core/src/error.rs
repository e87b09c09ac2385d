//! The errors of the engine's public API.

use crate::backend::BackendError;

/// A mutation or query through the [`Engine`](crate::Engine) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No route is registered under the key (nor, for a bare path, under any method).
    #[error("route `{key}` not found; list routes to see the registered keys")]
    NotFound {
        /// The key as given.
        key: String,
    },
    /// A bare path matches several method-qualified routes.
    #[error("route `{key}` is ambiguous: it matches {}; name one of them", matches.join(", "))]
    Ambiguous {
        /// The key as given.
        key: String,
        /// The keys it matches.
        matches: Vec<String>,
    },
    /// The route is `#[force_active]`: its state cannot be changed.
    #[error("route `{key}` is force-active; its state cannot be changed")]
    Protected {
        /// The resolved key.
        key: String,
    },
    /// An argument was rejected.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which argument.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The backend failed; nothing was changed.
    #[error("backend error: {0}")]
    Backend(#[from] BackendError),
}

impl EngineError {
    /// An [`Invalid`](Self::Invalid) argument.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}
