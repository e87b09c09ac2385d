//! Which route template a path belongs to, for adapters whose router cannot say cheaply.
//!
//! actix-web routes by trying its resources in registration order, and a middleware that
//! runs before routing learns the matched pattern only by a second walk over them. A
//! [`PathMatcher`] answers the same question from the templates the engine knows, in a
//! radix tree (`matchit`): about what one hash lookup costs, however many routes there are.
//!
//! A radix tree prefers static segments (`/users/me` over `/users/{id}`) where actix-web
//! takes whichever was registered first, so the matcher only answers for a template no
//! other known template overlaps: a path it matches belongs to that template whichever
//! router asks. Paths of overlapping templates, of templates with a segment the tree cannot
//! express (`/files/{name}.txt`, a literal brace) and of templates the adapter
//! [excluded](crate::Engine::exclude_from_path_match) get `None`: the adapter asks its own
//! router.

use rustc_hash::FxHashMap;

/// One segment of a template, as far as overlapping goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    /// Matches exactly this text.
    Static(&'a str),
    /// Matches any one segment (a parameter, or a segment the tree cannot express).
    Any,
    /// Matches the rest of the path, one segment or more (`{*rest}`, last).
    Rest,
}

/// A template cut into segments.
struct Shape<'a> {
    segments: Vec<Segment<'a>>,
    /// Every segment is one the tree expresses exactly.
    expressible: bool,
}

impl<'a> Shape<'a> {
    fn of(template: &'a str) -> Self {
        let mut expressible = true;
        let parts: Vec<&str> = template.split('/').collect();
        let last = parts.len() - 1;
        let segments = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                if !part.contains(['{', '}']) {
                    return Segment::Static(part);
                }
                let plain_name =
                    |name: &str| !name.is_empty() && !name.contains(['{', '}', '*', ':']);
                let inner = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
                match inner.map(|inner| (inner, inner.strip_prefix('*'))) {
                    Some((_, Some(name))) if i == last && plain_name(name) => Segment::Rest,
                    Some((inner, None)) if plain_name(inner) => Segment::Any,
                    _ => {
                        // `{*rest}` before the end, a suffix or a literal brace: matched by
                        // its own router only, and treated as matching anything here.
                        expressible = false;
                        match part.contains("{*") {
                            true => Segment::Rest,
                            false => Segment::Any,
                        }
                    }
                }
            })
            .collect();
        Self {
            segments,
            expressible,
        }
    }

    fn has_rest(&self) -> bool {
        self.segments.contains(&Segment::Rest)
    }

    /// Whether some path matches both shapes.
    fn overlaps(&self, other: &Shape<'_>) -> bool {
        let (a, b) = (&self.segments, &other.segments);
        for i in 0..a.len().max(b.len()) {
            match (a.get(i), b.get(i)) {
                (Some(Segment::Rest), Some(_)) | (Some(_), Some(Segment::Rest)) => return true,
                (Some(Segment::Static(x)), Some(Segment::Static(y))) if x != y => return false,
                (Some(_), Some(_)) => {}
                // One is longer, and the shorter has no rest to take the difference.
                (None, _) | (_, None) => return false,
            }
        }
        true
    }
}

/// Shapes without a rest segment, by their segments.
#[derive(Default)]
struct Trie<'a> {
    statics: FxHashMap<&'a str, Trie<'a>>,
    any: Option<Box<Trie<'a>>>,
    /// How many shapes end here.
    ends: usize,
}

impl<'a> Trie<'a> {
    fn insert(&mut self, segments: &[Segment<'a>]) {
        match segments.split_first() {
            None => self.ends += 1,
            Some((Segment::Static(text), rest)) => {
                self.statics.entry(text).or_default().insert(rest);
            }
            Some((_, rest)) => self.any.get_or_insert_default().insert(rest),
        }
    }

    /// How many shapes here some path of `segments` also matches, counted up to `limit`.
    fn count(&self, segments: &[Segment<'_>], limit: usize) -> usize {
        let Some((first, rest)) = segments.split_first() else {
            return self.ends.min(limit);
        };
        let mut found = 0;
        let mut visit = |node: &Trie<'a>| {
            found += node.count(rest, limit - found);
            found >= limit
        };
        let enough = match first {
            Segment::Static(text) => self.statics.get(text).is_some_and(&mut visit),
            _ => self.statics.values().any(&mut visit),
        };
        if !enough {
            if let Some(any) = &self.any {
                visit(any);
            }
        }
        found
    }
}

/// Route templates in a radix tree, each answering only for its own paths (see the
/// [module docs](self)).
#[derive(Debug, Default)]
pub(crate) struct PathMatcher {
    tree: matchit::Router<u32>,
}

impl PathMatcher {
    /// The matcher of `templates` (each answering with its index), none of those that
    /// `excluded` names answering.
    pub(crate) fn new<'t>(
        templates: impl IntoIterator<Item = &'t str>,
        excluded: impl Fn(&str) -> bool,
    ) -> Self {
        let shapes: Vec<(&str, Shape<'_>)> = templates
            .into_iter()
            .map(|template| (template, Shape::of(template)))
            .collect();
        // Templates without a rest segment in a trie, so that finding what overlaps one
        // follows its segments instead of comparing it with every other template.
        let mut trie = Trie::default();
        let mut rests = Vec::new();
        for (at, (_, shape)) in shapes.iter().enumerate() {
            match shape.has_rest() {
                true => rests.push(at),
                false => trie.insert(&shape.segments),
            }
        }
        let overlaps_another = |at: usize, shape: &Shape<'_>| match shape.has_rest() {
            true => shapes
                .iter()
                .enumerate()
                .any(|(other, (_, theirs))| other != at && shape.overlaps(theirs)),
            false => {
                trie.count(&shape.segments, 2) > 1
                    || rests.iter().any(|&rest| shapes[rest].1.overlaps(shape))
            }
        };
        let mut tree = matchit::Router::new();
        for (at, (template, shape)) in shapes.iter().enumerate() {
            if !shape.expressible || excluded(template) || overlaps_another(at, shape) {
                continue;
            }
            let at = u32::try_from(at).expect("fewer than 2^32 route templates");
            // Templates that overlap none cannot conflict in the tree: an error here is one
            // this module did not foresee, and the path is left to the adapter's router.
            if let Err(error) = tree.insert(*template, at) {
                tracing::debug!(template, %error, "route template left to the router");
            }
        }
        Self { tree }
    }

