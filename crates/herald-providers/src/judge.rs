//! Reading a destination's HTTP answer: delivered, try again later, or give
//! up — with the provider's own error text for the attempt log.

use std::time::Duration;

use herald_core::retry::Verdict;
use serde_json::Value;

use crate::truncate;

/// The judgement of one attempt, in the retry policy's own terms, with
/// what the provider said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verdict,
    /// The provider's error text (`channel_not_found`, PagerDuty's `errors`).
    pub message: Option<String>,
    /// How long the provider asked us to wait; the server clamps it.
    pub retry_after: Option<Duration>,
}

/// Error texts kept for the attempt log are cut to this many characters.
const MESSAGE_MAX: usize = 500;

impl Answer {
    pub fn success() -> Self {
        Self {
            verdict: Verdict::Success,
            message: None,
            retry_after: None,
        }
    }

    pub(crate) fn retry(message: Option<String>, retry_after: Option<Duration>) -> Self {
        Self {
            verdict: Verdict::Retryable,
            message: message.map(|m| truncate::chars(&m, MESSAGE_MAX)),
            retry_after,
        }
    }

    pub(crate) fn permanent(message: Option<String>) -> Self {
        Self {
            verdict: Verdict::Permanent,
            message: message.map(|m| truncate::chars(&m, MESSAGE_MAX)),
            retry_after: None,
        }
    }
}

/// The rules for a plain webhook and the base for every provider: 2xx
/// success; 408, 429 and 5xx retry (honouring `Retry-After`); anything else,
/// 3xx included since redirects are not followed, permanent. `message` is
/// the error text to log for a failure.
pub(crate) fn by_status(status: u16, message: Option<String>, retry_after: Option<&str>) -> Answer {
    match status {
        200..=299 => Answer::success(),
        408 | 429 | 500..=599 => Answer::retry(message, retry_after.and_then(parse_retry_after)),
        _ => Answer::permanent(message),
    }
}

/// A non-blank body, trimmed, as the error text.
pub(crate) fn body_text(body: &str) -> Option<String> {
    let body = body.trim();
    (!body.is_empty()).then(|| truncate::single_line(body))
}

/// The body as JSON, if it is.
pub(crate) fn json(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok()
}

/// Strings and lists of strings at the given keys of a JSON body, joined:
/// `{"message": "Invalid", "errors": ["a", "b"]}` → `Invalid: a; b`.
pub(crate) fn json_text(value: &Value, keys: &[&str]) -> Option<String> {
    let mut parts = Vec::new();
    for key in keys {
        match value.get(*key) {
            Some(Value::String(s)) if !s.trim().is_empty() => parts.push(s.trim().to_string()),
            Some(Value::Array(list)) => {
                let items: Vec<String> = list
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(o) => {
                            o.get("message").and_then(Value::as_str).map(str::to_string)
                        }
                        _ => None,
                    })
                    .collect();
                if !items.is_empty() {
                    parts.push(items.join("; "));
                }
            }
            Some(Value::Object(map)) => {
                // Jira's `errors`: field → message.
                let items: Vec<String> = map
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}: {v}")))
                    .collect();
                if !items.is_empty() {
                    parts.push(items.join("; "));
                }
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(": "))
    }
}

/// The error text of a JSON body at `keys`, else the raw body.
pub(crate) fn error_text(body: &str, keys: &[&str]) -> Option<String> {
    json(body)
        .and_then(|v| json_text(&v, keys))
        .or_else(|| body_text(body))
}

/// `Retry-After` as seconds or an HTTP date, relative to now: the one
/// bounded parser in `herald_core::retry`.
pub fn parse_retry_after(raw: &str) -> Option<Duration> {
    herald_core::retry::parse_retry_after(raw, chrono::Utc::now())
}

/// Non-negative, finite seconds as a bounded wait.
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    herald_core::retry::wait_of_seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_rules() {
        assert_eq!(by_status(204, None, None).verdict, Verdict::Success);
        assert_eq!(by_status(301, None, None).verdict, Verdict::Permanent);
        assert_eq!(by_status(400, None, None).verdict, Verdict::Permanent);
        assert_eq!(by_status(408, None, None).verdict, Verdict::Retryable);
        assert_eq!(by_status(503, None, None).verdict, Verdict::Retryable);
        let a = by_status(429, None, Some("7"));
        assert_eq!(
            (a.verdict, a.retry_after),
            (Verdict::Retryable, Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn json_error_texts() {
        let v = json!({"message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect"]});
        assert_eq!(
            json_text(&v, &["message", "errors"]).unwrap(),
            "Event object is invalid: Length of 'routing_key' is incorrect"
        );
        let v = json!({"errorMessages": [], "errors": {"summary": "required"}});
        assert_eq!(
            json_text(&v, &["errorMessages", "errors"]).unwrap(),
            "summary: required"
        );
        assert_eq!(
            error_text("plain  text\n", &["message"]).unwrap(),
            "plain text"
        );
        assert_eq!(error_text("   ", &["message"]), None);
    }
}
