//! Key and channel names: the Python original's (`waygate:state:{key}`, `waygate:audit`, ...)
//! under a configurable prefix (`waygate:` by default).

/// Every key and channel the backend uses, under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A route state (string, `RouteState` JSON).
    pub(super) fn state(&self, route: &str) -> String {
        format!("{}state:{route}", self.prefix)
    }

    /// Every key that has a state (set).
    pub(super) fn route_index(&self) -> String {
        self.key("route-index")
    }

    /// The audit log, newest first (list).
    pub(super) fn audit(&self) -> String {
        self.key("audit")
    }

    /// One route's audit log, newest first (list).
    pub(super) fn audit_of(&self, route: &str) -> String {
        format!("{}audit:path:{route}", self.prefix)
    }

    /// The blocked-request log, newest first (list).
    pub(super) fn hits(&self) -> String {
        self.key("ratelimit:hits")
    }

    /// A per-route rate-limit policy (string, policy JSON), by `METHOD:path`.
    pub(super) fn policy(&self, route: &str) -> String {
        format!("{}rlpolicy:{route}", self.prefix)
    }

    /// Every `METHOD:path` with a policy (set).
    pub(super) fn policy_index(&self) -> String {
        self.key("rl-policy-index")
    }

    /// A claimed one-off job.
    pub(super) fn claim(&self, id: &str) -> String {
        format!("{}webhook:dedup:{id}", self.prefix)
    }

    /// The counters of a rate-limit namespace start with this.
    pub(super) fn counters_of(&self, namespace: &str) -> String {
        format!("{}ratelimit:{namespace}|", self.prefix)
    }

    /// Published with the state JSON on every `set_state`.
    pub(super) fn changes_channel(&self) -> String {
        self.key("changes")
    }

    /// Published with the key on every `delete_state` (the Python original publishes none).
    pub(super) fn deletions_channel(&self) -> String {
        self.key("deletions")
    }

    /// Published (`1`) when global maintenance changes.
    pub(super) fn global_channel(&self) -> String {
        self.key("global_invalidate")
    }

    /// Published on every policy set or delete.
    pub(super) fn policy_channel(&self) -> String {
        self.key("rl-policy-change")
    }

    /// Every channel the backend publishes on.
    pub(super) fn channels(&self) -> [String; 4] {
        [
            self.changes_channel(),
            self.deletions_channel(),
            self.global_channel(),
            self.policy_channel(),
        ]
    }
}

/// `text` with the glob characters of `SCAN MATCH` escaped.
pub(super) fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_python_original_s_under_the_prefix() {
        let keys = Keys::new("waygate:");
        assert_eq!(keys.state("GET:/x"), "waygate:state:GET:/x");
        assert_eq!(keys.route_index(), "waygate:route-index");
        assert_eq!(keys.audit(), "waygate:audit");
        assert_eq!(keys.audit_of("GET:/x"), "waygate:audit:path:GET:/x");
        assert_eq!(keys.hits(), "waygate:ratelimit:hits");
        assert_eq!(keys.policy("GET:/x"), "waygate:rlpolicy:GET:/x");
        assert_eq!(keys.policy_index(), "waygate:rl-policy-index");
        assert_eq!(keys.changes_channel(), "waygate:changes");
        assert_eq!(keys.global_channel(), "waygate:global_invalidate");
        assert_eq!(keys.policy_channel(), "waygate:rl-policy-change");
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("/a/{id}"), "/a/{id}");
        assert_eq!(glob_escape("/a*[b]?\\"), "/a\\*\\[b\\]\\?\\\\");
    }
}
