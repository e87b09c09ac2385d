//! The route template of a request.
//!
//! actix-web routes by walking its resources in order, and a middleware that runs before
//! routing learns the matched pattern only by asking for another walk
//! (`HttpRequest::match_pattern`, which also writes the pattern into a new `String`): on an
//! app of 1,000 routes that walk costs as much as the routing itself. So the walk is the
//! last resort:
//! 1. a path this worker has seen: its template, remembered (one hash lookup);
//! 2. a path of a template the engine knows and no other template overlaps: the snapshot's
//!    path matcher names it ([`Snapshot::match_path`], a radix tree), so a path with a new
//!    id costs about what a seen one does. The first time a worker's matcher names a
//!    template, the path is walked too: if actix-web routes it elsewhere (a regex such as
//!    `{id:\d+}`, known to the engine as `{id}`, or a resource the engine has not seen) the
//!    template is [excluded](Engine::exclude_from_path_match) from the matcher;
//! 3. otherwise the walk, remembered by path.
//!
//! What step 2 cannot see: a resource the engine has never seen (no request reached it
//! yet), registered before a known template whose paths it shares (`/users/me` before
//! `/users/{id}`); its paths are taken for the known template's until a walk reaches it.
//! Routes mounted with `routes!` are all known from the start.
//!
//! Each template remembered has its route's [`RouteSlot`] on this worker, shared by the
//! paths that reach it: a request to a remembered path is answered by the slot once a
//! decision taught it (see `service.rs`).
//!
//! The memory is bounded: when [`CAPACITY`] paths are remembered the cache starts over.

use crate::template::{from_actix, narrows};
use actix_web::HttpRequest;
use foldhash::fast::RandomState;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;
use waygate_core::{Engine, RouteSlot, Snapshot};

/// How many paths one worker's cache holds before it starts over.
const CAPACITY: usize = 4_096;

/// One worker's templates by path (`None`: no resource matches the path). A template the
/// path matcher named and a walk agreed with is remembered as its own path: actix-web routes
/// the template's text to it too.
#[derive(Default)]
pub(crate) struct PatternCache {
    templates: RefCell<HashMap<Box<str>, Option<Rc<Seen>>, RandomState>>,
    /// The same templates by their text: the paths of one template share its slot.
    seen: RefCell<HashMap<Rc<str>, Rc<Seen>, RandomState>>,
}

/// A template a worker has seen, and its route's slot there.
#[derive(Debug)]
pub(crate) struct Seen {
    template: Rc<str>,
    pub(crate) slot: RouteSlot,
}

impl Seen {
    /// `template`, with a slot that knows nothing yet.
    pub(crate) fn new(template: &str) -> Self {
        Self {
            template: Rc::from(template),
            slot: RouteSlot::new(),
        }
    }

    /// The template's text.
    pub(crate) fn template(&self) -> &str {
        &self.template
    }
}

impl Deref for Seen {
    type Target = str;

    fn deref(&self) -> &str {
        &self.template
    }
}

/// The templates a `Gate` finds for one app on one worker: app data `Routes::config` adds.
#[derive(Debug, Default)]
pub(crate) struct GateTemplates(pub(crate) PatternCache);

/// A request's template: the snapshot's, or remembered from a walk.
#[derive(Debug, Clone)]
pub(crate) enum Template<'s> {
    Matched(&'s str),
    Remembered(Rc<Seen>),
}

impl Deref for Template<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Matched(template) => template,
            Self::Remembered(template) => template,
        }
    }
}

impl PatternCache {
    /// The template this worker remembers for `path`: `None` when it has not seen it,
    /// `Some(None)` when no resource matches it.
    #[inline]
    pub(crate) fn remembered(&self, path: &str) -> Option<Option<Rc<Seen>>> {
        self.templates.borrow().get(path).cloned()
    }

