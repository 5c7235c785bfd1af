//! [`Call`]: one request, built by a [`Client`](crate::Client) method and
//! sent when awaited.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{Client, TENANT_HEADER};
use crate::error::Error;

/// One API request. `.await` sends it and decodes the answer as `T`;
/// [`Call::json`] sends it and returns the answer's JSON as it came, for a
/// caller that passes it on (`herald … --json`).
#[must_use = "a Call does nothing until it is awaited"]
pub struct Call<T> {
    client: Client,
    method: Method,
    url: Url,
    authenticated: bool,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    /// Statuses besides 2xx whose body is the answer (readiness's 503).
    answer_statuses: &'static [u16],
    /// A problem met while building, reported when the call is sent.
    problem: Option<Error>,
    answer: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl<T> Call<T> {
    pub(crate) fn new(client: Client, method: Method, url: Url, authenticated: bool) -> Self {
        Self {
            client,
            method,
            url,
            authenticated,
            headers: HeaderMap::new(),
            body: None,
            answer_statuses: &[],
            problem: None,
            answer: PhantomData,
        }
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.url
            .query_pairs_mut()
            .append_pair(name, &value.to_string());
        self
    }

    /// Adds a query parameter when there is a value.
    pub(crate) fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// The JSON body.
    pub(crate) fn body(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some(bytes),
            Err(e) => self.problem = Some(Error::Request(format!("body: {e}"))),
        }
        self
    }

    /// Marks the call as one that cannot be sent.
    pub(crate) fn refuse(mut self, why: String) -> Self {
        self.problem = Some(Error::Request(why));
        self
    }

    #[cfg(test)]
    pub(crate) fn problem(&self) -> Option<&Error> {
        self.problem.as_ref()
    }

    pub(crate) fn answer_statuses(mut self, statuses: &'static [u16]) -> Self {
        self.answer_statuses = statuses;
        self
    }

    /// Adds a request header (`Idempotency-Key`, `traceparent`, …).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => {
                self.problem = Some(Error::Request(format!(
                    "header `{name}` cannot carry that value"
                )))
            }
        }
        self
    }

    /// Sends a W3C `traceparent`, so the deliveries join the caller's trace.
    pub fn traceparent(self, traceparent: &str) -> Self {
        self.header("traceparent", traceparent)
    }

    /// The method and URL this call will use.
    pub fn target(&self) -> (&Method, &Url) {
        (&self.method, &self.url)
    }

    /// Sends the request; the status and body of a successful answer.
    async fn send(self) -> Result<(u16, Vec<u8>), Error> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        let client = &self.client;
        let mut request = client
            .http
            .request(self.method, self.url.clone())
            .headers(self.headers);
        if self.authenticated {
            if let Some(token) = &client.token {
                request = request.bearer_auth(token);
            }
            if let Some(tenant) = &client.tenant {
                request = request.header(TENANT_HEADER, tenant);
            }
        }
        if let Some(body) = self.body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let transport = |source| Error::Transport {
            url: origin(&self.url),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(transport)?;
        if (200..300).contains(&status) || self.answer_statuses.contains(&status) {
            Ok((status, bytes.to_vec()))
        } else {
            Err(Error::from_answer(status, retry_after, &bytes))
        }
    }

    /// Sends the request and returns the answer's JSON exactly as the API
    /// wrote it (`null` for an empty answer, such as a 204).
    pub async fn json(self) -> Result<serde_json::Value, Error> {
        let (status, bytes) = self.send().await?;
        decode(status, &bytes)
    }
}

impl<T: DeserializeOwned + Send + 'static> Call<T> {
    async fn typed(self) -> Result<T, Error> {
        let (status, bytes) = self.send().await?;
        decode(status, &bytes)
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for Call<T> {
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.typed())
    }
}

/// How the resource modules start their calls.
impl Client {
    /// A call to `/api/v1/<segments>`.
    pub(crate) fn api<T>(&self, method: Method, segments: &[&str]) -> Call<T> {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        let call = Call::new(self.clone(), method, self.url(&all), true);
        // URLs treat `.` and `..` (even percent-encoded) as steps up the
        // path, so such an "id" would reach another route; none is an id.
        match segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            Some(bad) => call.refuse(format!("`{bad}` is not a valid id")),
            None => call,
        }
    }

    /// A call outside `/api/v1` (health, which needs no token).
    pub(crate) fn plain<T>(&self, method: Method, segments: &[&str]) -> Call<T> {
        Call::new(self.clone(), method, self.url(segments), false)
    }

    /// A call to any route of the API with any JSON body, for what this
    /// version of the client has no method for yet. `path` is under
    /// `/api/v1`, e.g. `webhooks/wh_…/retry-schedule`.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Call<serde_json::Value> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let call = self.api(method, &segments);
        match body {
            Some(body) => call.body(body),
            None => call,
        }
    }
}

fn decode<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T, Error> {
    // An empty answer (204) reads as `null`, which `()` and `Option` take.
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        status,
        what: std::any::type_name::<T>(),
        source,
    })
}

/// The server's origin, for messages: never its path or query.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `Retry-After` in seconds (Herald sends seconds).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
