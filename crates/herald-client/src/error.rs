//! What can go wrong talking to Herald: the API's own error answers, other
//! HTTP failures, transport and decoding, each sortable into an
//! [`ErrorKind`] a caller can act on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The body of every 4xx answer (and of opaque 5xx ones):
/// `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorDetail,
}

/// What the API says went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable: `validation_error`, `not_found`, `unauthorized`, …
    pub code: String,
    pub message: String,
    /// The field at fault, as a JSON path (`retry.max_retries`,
    /// `events[3].type`), a query parameter or `id`.
    #[serde(default)]
    pub field: Option<String>,
    /// Anything else a newer server adds.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn code(&self) -> &str {
        &self.error.code
    }
    pub fn message(&self) -> &str {
        &self.error.message
    }
    pub fn field(&self) -> Option<&str> {
        self.error.field.as_deref()
    }
}

/// A failure of a [`Call`](crate::Call).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with its error body.
    #[error("{} ({status}{}): {}", .body.error.code, field_suffix(.body), .body.error.message)]
    Api {
        status: u16,
        /// Boxed: an `Error` travels in every `Result` of the client, and
        /// most are never this one.
        body: Box<ApiError>,
        /// `Retry-After` of a 429 or 503, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// A failed answer that is not the API's error shape (a proxy's page,
    /// say): its status and the start of its body.
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// No answer: the server could not be reached, the connection broke or
    /// the request timed out.
    #[error("cannot reach Herald at {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// An answer that is not what the API documents.
    #[error("cannot read Herald's answer (HTTP {status}) as {what}: {source}")]
    Decode {
        status: u16,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The request could not be built (a body that does not serialize, a
    /// header value that is not valid).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The client's configuration is unusable.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn field_suffix(body: &ApiError) -> String {
    body.field()
        .map(|f| format!(", field `{f}`"))
        .unwrap_or_default()
}

/// What a failure means to a caller, whatever its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 404: no such webhook, event, delivery, tenant or route.
    NotFound,
    /// 401 or 403: a missing, wrong or revoked token, or one that may not
    /// do this.
    Unauthorized,
    /// 400, 413 or 422: the request is wrong; `field` says where.
    Validation,
    /// 409: the resource is not in a state that allows this, or kept
    /// changing.
    Conflict,
    /// 429: the tenant's ingest rate is spent; see `retry_after`.
    RateLimited,
    /// 5xx, or an answer that does not decode.
    Server,
    /// No answer at all.
    Unreachable,
    /// Anything else (a 405, a bad configuration).
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Validation => "validation",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Other => "other",
        }
    }

    fn of_status(status: u16) -> ErrorKind {
        match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            400 | 413 | 422 => ErrorKind::Validation,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Other,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { status, .. } | Error::Http { status, .. } => ErrorKind::of_status(*status),
            Error::Transport { .. } => ErrorKind::Unreachable,
            Error::Decode { .. } => ErrorKind::Server,
            Error::Request(_) | Error::Config(_) => ErrorKind::Other,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::Http { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's error body, when the answer had one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The field the API blamed, if any.
    pub fn field(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::field)
    }

    /// When the server said to come back (429, 503).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether sending the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Unreachable
        ) || self.api_error().is_some_and(|e| e.code() == "conflict")
    }

    /// Builds the error for a failed answer.
    pub(crate) fn from_answer(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
        match serde_json::from_slice::<ApiError>(body) {
            Ok(body) => Error::Api {
                status,
                body: Box::new(body),
                retry_after,
            },
            Err(_) => {
                // Enough of a foreign body to recognise it, never all of it.
                let text = String::from_utf8_lossy(body);
                let mut shown: String = text.chars().take(512).collect();
                if shown.len() < text.len() {
                    shown.push('…');
                }
                Error::Http {
                    status,
                    body: shown,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_the_body_and_sort_by_status() {
        let body =
            br#"{"error":{"code":"validation_error","message":"bad","field":"url","hint":"x"}}"#;
        let e = Error::from_answer(422, None, body);
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert_eq!(e.field(), Some("url"));
        assert_eq!(e.api_error().unwrap().error.extra["hint"], "x");
        assert_eq!(e.to_string(), "validation_error (422, field `url`): bad");
        for (status, kind) in [
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (400, ErrorKind::Validation),
            (409, ErrorKind::Conflict),
            (429, ErrorKind::RateLimited),
            (503, ErrorKind::Server),
            (405, ErrorKind::Other),
        ] {
            assert_eq!(
                Error::from_answer(status, None, b"{}").kind(),
                kind,
                "{status}"
            );
        }
    }

    #[test]
    fn foreign_bodies_are_cut() {
        let long = "x".repeat(2000);
        let Error::Http { status, body } = Error::from_answer(502, None, long.as_bytes()) else {
            panic!("not an Http error");
        };
        assert_eq!(status, 502);
        assert_eq!(body.chars().count(), 513);
    }
}