    /// The waygate template of the resource `request`'s path (`path`, read once by the
    /// caller) matches, if one does, for a path this worker has not
    /// [remembered](Self::remembered).
    #[inline(never)]
    pub(crate) fn unseen<'s>(
        &self,
        engine: &Engine,
        snapshot: &'s Snapshot,
        request: &HttpRequest,
        path: &str,
    ) -> Option<Template<'s>> {
        // actix-web matches percent-decoded paths; the matcher sees them as sent.
        let matched = (!path.contains('%'))
            .then(|| snapshot.match_path(path))
            .flatten();
        if let Some(template) = matched {
            let remembered = self.templates.borrow();
            if let Some(Some(confirmed)) = remembered.get(template) {
                if confirmed.template() == template {
                    return Some(Template::Matched(template));
                }
            }
        }
        let routed = self.routed(Some(engine), request, path);
        if let Some(template) = matched {
            // The first path the matcher names a template for is walked too: actix-web may
            // route it elsewhere (a regex narrower than the template, a resource the engine
            // does not know), and then the matcher must not answer for it.
            match routed.as_deref().map(Seen::template) == Some(template) {
                true => self.confirm(template),
                false => engine.exclude_from_path_match(template),
            }
        }
        routed.map(Template::Remembered)
    }

    fn confirm(&self, template: &str) {
        let seen = self.seen(template);
        self.remember(template, Some(seen));
    }

    /// The one [`Seen`] of `template` on this worker.
    fn seen(&self, template: &str) -> Rc<Seen> {
        let mut seen = self.seen.borrow_mut();
        if let Some(known) = seen.get(template) {
            return Rc::clone(known);
        }
        let known = Rc::new(Seen::new(template));
        seen.insert(Rc::clone(&known.template), Rc::clone(&known));
        known
    }

    /// Remembers `path`'s template; the cache starts over when it is full.
    fn remember(&self, path: &str, template: Option<Rc<Seen>>) {
        let mut templates = self.templates.borrow_mut();
        if templates.len() >= CAPACITY {
            templates.clear();
            self.seen.borrow_mut().clear();
        }
        templates.insert(path.into(), template);
    }

    /// The template of the resource actix-web routes `path` to (remembered, or walked to);
    /// a regex pattern walked to is excluded from `engine`'s path matcher.
    pub(crate) fn routed(
        &self,
        engine: Option<&Engine>,
        request: &HttpRequest,
        path: &str,
    ) -> Option<Rc<Seen>> {
        if let Some(template) = self.templates.borrow().get(path) {
            return template.clone();
        }
        let template = request.match_pattern().map(|pattern| {
            let template = from_actix(&pattern);
            if let Some(engine) = engine.filter(|_| narrows(&pattern)) {
                engine.exclude_from_path_match(&template);
            }
            self.seen(&template)
        });
        self.remember(path, template.clone());
        template
    }
}

