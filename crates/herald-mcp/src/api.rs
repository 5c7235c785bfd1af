//! The REST API as the tools reach it: one request, made with the caller's
//! own token (and tenant), answered with the API's JSON or its error body.
//!
//! Every tool goes through the real API rather than the store, so an
//! agent meets exactly the checks a person does: the tenant boundary,
//! validation, secrets masked, every change in the audit log. The requests
//! carry [`herald_core::via`]'s mark, which makes the audit log name the
//! actor `mcp:<key id>`.
//!
//! This module is the one place that speaks HTTP; the tools only name a
//! method, a path and a body.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use url::Url;

/// How long one API call may take before the tool reports it failed.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Who the tools act as: a bearer token (the admin token or a tenant's API
/// key) and, for the admin token, the tenant it picks.
#[derive(Clone)]
pub struct Credentials {
    pub token: SecretString,
    /// `X-Herald-Tenant`: which tenant the admin token acts on.
    pub tenant: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"****")
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// Why a call did not give an answer to show as a success.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The API answered with an error status and (usually) its
    /// `{"error": {"code", "message", "field"}}` body.
    #[error("Herald answered {status}: {}", describe_error(.body))]
    Status { status: u16, body: Value },
    /// No answer: the server is down, unreachable or too slow.
    #[error("cannot reach Herald at {url}: {reason}")]
    Unreachable { url: String, reason: String },
}

/// `code: message (field …)` from an API error body, or the body itself.
fn describe_error(body: &Value) -> String {
    let error = &body["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => match error["field"].as_str() {
            Some(field) => format!("{code}: {message} (field `{field}`)"),
            None => format!("{code}: {message}"),
        },
        _ => body.to_string(),
    }
}

/// The Herald server the tools call.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    http: reqwest::Client,
    /// `http://host:port/api/v1/`, with the trailing slash.
    base: Url,
}

impl Api {
    /// An API at `server` (`http://127.0.0.1:8080`, with or without a path
    /// prefix).
    pub(crate) fn new(server: &Url) -> Result<Api, String> {
        let mut base = server.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let base = base
            .join("api/v1/")
            .map_err(|e| format!("{server} is not a base URL: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // The API never redirects; one that did would be something else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("herald-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Api { http, base })
    }

    /// One call: `method` on the path made of `segments` (each
    /// percent-encoded, so an id can never reach another route), with the
    /// query's set fields and an optional JSON body.
    pub(crate) async fn call(
        &self,
        credentials: &Credentials,
        method: Method,
        segments: &[&str],
        query: &(impl Serialize + ?Sized),
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .pop_if_empty()
            .extend(segments);
        let mut request = self
            .http
            .request(method, url.clone())
            .bearer_auth(credentials.token.expose_secret())
            .header(herald_core::via::HEADER, herald_core::via::MCP)
            .query(query);
        if let Some(tenant) = &credentials.tenant {
            request = request.header("X-Herald-Tenant", tenant);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let unreachable = |e: reqwest::Error| ApiError::Unreachable {
            url: url_without_query(&url),
            reason: e.without_url().to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        if status.is_success() {
            Ok(body)
        } else {
            Err(ApiError::Status {
                status: status.as_u16(),
                body,
            })
        }
    }
}

fn url_without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_keeps_a_path_prefix() {
        let api = Api::new(&Url::parse("http://127.0.0.1:8080").unwrap()).unwrap();
        assert_eq!(api.base.as_str(), "http://127.0.0.1:8080/api/v1/");
        let api = Api::new(&Url::parse("https://h.example/herald").unwrap()).unwrap();
        assert_eq!(api.base.as_str(), "https://h.example/herald/api/v1/");
    }

    #[test]
    fn errors_name_the_code_and_field() {
        let body = serde_json::json!({"error": {"code": "validation_error", "message": "bad", "field": "url"}});
        let e = ApiError::Status { status: 422, body };
        assert_eq!(
            e.to_string(),
            "Herald answered 422: validation_error: bad (field `url`)"
        );
    }
}
