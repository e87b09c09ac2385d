//! An actix-web app served on a loopback port for one test: [`Server`] runs it in a thread of
//! its own (an actix system), and the examples' minimal HTTP/1.1 client talks to it over
//! real TCP, so tests need no HTTP client crate.

// Each test crate uses a part of it.
#![allow(dead_code)]

use crate::support::{self, Reply};
use actix_web::middleware::Condition;
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, HttpServer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use waygate_actix::{Engine, Waygate};

/// A running app. Dropping it stops the server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
}

/// Serves an app of `configure`'s routes, with `middleware` when given, and the engine in
/// the app data (for `Gate` and handlers). The engine is started first.
pub(crate) fn serve<F>(engine: &Engine, middleware: Option<Waygate>, configure: F) -> Server
where
    F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
{
    start(engine, middleware, true, configure)
}

/// Serves `configure`'s routes without the middleware and without the engine in the app
/// data.
pub(crate) fn serve_without_engine<F>(engine: &Engine, configure: F) -> Server
where
    F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
{
    start(engine, None, false, configure)
}

fn start<F>(engine: &Engine, middleware: Option<Waygate>, data: bool, configure: F) -> Server
where
    F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
{
    let engine = engine.clone();
    let (ready, ready_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            engine.start().await.expect("start the engine");
            let enabled = middleware.is_some();
            let middleware = middleware.unwrap_or_else(|| Waygate::new(engine.clone()));
            let server = HttpServer::new(move || {
                let app = App::new().wrap(Condition::new(enabled, middleware.clone()));
                let app = match data {
                    true => app
                        .app_data(engine.clone())
                        .app_data(web::Data::new(engine.clone())),
                    false => app,
                };
                app.configure(configure.clone())
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind a loopback port");
            let addr = server.addrs()[0];
            let server = server.run();
            ready.send((addr, server.handle())).expect("the test waits");
            server.await.expect("the server runs");
        });
    });
    let (addr, handle) = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server starts");
    Server {
        addr,
        handle,
        thread: Some(thread),
    }
}

impl Server {
    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Reply {
        support::get(self.addr, path, &[])
    }

    /// `GET path` with extra headers.
    pub(crate) fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        support::get(self.addr, path, headers)
    }

    /// `method path` with headers and a JSON body.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        support::send(self.addr, method, path, headers, body)
    }

    /// `GET path`, which must answer `status`.
    #[track_caller]
    pub(crate) fn expect(&self, path: &str, status: u16) -> Reply {
        let reply = self.get(path);
        assert_eq!(reply.status, status, "GET {path}: {reply:?}");
        reply
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs an engine call (a state change) to completion on a runtime of its own.
pub(crate) fn block<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Waits until `done()`, failing after ten seconds (the engine registers routes it sees for
/// the first time off the request path).
#[track_caller]
pub(crate) fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}
