//! Serving an app with the limits a server on a network needs: a header-read timeout, a cap
//! on open connections, the peer address, and a graceful shutdown.
//!
//! `axum::serve` waits for a request head forever and accepts connections until the process
//! runs out of file descriptors: a client that sends half a request and stops holds its
//! connection open for good, and a few hundred of them starve every other client. [`serve`]
//! is `axum::serve` with [`ConnectionLimits`] — what `WaygateServer::serve`, `waygate serve`
//! and the examples use:
//!
//! ```rust,no_run
//! use axum::{routing::get, Router};
//! use std::time::Duration;
//! use waygate::serve::{serve, ConnectionLimits};
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/", get(|| async { "hello" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! serve(listener, app)
//!     .limits(ConnectionLimits::new().header_read_timeout(Duration::from_secs(10)))
//!     // Until Ctrl-C, say: `async { let _ = tokio::signal::ctrl_c().await; }`.
//!     .with_graceful_shutdown(std::future::pending())
//!     .await
//! # }
//! ```
//!
//! Requests carry the peer address as axum's `ConnectInfo<SocketAddr>` (what per-IP rate
//! limits and the login throttle key clients by), HTTP/1.1 with upgrades.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Sleep;
use tower_service::Service;

/// How long a connection may take to send a request's head, and how many may be open.
///
/// The head timeout counts from the moment the connection is ready for a request — when it
/// opens, and after each response on a kept-alive connection — so it bounds a half-sent
/// request and an idle keep-alive connection alike: either is closed when it runs out. A
/// request body bears the same bound between its parts: one that stops arriving for as long
/// fails its request (the handler reads a body error; JSON endpoints answer `400`) and the
/// connection closes. A response in flight is never cut (an SSE stream that is quiet
/// between keep-alives stays open).
///
/// At the cap, new connections wait in the listen queue until one closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    header_read_timeout: Duration,
    max_connections: usize,
}

impl Default for ConnectionLimits {
    /// 15 seconds to send a request head (or to start the next one on a kept-alive
    /// connection), at most 10,000 connections open.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(15),
            max_connections: 10_000,
        }
    }
}

impl ConnectionLimits {
    /// The defaults: 15 s to send a request head, 10,000 connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a connection may take to send a request's head, counted from when it is
    /// ready for one (so also how long a kept-alive connection may sit idle).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The most connections open at once (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The head (and idle) timeout.
    pub fn header_read_timeout_length(&self) -> Duration {
        self.header_read_timeout
    }

    /// The connection cap.
    pub fn max_connections_count(&self) -> usize {
        self.max_connections
    }
}

/// Serves `app` on `listener` with the default [`ConnectionLimits`]; await it (or set
/// [`limits`](Serve::limits) and a [graceful shutdown](Serve::with_graceful_shutdown)
/// first).
pub fn serve(listener: TcpListener, app: Router) -> Serve<std::future::Pending<()>> {
    Serve {
        listener,
        app,
        limits: ConnectionLimits::default(),
        shutdown: std::future::pending(),
    }
}

/// A server about to run: await it. See [`serve`].
#[must_use = "await it to serve"]
pub struct Serve<F> {
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: F,
}

impl<F> std::fmt::Debug for Serve<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<F> Serve<F>
where
    F: Future<Output = ()> + Send + 'static,
{
    /// The connection limits.
    pub fn limits(mut self, limits: ConnectionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Stops accepting when `signal` completes, lets the requests in flight finish (each
    /// connection closes after its current response), then returns.
    pub fn with_graceful_shutdown<G>(self, signal: G) -> Serve<G>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            limits: self.limits,
            shutdown: signal,
        }
    }

    async fn run(self) -> std::io::Result<()> {
        let Self {
            listener,
            app,
            limits,
            shutdown,
        } = self;
        let open = Arc::new(Semaphore::new(limits.max_connections));
        let (closing, closing_rx) = watch::channel(false);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        drop(permit);
                        accept_failed(&error).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let app = app.clone();
            let closing = closing_rx.clone();
            tokio::spawn(async move {
                serve_connection(stream, peer, app, limits, closing).await;
                drop(permit);
            });
        }
        closing.send_replace(true);
        // Every connection holds a permit until it is closed.
        let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
        let _ = open.acquire_many(all).await;
        Ok(())
    }
}

impl<F> IntoFuture for Serve<F>
where
    F: Future<Output = ()> + Send + 'static,
{
    type Output = std::io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// One connection: HTTP/1.1 with the head timeout, until it closes or the server shuts
/// down (then after its current response).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let idle = limits.header_read_timeout;
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        app.call(request.map(|body| match body.is_end_stream() {
            true => Body::new(body),
            false => Body::new(IdleTimeoutBody::new(body, idle)),
        }))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutting_down(&mut closing) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection closed with an error");
    }
}

pin_project! {
    /// A request body that fails once no part of it has arrived for `idle`: a client that
    /// declares a body and stops sending it holds its connection no longer than one that
    /// stops sending its head.
    struct IdleTimeoutBody {
        #[pin]
        inner: Incoming,
        #[pin]
        deadline: Sleep,
        idle: Duration,
    }
}

impl IdleTimeoutBody {
    fn new(inner: Incoming, idle: Duration) -> Self {
        Self {
            inner,
            deadline: tokio::time::sleep(idle),
            idle,
        }
    }
}

/// The error of a request body that stopped arriving.
#[derive(Debug)]
struct BodyStalled(Duration);

impl std::fmt::Display for BodyStalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body stopped arriving for {:?}", self.0)
    }
}

impl std::error::Error for BodyStalled {}

impl HttpBody for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            this.deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + *this.idle);
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match this.deadline.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyStalled(*this.idle).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Completes when the server shuts down.
async fn shutting_down(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|closing| *closing).await;
}

/// An `accept` that failed: a connection reset before it was taken is nothing; running out
/// of file descriptors (or anything else) is logged and waited out, never spun on.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
