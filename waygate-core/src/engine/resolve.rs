//! Turning the key a user typed into the key a route is stored under.

use super::view::View;
use crate::EngineError;

/// Methods probed for a bare path, in the Python original's order.
const PROBED: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Resolves `key` to an existing route key:
/// an exact key wins; a bare `/path` (or `service:/path`) resolves to its single
/// method-qualified route; several matches are ambiguous; none is not found.
pub(super) fn resolve(view: &View, key: &str) -> Result<String, EngineError> {
    if view.contains(key) {
        return Ok(key.to_owned());
    }
    let (service, path) = match key.split_once(':') {
        None => (None, key),
        Some((prefix, rest)) if rest.starts_with('/') && !is_method(prefix) => (Some(prefix), rest),
        Some(_) => return Err(not_found(key)),
    };
    let matches: Vec<String> = PROBED
        .iter()
        .map(|method| match service {
            Some(service) => format!("{service}:{method}:{path}"),
            None => format!("{method}:{path}"),
        })
        .filter(|candidate| view.contains(candidate))
        .collect();
    match <[String; 1]>::try_from(matches) {
        Ok([single]) => Ok(single),
        Err(matches) if matches.is_empty() => Err(not_found(key)),
        Err(matches) => Err(EngineError::Ambiguous {
            key: key.to_owned(),
            matches,
        }),
    }
}

fn is_method(s: &str) -> bool {
    http::Method::from_bytes(s.as_bytes()).is_ok() && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn not_found(key: &str) -> EngineError {
    EngineError::NotFound {
        key: key.to_owned(),
    }
}
