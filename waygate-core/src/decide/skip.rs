//! What an adapter leaves alone: the admin mount and other skipped path prefixes.

/// The path prefixes whose requests an adapter passes through untouched: never decided,
/// counted, noted in the traffic log or registered as routes. The first is the admin's mount
/// (default `/waygate`); others are added with [`add`](Self::add).
///
/// Both adapters ask it before deciding, so a request under the admin path is served alike
/// under global maintenance whichever framework serves it (a [`RouteSlot`](crate::RouteSlot),
/// asked first, never answers for a template that
/// [may match a skipped path](Self::may_skip_template)).
///
/// ```
/// use waygate_core::SkipPaths;
///
/// let mut skip = SkipPaths::default();
/// assert!(skip.skips("/waygate/api/routes"));
/// assert!(skip.skips("/waygate"));
/// assert!(!skip.skips("/waygateway"));
/// skip.set_admin_path("admin/");
/// assert!(skip.skips("/admin/login") && !skip.skips("/waygate"));
/// skip.add("/docs");
/// assert!(skip.skips("/docs/index.html"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipPaths {
    /// The admin's mount first, then the others; each normalised (`/x`, no trailing `/`).
    prefixes: Vec<String>,
}

/// Where the admin API and dashboard are mounted unless told otherwise.
pub const DEFAULT_ADMIN_PATH: &str = "/waygate";

impl Default for SkipPaths {
    fn default() -> Self {
        Self {
            prefixes: vec![DEFAULT_ADMIN_PATH.to_owned()],
        }
    }
}

impl SkipPaths {
    /// Moves the admin's mount to `path` (`/admin`, `admin/`: the same).
    pub fn set_admin_path(&mut self, path: &str) {
        self.prefixes[0] = normalise(path);
    }

    /// Another prefix whose requests are never checked (e.g. `/docs`).
    pub fn add(&mut self, path: &str) {
        self.prefixes.push(normalise(path));
    }

    /// Whether `path` is one of the prefixes or under one. Asked on every request: inlined
    /// into the adapters.
    #[inline]
    pub fn skips(&self, path: &str) -> bool {
        let path = path.as_bytes();
        self.prefixes.iter().any(|prefix| {
            let prefix = prefix.as_bytes();
            // Most paths differ from the prefix at its second byte (the first is `/`):
            // answered before comparing whole slices.
            path.get(1) == prefix.get(1)
                && path.starts_with(prefix)
                && matches!(path.get(prefix.len()), None | Some(b'/'))
        })
    }

    /// Whether some path the route template `template` matches may be skipped: its text
    /// up to its first parameter is under a prefix, or a prefix starts with it.
    ///
    /// ```
    /// use waygate_core::SkipPaths;
    ///
    /// let skip = SkipPaths::default();
    /// assert!(!skip.may_skip_template("/items/{id}"));
    /// assert!(!skip.may_skip_template("/waygateway/{id}"));
    /// assert!(skip.may_skip_template("/waygate/api/{key}"));
    /// assert!(skip.may_skip_template("/{tenant}/api"));
    /// assert!(skip.may_skip_template("/way{rest}"));
    /// ```
    pub fn may_skip_template(&self, template: &str) -> bool {
        let literal = template.split('{').next().unwrap_or_default();
        self.prefixes.iter().any(|prefix| {
            prefix.starts_with(literal)
                || (literal.starts_with(prefix.as_str())
                    && matches!(literal.as_bytes().get(prefix.len()), None | Some(b'/')))
        })
    }
}

/// `/x`, without a trailing `/`.
fn normalise(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.starts_with('/') {
        true => trimmed.to_owned(),
        false => format!("/{trimmed}"),
    }
}
