//! HTTP plumbing: every request the SDK sends carries `X-Waygate-App-Id` and, when it has
//! one, `X-Waygate-Token`; a non-2xx answer is an error carrying the server's `error` text.

use crate::shared::Shared;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;
use waygate_core::backend::BackendError;

/// Longest wait for any request but the stream.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request, or a connection attempt, failed.
#[derive(Debug)]
pub(crate) struct Ended(pub(crate) String);

impl<E: std::fmt::Display> From<E> for Ended {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

impl Ended {
    /// The failure as a backend error (the server could not be asked).
    pub(crate) fn unavailable(self) -> BackendError {
        BackendError::Unavailable(self.0)
    }
}

/// Where a request goes: path segments under the server's admin root (each encoded as a
/// segment), and query pairs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: &'a [(&'a str, &'a str)],
}

impl<'a> Target<'a> {
    /// `segments` with no query.
    pub(crate) fn at(segments: &'a [&'a str]) -> Self {
        Self {
            segments,
            query: &[],
        }
    }

    /// The same target with a query.
    pub(crate) fn query(self, query: &'a [(&'a str, &'a str)]) -> Self {
        Self { query, ..self }
    }

    fn url(&self, shared: &Shared) -> Result<reqwest::Url, Ended> {
        let mut url = reqwest::Url::parse(&shared.config().base)?;
        url.path_segments_mut()
            .map_err(|()| Ended("the server URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(self.segments);
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(self.query);
        }
        Ok(url)
    }
}

/// A request with the SDK's headers.
pub(crate) fn request(
    shared: &Shared,
    method: reqwest::Method,
    target: Target<'_>,
) -> Result<reqwest::RequestBuilder, Ended> {
    let request = shared
        .http()
        .request(method, target.url(shared)?)
        .header("x-waygate-app-id", shared.app());
    Ok(match shared.token() {
        Some(token) => request.header("x-waygate-token", token),
        None => request,
    })
}

pub(crate) async fn get<T: DeserializeOwned>(
    shared: &Shared,
    target: Target<'_>,
) -> Result<T, Ended> {
    send_json(shared, reqwest::Method::GET, target, None::<&()>).await
}

/// `GET` of something an older server may not serve: `None` on a 404 (the Python
/// original's Waygate Server mounts no flag routes).
pub(crate) async fn get_if_served<T: DeserializeOwned>(
    shared: &Shared,
    target: Target<'_>,
) -> Result<Option<T>, Ended> {
    let response = request(shared, reqwest::Method::GET, target)?
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    answer(response).await.map(Some)
}

/// One request with a JSON body (or none) and a JSON answer.
pub(crate) async fn send_json<T: DeserializeOwned>(
    shared: &Shared,
    method: reqwest::Method,
    target: Target<'_>,
    body: Option<&impl Serialize>,
) -> Result<T, Ended> {
    let mut request = request(shared, method, target)?.timeout(REQUEST_TIMEOUT);
    if let Some(body) = body {
        request = request.json(body);
    }
    answer(request.send().await?).await
}

/// The JSON of a 2xx answer, or the server's `error` text.
async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Ended> {
    let status = response.status();
    if !status.is_success() {
        let path = response.url().path().to_owned();
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        return Err(Ended(format!("{path}: {message}")));
    }
    Ok(response.json().await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::for_tests as shared;

    #[test]
    fn segments_and_query_values_are_encoded_under_the_root() {
        let target = Target::at(&["api", "services", "a b/c", "maintenance"]);
        let url = target.url(&shared("http://h:1/waygate")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:1/waygate/api/services/a%20b%2Fc/maintenance"
        );
        let url = Target::at(&["api", "routes"])
            .query(&[("service", "a&b")])
            .url(&shared("http://h:1"))
            .unwrap();
        assert_eq!(url.as_str(), "http://h:1/api/routes?service=a%26b");
    }
}
