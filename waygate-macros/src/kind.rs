//! The attributes this crate defines, and how to recognise them on an item.

use syn::{Attribute, Path};

/// A lifecycle attribute. The order is the one conflicts are reported in: of two attributes
/// that conflict, the error sits on the later kind, whatever order they were written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Maintenance,
    Disabled,
    EnvOnly,
    DeprecatedRoute,
    RateLimit,
    Rollout,
    FeatureFlag,
    ForceActive,
}

impl Kind {
    const ALL: [Self; 8] = [
        Self::Maintenance,
        Self::Disabled,
        Self::EnvOnly,
        Self::DeprecatedRoute,
        Self::RateLimit,
        Self::Rollout,
        Self::FeatureFlag,
        Self::ForceActive,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Maintenance => "maintenance",
            Self::Disabled => "disabled",
            Self::EnvOnly => "env_only",
            Self::DeprecatedRoute => "deprecated_route",
            Self::RateLimit => "rate_limit",
            Self::Rollout => "rollout",
            Self::FeatureFlag => "feature_flag",
            Self::ForceActive => "force_active",
        }
    }

    /// The keys of its `key = value` arguments.
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Maintenance => &["reason", "start", "end", "response"],
            Self::Disabled => &["reason", "response"],
            Self::EnvOnly => &["response"],
            Self::DeprecatedRoute => &["sunset", "use_instead", "since"],
            Self::RateLimit => &[
                "algorithm",
                "key",
                "burst",
                "exempt_ips",
                "exempt_roles",
                "on_missing_key",
                "response",
            ],
            Self::Rollout => &["percent", "key", "response"],
            Self::FeatureFlag => &["response"],
            Self::ForceActive => &[],
        }
    }

    /// What goes before the `key = value` arguments, for "unknown key" errors.
    pub(crate) fn positional(self) -> Option<&'static str> {
        match self {
            Self::EnvOnly => Some(
                "environments come first, as string literals: `#[env_only(\"dev\", \"staging\")]`",
            ),
            Self::RateLimit => Some(
                "the limit comes first: `#[rate_limit(\"100/minute\", ..)]` or \
                 `#[rate_limit({ free = \"10/minute\", pro = \"100/minute\" }, ..)]`",
            ),
            Self::Rollout => Some("the share is given by key: `#[rollout(percent = 25)]`"),
            Self::FeatureFlag => Some(
                "the flag comes first: `#[feature_flag(NEW_CHECKOUT)]` (a declared `BoolFlag`) \
                 or `#[feature_flag(\"new-checkout\")]`",
            ),
            _ => None,
        }
    }

    /// Whether it sets the route's initial status; a route has one.
    pub(crate) fn is_status(self) -> bool {
        !matches!(
            self,
            Self::RateLimit | Self::Rollout | Self::FeatureFlag | Self::ForceActive
        )
    }

    /// Whether two different kinds cannot sit on one route.
    pub(crate) fn conflicts_with(self, other: Self) -> bool {
        self != other
            && ((self.is_status() && other.is_status())
                || self == Self::ForceActive
                || other == Self::ForceActive)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// One of our attributes, found on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ours {
    Route,
    Lifecycle(Kind),
}

/// Recognises `x`, `waygate::x` and `::waygate::x` for each of our attribute names `x`.
pub(crate) fn classify(attr: &Attribute) -> Option<Ours> {
    let name = waygate_name(attr.path())?;
    if name == "route" {
        Some(Ours::Route)
    } else {
        Kind::from_name(&name).map(Ours::Lifecycle)
    }
}

fn waygate_name(path: &Path) -> Option<String> {
    if path.segments.iter().any(|s| !s.arguments.is_none()) {
        return None;
    }
    let segments: Vec<_> = path.segments.iter().map(|s| &s.ident).collect();
    match segments.as_slice() {
        [name] if path.leading_colon.is_none() => Some(name.to_string()),
        [krate, name] if *krate == "waygate" => Some(name.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn found(attr: Attribute) -> Option<Ours> {
        classify(&attr)
    }

    #[test]
    fn recognises_our_paths_only() {
        assert_eq!(found(parse_quote!(#[route(GET, "/")])), Some(Ours::Route));
        assert_eq!(
            found(parse_quote!(#[waygate::maintenance])),
            Some(Ours::Lifecycle(Kind::Maintenance))
        );
        assert_eq!(
            found(parse_quote!(#[::waygate::rate_limit("1/second")])),
            Some(Ours::Lifecycle(Kind::RateLimit))
        );
        assert_eq!(found(parse_quote!(#[other::disabled])), None);
        assert_eq!(found(parse_quote!(#[::disabled])), None);
        assert_eq!(found(parse_quote!(#[doc = "x"])), None);
        assert_eq!(found(parse_quote!(#[deprecated])), None);
    }

    #[test]
    fn conflicts() {
        use Kind::*;
        assert!(Maintenance.conflicts_with(Disabled));
        assert!(EnvOnly.conflicts_with(DeprecatedRoute));
        assert!(ForceActive.conflicts_with(RateLimit));
        assert!(Maintenance.conflicts_with(ForceActive));
        assert!(!Maintenance.conflicts_with(RateLimit));
        assert!(!DeprecatedRoute.conflicts_with(RateLimit));
        assert!(Rollout.conflicts_with(ForceActive));
        assert!(!Rollout.conflicts_with(EnvOnly));
        assert!(!Rollout.conflicts_with(RateLimit));
        assert!(!Maintenance.conflicts_with(Maintenance));
    }
}