    /// The index of the template `path` belongs to, when the matcher can say.
    #[inline]
    pub(crate) fn at(&self, path: &str) -> Option<u32> {
        self.tree.at(path).ok().map(|found| *found.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template<'t>(templates: &[&'t str], path: &str) -> Option<&'t str> {
        matcher_answer(&matcher_of(templates), templates, path)
    }

    fn matcher_of(templates: &[&str]) -> PathMatcher {
        PathMatcher::new(templates.iter().copied(), |_| false)
    }

    fn matcher_answer<'t>(m: &PathMatcher, templates: &[&'t str], path: &str) -> Option<&'t str> {
        m.at(path).map(|at| templates[at as usize])
    }

    #[test]
    fn templates_that_overlap_no_other_answer_for_their_paths() {
        let templates = [
            "/",
            "/users",
            "/users/{id}",
            "/files/{*rest}",
            "/users/{id}/posts",
        ];
        assert_eq!(template(&templates, "/"), Some("/"));
        assert_eq!(template(&templates, "/users"), Some("/users"));
        assert_eq!(template(&templates, "/users/42"), Some("/users/{id}"));
        assert_eq!(
            template(&templates, "/users/42/posts"),
            Some("/users/{id}/posts")
        );
        assert_eq!(
            template(&templates, "/files/a/b.txt"),
            Some("/files/{*rest}")
        );
        assert_eq!(template(&templates, "/users/"), None);
        assert_eq!(template(&templates, "/nope"), None);
        assert!(matcher_of(&templates).at("/users/42/other").is_none());
    }

    #[test]
    fn overlapping_templates_are_left_to_the_router() {
        // actix-web serves `/users/me` from whichever of these was registered first.
        let templates = [
            "/users/{id}",
            "/users/me",
            "/teams/{id}",
            "/a/{x}/b",
            "/a/c/{y}",
        ];
        assert_eq!(template(&templates, "/users/me"), None);
        assert_eq!(template(&templates, "/users/42"), None);
        assert_eq!(template(&templates, "/teams/7"), Some("/teams/{id}"));
        assert_eq!(template(&templates, "/a/c/b"), None);
        assert_eq!(template(&templates, "/a/z/b"), None);
        // A catch-all overlaps everything below it.
        let templates = ["/static/{*rest}", "/static/app.js", "/static", "/other"];
        assert_eq!(template(&templates, "/static/x.css"), None);
        assert_eq!(template(&templates, "/static/app.js"), None);
        assert_eq!(template(&templates, "/static"), Some("/static"));
        assert_eq!(template(&templates, "/other"), Some("/other"));
    }

    #[test]
    fn parameters_overlap_whatever_their_names_and_wherever_they_are() {
        let templates = [
            "/a/{x}",
            "/a/{y}",
            "/{tenant}/orders",
            "/shop/orders",
            "/shop/cart",
        ];
        assert_eq!(template(&templates, "/a/1"), None);
        assert_eq!(template(&templates, "/shop/orders"), None);
        assert_eq!(template(&templates, "/acme/orders"), None);
        assert_eq!(template(&templates, "/shop/cart"), Some("/shop/cart"));
    }

    #[test]
    fn what_the_tree_cannot_express_is_left_to_the_router_and_still_overlaps() {
        let templates = [
            "/files/{name}.txt",
            "/files/readme",
            "/brace/{{x}}",
            "/ok/{id}",
        ];
        assert_eq!(template(&templates, "/files/a.txt"), None);
        // `/files/readme` could be `{name}.txt`'s neighbour: left alone too.
        assert_eq!(template(&templates, "/files/readme"), None);
        assert_eq!(template(&templates, "/brace/{x}"), None);
        assert_eq!(template(&templates, "/ok/1"), Some("/ok/{id}"));
    }

    #[test]
    fn excluded_templates_answer_for_no_path() {
        let templates = ["/items/{id}", "/other/{id}"];
        let m = PathMatcher::new(templates.iter().copied(), |t| t == "/items/{id}");
        assert_eq!(matcher_answer(&m, &templates, "/items/abc"), None);
        assert_eq!(
            matcher_answer(&m, &templates, "/other/abc"),
            Some("/other/{id}")
        );
    }
}
