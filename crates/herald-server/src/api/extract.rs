//! Request parsing that names the field at fault: JSON bodies and query
//! strings go through `serde_path_to_error`, so a wrong type deep in a body
//! answers `retry.max_retries`, not "invalid input".

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::BytesMut;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::api::AppState;
use crate::error::ApiError;

/// A JSON body, parsed with field-precise errors.
pub(crate) struct JsonBody<T>(pub(crate) T);

/// How much of an oversized body is read and thrown away before the 413
/// goes out, and for how long at most.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The raw body, bounded by the configured limit.
///
/// An oversized body is drained (up to a bound) before answering 413:
/// otherwise the connection closes while the client is still sending, and
/// most clients then report a broken connection instead of the answer.
pub(crate) async fn read_body(state: &AppState, request: Request) -> Result<Bytes, ApiError> {
    let limit = state.max_body_bytes();
    let mut body = request.into_body();
    // Most bodies arrive in one frame: keep it as is and copy only when a
    // second one comes.
    let mut first: Option<Bytes> = None;
    let mut collected = BytesMut::new();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body must be at most {limit} bytes"),
        )
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the request body could not be read to its end",
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let held = first.as_ref().map_or(0, Bytes::len) + collected.len();
        if held + data.len() > limit {
            let mut seen = held + data.len();
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                while seen < DRAIN_BYTES {
                    match body.frame().await {
                        Some(Ok(frame)) => seen += frame.data_ref().map_or(0, Bytes::len),
                        _ => break,
                    }
                }
            })
            .await;
            return Err(too_large());
        }
        match first.take() {
            None if collected.is_empty() => first = Some(data),
            earlier => {
                if let Some(earlier) = earlier {
                    collected.extend_from_slice(&earlier);
                }
                collected.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| collected.freeze()))
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(state, request).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An optional JSON body: empty (or only whitespace) or `null` is
/// `T::default()`, as the spec's optional, nullable bodies say.
pub(crate) async fn optional_json<T: DeserializeOwned + Default>(
    state: &AppState,
    request: Request,
) -> Result<T, ApiError> {
    let bytes = read_body(state, request).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
        return Ok(T::default());
    }
    parse_json(&bytes)
}

/// Parses JSON text into `T`; malformed JSON is a 400, anything that is
/// JSON but not a valid `T` a 422 naming the field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_nesting(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut de);
    // Trailing garbage after the value is malformed JSON too.
    let parsed = match parsed {
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => return Err(invalid_json(&e)),
        },
        Err(e) => e,
    };
    let inner = parsed.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Err(invalid_json(inner));
    }
    let message = strip_position(&inner.to_string());
    Err(field_error(&parsed.path().to_string(), &message))
}

/// The deepest nesting of objects and arrays a request body may have, the
/// body itself counting as one level: what `serde_json` parses (it refuses
/// a 128th level), so a stored event always parses again for rendering.
pub(crate) const MAX_NESTING: usize = 127;

/// Refuses bodies nested deeper than [`MAX_NESTING`] before parsing them.
/// Parts kept as raw JSON (an event's `data`) are not parsed here, so
/// without this check an event nested 100,000 levels deep would be
/// accepted and then fail every render.
fn check_nesting(bytes: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_json",
                        format!("the body is nested more than {MAX_NESTING} levels deep"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn invalid_json(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_json",
        format!("the body is not valid JSON: {e}"),
    )
}

/// Converts a value already parsed as JSON into `T`, naming the field.
pub(crate) fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value)
        .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
}

/// A 422 for a serde error: the path, completed with the field serde names
/// in its message when the path stops at the parent (missing and unknown
/// fields), and a message that leads with the field.
fn field_error(path: &str, message: &str) -> ApiError {
    let mut field = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    let mut text = message.to_string();
    for (lead, rewrite) in [
        ("missing field `", "is required"),
        ("unknown field `", "is not a known field"),
    ] {
        let Some(name) = message.strip_prefix(lead).and_then(|r| r.split('`').next()) else {
            continue;
        };
        if !field.ends_with(name) {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(name);
        }
        // Keep serde's list of accepted names for unknown fields.
        text = match message.split_once(", expected ") {
            Some((_, expected)) => format!("{rewrite}; expected {expected}"),
            None => rewrite.to_string(),
        };
    }
    if field.is_empty() {
        return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", text);
    }
    let message = format!("{field}: {text}");
    ApiError::validation(field, message)
}

/// serde_json appends " at line 1 column 42"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string, parsed with the offending parameter named.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(QueryParams)
            .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// A query parameter that is an RFC 3339 time, in milliseconds since the
/// epoch; a malformed one is a 422 naming the parameter.
pub(crate) fn query_time(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    ApiError::validation(
                        field,
                        format!("{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"),
                    )
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(check_nesting(nested(MAX_NESTING).as_bytes()).is_ok());
        assert!(check_nesting(nested(MAX_NESTING + 1).as_bytes()).is_err());
        assert!(check_nesting(nested(100_000).as_bytes()).is_err());
        // Brackets and escaped quotes inside strings are text, not nesting.
        let text = format!(r#"{{"a": "{}\"{}"}}"#, "[".repeat(500), "{".repeat(500));
        assert!(check_nesting(text.as_bytes()).is_ok());
        let deep_after_string = format!(r#"{{"a": "\\", "b": {}}}"#, nested(MAX_NESTING));
        assert!(check_nesting(deep_after_string.as_bytes()).is_err());
    }
}
