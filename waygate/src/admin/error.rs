//! The API's error responses: `{"error": "<message>"}`, plus `ambiguous_matches` when a bare
//! path matches several routes (the Python CLI tells the two `409`s apart by that field).

use crate::EngineError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// What every API path without a valid token answers, with `401`.
pub(crate) const AUTH_REQUIRED: &str =
    "Authentication required. Use POST /api/auth/login to obtain a token.";

/// An error response.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Body,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Body {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ambiguous_matches: Option<Vec<String>>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Body {
                error: message.into(),
                ambiguous_matches: None,
            },
            retry_after: None,
        }
    }

    /// `429` with `Retry-After`: too many failed logins.
    pub(crate) fn too_many_logins(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed logins; try again in {retry_after} seconds"),
            )
        }
    }

    /// `400`: the request is malformed; the message names the field.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// `401` with the message the Python CLI expects.
    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    }

    /// The status code.
    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` text.
    #[cfg(any(test, feature = "server", feature = "dashboard"))]
    pub(crate) fn message(&self) -> &str {
        &self.body.error
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let status = match &error {
            EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
            EngineError::Ambiguous { .. } | EngineError::Protected { .. } => StatusCode::CONFLICT,
            EngineError::Invalid { .. } => StatusCode::BAD_REQUEST,
            EngineError::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut api = Self::new(status, error.to_string());
        if let EngineError::Ambiguous { matches, .. } = error {
            api.body.ambiguous_matches = Some(matches);
        }
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
