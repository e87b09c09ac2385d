//! Path templates: waygate keys routes by axum 0.8's syntax (`/items/{id}`, catch-alls
//! `/files/{*rest}`), actix-web writes the same parameters `{id}` and tails `{rest:.*}` (or a
//! custom regex `{id:\d+}`). Both directions, without allocating for a template that has no
//! catch-all or regex.

use std::borrow::Cow;

/// The waygate template of an actix-web pattern (`HttpRequest::match_pattern`):
/// `{name:regex}` becomes `{name}`, a tail `{name:.*}` (or `{name}*`) becomes `{*name}`.
pub(crate) fn from_actix(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains([':', '*']) {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = closing_brace(after) else {
            out.push_str(&rest[open..]);
            return Cow::Owned(out);
        };
        let inner = &after[..close];
        rest = &after[close + 1..];
        let (name, regex) = inner.split_once(':').unwrap_or((inner, ""));
        let tail = regex == ".*" || regex == ".+" || rest.starts_with('*');
        if let Some(stripped) = rest.strip_prefix('*') {
            rest = stripped;
        }
        match tail {
            true => {
                out.push_str("{*");
                out.push_str(name.trim());
                out.push('}');
            }
            false => {
                out.push('{');
                out.push_str(name.trim());
                out.push('}');
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `pattern` has a parameter with a regex other than a tail's (`{id:\d+}`): its
/// waygate template (`{id}`) takes paths the pattern does not.
pub(crate) fn narrows(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = closing_brace(after) else {
            return false;
        };
        if let Some((_, regex)) = after[..close].split_once(':') {
            if regex != ".*" && regex != ".+" {
                return true;
            }
        }
        rest = &after[close + 1..];
    }
    false
}

/// The actix-web pattern of a waygate template (a `#[route]` path): `{*name}` becomes
/// `{name:.*}`; `{{` and `}}` (literal braces) have no actix-web spelling and are kept.
pub(crate) fn to_actix(template: &str) -> Cow<'_, str> {
    if !template.contains("{*") {
        return Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(template.len() + 2);
    let mut rest = template;
    while let Some(start) = rest.find("{*") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').unwrap_or(after.len());
        out.push('{');
        out.push_str(&after[..end]);
        out.push_str(":.*}");
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The index of the `}` closing a parameter (regexes may nest braces: `{id:\d{3}}`).
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_parameters_are_the_same_and_borrowed() {
        assert!(matches!(
            from_actix("/items/{id}"),
            Cow::Borrowed("/items/{id}")
        ));
        assert!(matches!(
            to_actix("/items/{id}"),
            Cow::Borrowed("/items/{id}")
        ));
    }

    #[test]
    fn regexes_and_tails_become_waygate_templates() {
        assert_eq!(from_actix(r"/items/{id:\d+}"), "/items/{id}");
        assert_eq!(from_actix(r"/x/{id:\d{3}}/y"), "/x/{id}/y");
        assert_eq!(from_actix("/files/{rest:.*}"), "/files/{*rest}");
        assert_eq!(from_actix("/files/{rest}*"), "/files/{*rest}");
    }

    #[test]
    fn regexes_narrow_and_tails_do_not() {
        assert!(narrows(r"/items/{id:\d+}"));
        assert!(narrows(r"/x/{a}/{id:\d{3}}/y"));
        assert!(!narrows("/items/{id}"));
        assert!(!narrows("/files/{rest:.*}"));
        assert!(!narrows("/files/{rest}*"));
    }

    #[test]
    fn catch_alls_become_actix_tails_and_back() {
        assert_eq!(to_actix("/files/{*rest}"), "/files/{rest:.*}");
        assert_eq!(from_actix(&to_actix("/a/{id}/{*rest}")), "/a/{id}/{*rest}");
    }
}