impl std::fmt::Debug for PatternCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternCache")
            .field("paths", &self.templates.borrow().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_and_read_body, init_service, TestRequest};
    use actix_web::{web, App};
    use waygate_core::RouteState;

    /// An app whose every route (`patterns`, then `/api/{name}`) answers with the template
    /// `cache` finds for it.
    macro_rules! app {
        ($engine:expr, $cache:expr, [$($pattern:literal),*]) => {{
            let (engine, cache) = ($engine.clone(), Rc::clone(&$cache));
            let answer = move |request: HttpRequest| {
                let (engine, cache) = (engine.clone(), Rc::clone(&cache));
                async move {
                    let snapshot = engine.snapshot();
                    let path = request.path();
                    let found = match cache.remembered(path) {
                        Some(template) => template.map(Template::Remembered),
                        None => cache.unseen(&engine, &snapshot, &request, path),
                    };
                    format!("{:?}", found.as_deref())
                }
            };
            init_service(
                App::new()
                    $(.route($pattern, web::get().to(answer.clone())))*
                    .service(web::scope("/api").route("/{name}", web::get().to(answer.clone())))
                    .default_service(web::to(answer)),
            )
            .await
        }};
    }

    async fn get<S, B>(app: &S, path: &str) -> String
    where
        S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
        B: actix_web::body::MessageBody,
    {
        let body = call_and_read_body(app, TestRequest::get().uri(path).to_request()).await;
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[actix_web::test]
    async fn walked_templates_are_remembered_and_bounded() {
        let engine = Engine::new();
        let cache = Rc::new(PatternCache::default());
        let app = app!(
            engine,
            cache,
            [r"/items/{id:\d+}", "/users/{id}", "/users/me"]
        );
        for (path, template) in [
            ("/items/7", r#"Some("/items/{id}")"#),
            ("/items/7", r#"Some("/items/{id}")"#),
            ("/api/x", r#"Some("/api/{name}")"#),
            ("/nothing/here", "None"),
        ] {
            assert_eq!(get(&app, path).await, template, "{path}");
        }
        assert_eq!(cache.templates.borrow().len(), 3);
        for id in 0..CAPACITY + 10 {
            let body = get(&app, &format!("/items/{id}")).await;
            assert_eq!(body, r#"Some("/items/{id}")"#);
        }
        assert!(cache.templates.borrow().len() <= CAPACITY);
    }

    #[actix_web::test]
    async fn known_templates_are_matched_without_a_walk_unless_they_overlap_or_narrow() {
        let engine = Engine::new();
        engine.match_paths();
        let known = [
            "GET:/users/{id}",
            "GET:/users/me",
            "GET:/api/{name}",
            "GET:/items/{id}",
        ];
        let states = known.map(RouteState::active).into();
        engine.register_states(states).await.unwrap();
        let cache = Rc::new(PatternCache::default());
        let app = app!(
            engine,
            cache,
            [r"/items/{id:\d+}", "/users/{id}", "/users/me"]
        );
        // New ids every time: the first is walked (and agrees), the matcher names the rest.
        for id in 0..50 {
            let body = get(&app, &format!("/api/n{id}")).await;
            assert_eq!(body, r#"Some("/api/{name}")"#);
        }
        // Remembered: the first path, and the template as its own path (confirmed).
        assert_eq!(cache.templates.borrow().len(), 2);
        // `/users/me` and `/users/{id}` overlap: actix-web's order decides, by a walk.
        assert_eq!(get(&app, "/users/me").await, r#"Some("/users/{id}")"#);
        assert_eq!(get(&app, "/users/7").await, r#"Some("/users/{id}")"#);
        assert_eq!(cache.templates.borrow().len(), 4);
        // Percent-encoded paths are actix-web's to decode.
        assert_eq!(get(&app, "/api/a%20b").await, r#"Some("/api/{name}")"#);
        assert_eq!(cache.templates.borrow().len(), 5);
        // `{id:\d+}` is `/items/{id}` to the engine; once walked to, never matched again.
        assert_eq!(
            engine.snapshot().match_path("/items/abc"),
            Some("/items/{id}")
        );
        assert_eq!(get(&app, "/items/1").await, r#"Some("/items/{id}")"#);
        assert_eq!(engine.snapshot().match_path("/items/abc"), None);
        assert_eq!(get(&app, "/items/abc").await, "None");
    }

    #[actix_web::test]
    async fn a_template_actix_web_routes_elsewhere_is_taken_from_the_matcher() {
        // The engine knows `/users/{id}` only; actix-web sends `/users/me` to the resource
        // registered before it.
        let engine = Engine::new();
        engine.match_paths();
        let states = vec![RouteState::active("GET:/users/{id}")];
        engine.register_states(states).await.unwrap();
        let cache = Rc::new(PatternCache::default());
        let app = app!(engine, cache, ["/users/me", "/users/{id}"]);
        assert_eq!(
            engine.snapshot().match_path("/users/7"),
            Some("/users/{id}")
        );
        assert_eq!(get(&app, "/users/me").await, r#"Some("/users/me")"#);
        assert_eq!(engine.snapshot().match_path("/users/7"), None);
        assert_eq!(get(&app, "/users/7").await, r#"Some("/users/{id}")"#);
    }
}
