use crate::response::BoxResponseFuture;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::{Error, HttpRequest};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use waygate_core::{DeprecationHeaders, LimitHeaders};

/// What the middleware's response future resolves to.
type Output<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

/// A boxed future of the middleware's output (a request counted in shared counters).
pub(crate) type BoxOutputFuture<B> = Pin<Box<dyn Future<Output = Output<B>> + 'static>>;

pin_project! {
    /// The response future of [`WaygateService`](crate::WaygateService): the inner service's
    /// response (with the route's headers when due), or the response to a refused request.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        // A request with nothing to add to its response: the inner future, polled as is.
        Plain { #[pin] future: F },
        // Boxed limits: a rate-limited response allocates its header values anyway, and a
        // small future keeps every other request cheap to move.
        Served {
            #[pin] future: F,
            deprecated: Option<Arc<DeprecationHeaders>>,
            limits: Option<Box<LimitHeaders>>,
        },
        Ready { response: Option<ServiceResponse<EitherBody<B>>> },
        Factory { future: BoxResponseFuture, request: Option<HttpRequest> },
        // A request whose rate limits count in the shared counters: the count, then the
        // inner service (or the refusal). Boxed: only these requests pay for it.
        Boxed { future: BoxOutputFuture<B> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn plain(future: F) -> Self {
        Self {
            kind: Kind::Plain { future },
        }
    }

    /// The inner service's response, with the route's deprecation and rate-limit headers.
    pub(crate) fn served(
        future: F,
        deprecated: Option<Arc<DeprecationHeaders>>,
        limits: Option<LimitHeaders>,
    ) -> Self {
        Self {
            kind: Kind::Served {
                future,
                deprecated,
                limits: limits.map(Box::new),
            },
        }
    }

    pub(crate) fn ready(response: ServiceResponse<EitherBody<B>>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn factory(future: BoxResponseFuture, request: HttpRequest) -> Self {
        Self {
            kind: Kind::Factory {
                future,
                request: Some(request),
            },
        }
    }

    pub(crate) fn boxed(future: BoxOutputFuture<B>) -> Self {
        Self {
            kind: Kind::Boxed { future },
        }
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Output<B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Plain { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map_into_left_body()))
            }
            KindProj::Served {
                future,
                deprecated,
                limits,
            } => {
                let mut response = ready!(future.poll(cx))?;
                add_headers(
                    response.headers_mut(),
                    deprecated.take().as_deref(),
                    limits.take().as_deref(),
                );
                Poll::Ready(Ok(response.map_into_left_body()))
            }
            KindProj::Ready { response } => Poll::Ready(Ok(response
                .take()
                .expect("ResponseFuture polled after completion"))),
            KindProj::Factory { future, request } => {
                let response = ready!(future.as_mut().poll(cx));
                let request = request
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready(Ok(
                    ServiceResponse::new(request, response).map_into_right_body()
                ))
            }
            KindProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

/// Adds an allowed request's headers to its response.
pub(crate) fn add_headers(
    headers: &mut HeaderMap,
    deprecated: Option<&DeprecationHeaders>,
    limits: Option<&LimitHeaders>,
) {
    if let Some(limits) = limits {
        crate::convert::apply_limits(limits, headers);
    }
    if let Some(deprecated) = deprecated {
        crate::convert::apply_deprecation(deprecated, headers);
    }
}
