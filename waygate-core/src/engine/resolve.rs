//! Turning the key a user typed into the key a route is stored under.

use super::view::View;
use crate::stored::RouteKey;
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
    let bare = match RouteKey::parse(key) {
        Some(parsed) if parsed.method().is_none() => parsed,
        _ => return Err(not_found(key)),
    };
    let matches: Vec<String> = PROBED
        .iter()
        .map(|method| {
            let probed = RouteKey::new(method, bare.template());
            match bare.service() {
                Some(service) => probed.in_service(service).to_string(),
                None => probed.to_string(),
            }
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

fn not_found(key: &str) -> EngineError {
    EngineError::NotFound {
        key: key.to_owned(),
    }
}
