use axum::response::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::BoxResponseFuture;
use waygate_core::{DeprecationHeaders, LimitHeaders};

pin_project! {
    /// The response future of [`Waygate`](super::Waygate): the inner service's response (with
    /// deprecation headers when due), or the response to a blocked request.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        // A request with nothing to add to its response: the inner future, polled as is.
        Plain { #[pin] future: F },
        // Boxed: a rate-limited response allocates its header values anyway, and a small future
        // keeps every other request cheap to move.
        Inner { #[pin] future: F, deprecated: Option<Arc<DeprecationHeaders>>, limits: Option<Box<LimitHeaders>> },
        Ready { response: Option<Response> },
        Factory { future: BoxResponseFuture },
        // A request whose rate limits are counted in the shared counters: the count, then
        // the inner service's future (or the refusal). Boxed: only these requests pay for it.
        Counting { future: Pin<Box<dyn Future<Output = ResponseFuture<F>> + Send>> },
    }
}

impl<F> ResponseFuture<F> {
    /// Served as it came: the inner future, polled as is.
    #[inline(always)]
    pub(crate) fn plain(future: F) -> Self {
        Self {
            kind: Kind::Plain { future },
        }
    }

    /// Served: the inner service's response, with the route's deprecation and rate-limit
    /// headers.
    pub(crate) fn served(
        future: F,
        deprecated: Option<Arc<DeprecationHeaders>>,
        limits: Option<LimitHeaders>,
    ) -> Self {
        Self {
            kind: Kind::Inner {
                future,
                deprecated,
                limits: limits.map(Box::new),
            },
        }
    }

    /// Refused with this response.
    pub(crate) fn refused(response: Response) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    /// Refused with the response a factory is producing.
    pub(crate) fn factory(future: BoxResponseFuture) -> Self {
        Self {
            kind: Kind::Factory { future },
        }
    }

    /// A request that first awaits the shared rate-limit counters, then goes on as the
    /// future it settles into.
    pub(crate) fn counting(
        future: Pin<Box<dyn Future<Output = ResponseFuture<F>> + Send>>,
    ) -> Self {
        Self {
            kind: Kind::Counting { future },
        }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        // The common case first, inlined into the caller's poll (25 instructions fewer per
        // allowed request than one out-of-line match over every kind, callgrind).
        if let KindProj::Plain { future } = kind.as_mut().project() {
            return future.poll(cx);
        }
        poll_rest(kind, cx)
    }
}

/// Every other kind of response future: out of line, so that the common case stays small.
#[inline(never)]
fn poll_rest<F, E>(mut kind: Pin<&mut Kind<F>>, cx: &mut Context<'_>) -> Poll<Result<Response, E>>
where
    F: Future<Output = Result<Response, E>>,
{
    if let KindProj::Counting { future } = kind.as_mut().project() {
        let settled = ready!(future.as_mut().poll(cx));
        kind.set(settled.kind);
    }
    match kind.project() {
        KindProj::Plain { future } => future.poll(cx),
        KindProj::Inner {
            future,
            deprecated,
            limits,
        } => {
            let mut response = ready!(future.poll(cx))?;
            if let Some(limits) = limits.take() {
                limits.apply(response.headers_mut());
            }
            if let Some(headers) = deprecated.take() {
                headers.apply(response.headers_mut());
            }
            Poll::Ready(Ok(response))
        }
        KindProj::Ready { response } => Poll::Ready(Ok(response
            .take()
            .expect("ResponseFuture polled after completion"))),
        KindProj::Factory { future } => future.as_mut().poll(cx).map(Ok),
        // Replaced above as soon as the count is done.
        KindProj::Counting { .. } => Poll::Pending,
    }
}
