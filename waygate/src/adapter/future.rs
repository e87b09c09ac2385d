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
        Counting { future: Pin<Box<dyn Future<Output = Settled<F>> + Send>> },
    }
}

/// What a decided request comes to, whether it was decided at once or after the shared
/// counters answered: the one shape both paths end in.
pub(crate) enum Settled<F> {
    /// Served as it came: the inner future, polled as is.
    Plain(F),
    /// Served: the inner service's future, with the headers to add.
    Served {
        future: F,
        deprecated: Option<Arc<DeprecationHeaders>>,
        limits: Option<LimitHeaders>,
    },
    /// Refused with this response.
    Refused(Response),
    /// Refused with the response a factory is producing.
    Factory(BoxResponseFuture),
}

impl<F> Settled<F> {
    fn into_kind(self) -> Kind<F> {
        match self {
            Self::Plain(future) => Kind::Plain { future },
            Self::Served {
                future,
                deprecated,
                limits,
            } => Kind::Inner {
                future,
                deprecated,
                limits: limits.map(Box::new),
            },
            Self::Refused(response) => Kind::Ready {
                response: Some(response),
            },
            Self::Factory(future) => Kind::Factory { future },
        }
    }
}

impl<F> ResponseFuture<F> {
    /// The response of a request decided at once.
    pub(crate) fn settled(settled: Settled<F>) -> Self {
        Self {
            kind: settled.into_kind(),
        }
    }

    /// A request that first awaits the shared rate-limit counters.
    pub(crate) fn counting(future: Pin<Box<dyn Future<Output = Settled<F>> + Send>>) -> Self {
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

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        if let KindProj::Counting { future } = kind.as_mut().project() {
            let settled = ready!(future.as_mut().poll(cx));
            kind.set(settled.into_kind());
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
}
