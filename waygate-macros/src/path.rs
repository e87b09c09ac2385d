//! Checks of a `#[route]` path template against axum 0.8's syntax: `/items/{id}`,
//! catch-alls `/files/{*rest}`, literal braces escaped as `{{` and `}}`.

/// Checks `path`; the error says what is wrong and how to write it.
pub(crate) fn check(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "route path `{path}` must start with `/`: write \"/{path}\""
        ));
    }
    if path
        .split('/')
        .any(|s| s.starts_with(':') || s.starts_with('*'))
    {
        return Err(format!(
            "route path `{path}` uses axum 0.7 parameter syntax; axum 0.8 writes \
             parameters as `{{name}}` and catch-alls as `{{*name}}`: write \"{}\"",
            modernise(path)
        ));
    }
    let segments: Vec<&str> = path.split('/').collect();
    for (index, segment) in segments.iter().enumerate() {
        let catch_all =
            parameters(segment).map_err(|problem| format!("{problem} in `{path}`; {BRACES}"))?;
        if catch_all && index + 1 != segments.len() {
            return Err(format!(
                "the catch-all in `{path}` must be the last segment, e.g. \"/files/{{*rest}}\""
            ));
        }
    }
    Ok(())
}

const BRACES: &str = "a parameter is `{name}`, a catch-all `{*name}`, and a literal brace is \
    written `{{` or `}}`";

/// Checks the braces of one segment; returns whether it holds a catch-all.
fn parameters(segment: &str) -> Result<bool, String> {
    let mut catch_all = false;
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed || name.contains('{') {
                    return Err("unbalanced `{`".to_owned());
                }
                let bare = name.strip_prefix('*').unwrap_or(&name);
                if bare.is_empty() {
                    return Err("a parameter without a name".to_owned());
                }
                catch_all |= name.starts_with('*');
            }
            '}' => return Err("unbalanced `}`".to_owned()),
            _ => {}
        }
    }
    Ok(catch_all)
}

/// Rewrites axum 0.7 segments (`:id`, `*rest`) in 0.8 syntax.
fn modernise(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                format!("{{{name}}}")
            } else if segment.starts_with('*') {
                format!("{{{segment}}}")
            } else {
                segment.to_owned()
            }
        })
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_axum_08_templates() {
        for path in [
            "/",
            "/items",
            "/items/{id}",
            "/users/{user_id}/posts/{post_id}",
            "/files/{*rest}",
            "/{{literal}}",
            "/items/{id}.json",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn requires_a_leading_slash() {
        assert_eq!(
            check("items").unwrap_err(),
            "route path `items` must start with `/`: write \"/items\""
        );
        assert!(check("").is_err());
    }

    #[test]
    fn suggests_axum_08_syntax() {
        let error = check("/items/:id/files/*rest").unwrap_err();
        assert!(
            error.ends_with("write \"/items/{id}/files/{*rest}\""),
            "{error}"
        );
    }

    #[test]
    fn finds_unbalanced_braces() {
        for path in [
            "/items/{id",
            "/items/id}",
            "/items/{{id}",
            "/a/{b{c}}",
            "/{a}{b",
        ] {
            let error = check(path).unwrap_err();
            assert!(error.starts_with("unbalanced"), "{path}: {error}");
        }
        assert!(check("/items/{}")
            .unwrap_err()
            .starts_with("a parameter without a name"));
        assert!(check("/items/{*}").is_err());
    }

    #[test]
    fn catch_all_comes_last() {
        assert!(check("/files/{*rest}/x")
            .unwrap_err()
            .starts_with("the catch-all in"));
    }
}
