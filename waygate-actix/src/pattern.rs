//! The route template of a request, remembered by path.
//!
//! actix-web routes by walking its resources in order, and a middleware that runs before
//! routing learns the matched pattern only by asking for another walk
//! (`HttpRequest::match_pattern`, which also writes the pattern into a new `String`): on an
//! app of 1,000 routes that walk costs as much as the routing itself. The pattern of a path
//! never changes once the app is built, so each worker remembers the template of the paths it
//! has seen: a path seen before costs one hash lookup. The memory is bounded: when
//! [`CAPACITY`] paths are remembered the cache starts over (paths that are all different, as
//! a client making them up sends, then cost the walk each, as without the cache).

use crate::template::from_actix;
use actix_web::HttpRequest;
use foldhash::fast::RandomState;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// How many paths one worker's cache holds before it starts over.
const CAPACITY: usize = 4_096;

/// One worker's templates by path (`None`: no resource matches the path).
#[derive(Default)]
pub(crate) struct PatternCache {
    templates: RefCell<HashMap<Box<str>, Option<Rc<str>>, RandomState>>,
}

impl PatternCache {
    /// The waygate template of the resource `request`'s path (`path`, read once by the
    /// caller) matches, if one does.
    pub(crate) fn template(&self, request: &HttpRequest, path: &str) -> Option<Rc<str>> {
        if let Some(template) = self.templates.borrow().get(path) {
            return template.clone();
        }
        let template = request
            .match_pattern()
            .map(|pattern| Rc::from(from_actix(&pattern).as_ref()));
        let mut templates = self.templates.borrow_mut();
        if templates.len() >= CAPACITY {
            templates.clear();
        }
        templates.insert(path.into(), template.clone());
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

    #[actix_web::test]
    async fn templates_are_found_remembered_and_bounded() {
        let cache = Rc::new(PatternCache::default());
        let asked = Rc::clone(&cache);
        let answer = move |request: HttpRequest| {
            let cache = Rc::clone(&asked);
            async move { format!("{:?}", cache.template(&request, request.path())) }
        };
        let app = init_service(
            App::new()
                .route(r"/items/{id:\d+}", web::get().to(answer.clone()))
                .service(web::scope("/api").route("/{name}", web::get().to(answer.clone())))
                .default_service(web::to(answer)),
        )
        .await;
        for (path, template) in [
            ("/items/7", r#"Some("/items/{id}")"#),
            ("/items/7", r#"Some("/items/{id}")"#),
            ("/api/x", r#"Some("/api/{name}")"#),
            ("/nothing/here", "None"),
        ] {
            let request = TestRequest::get().uri(path).to_request();
            let body = call_and_read_body(&app, request).await;
            assert_eq!(body, template.as_bytes(), "{path}");
        }
        assert_eq!(cache.templates.borrow().len(), 3);
        for id in 0..CAPACITY + 10 {
            let request = TestRequest::get().uri(&format!("/items/{id}")).to_request();
            let body = call_and_read_body(&app, request).await;
            assert_eq!(body, r#"Some("/items/{id}")"#.as_bytes());
        }
        assert!(cache.templates.borrow().len() <= CAPACITY);
    }
}
