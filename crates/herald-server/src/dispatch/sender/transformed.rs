//! What a webhook's `transform` makes of a request: the plain webhook's
//! body built from the stored envelope (or kept as stored when nothing
//! reshapes it), Zapier's request re-bodied, and both compressed as asked.
//! A failure here is the transform's, for this event: the attempt fails at
//! once with category `transform` and the message.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use herald_providers::{EventInput, HttpRequest, RenderError, Transform};
use serde_json::{Map, Value};

use super::SharedBody;

/// The stored envelope, read back for a transform.
#[derive(serde::Deserialize)]
struct Stored {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    timestamp: String,
    data: Value,
}

/// A plain webhook's body: what is signed, and what goes on the wire
/// (the same bytes, or those compressed). Signatures cover the body
/// before compression, which is what a receiver reads after undoing the
/// `content-encoding` (many servers undo it before the handler runs) and
/// what Standard Webhooks libraries, which verify text, can check.
pub(super) struct Body {
    pub(super) signed: Bytes,
    pub(super) wire: Bytes,
}

impl Body {
    fn new(transform: Option<&Transform>, signed: Bytes) -> Body {
        match transform {
            Some(t) if t.content_encoding().is_some() => Body {
                wire: Bytes::from(t.compress(signed.to_vec())),
                signed,
            },
            _ => Body {
                wire: signed.clone(),
                signed,
            },
        }
    }
}

/// A plain webhook's body for one stored envelope.
pub(super) fn webhook_body(
    transform: Option<&Transform>,
    stored: &Arc<str>,
) -> Result<Body, String> {
    let signed = match transform {
        Some(t) if t.rebuilds_body() => {
            Bytes::from(t.encode(&rebuilt(t, stored)?).map_err(message)?)
        }
        _ => Bytes::from_owner(SharedBody(stored.clone())),
    };
    Ok(Body::new(transform, signed))
}

/// A plain webhook's batch: the JSON array of what each envelope becomes.
pub(super) fn webhook_batch_body(
    transform: Option<&Transform>,
    stored: &[&Arc<str>],
) -> Result<Body, String> {
    let signed = match transform {
        Some(t) if t.rebuilds_body() => {
            let values = stored
                .iter()
                .map(|s| rebuilt(t, s))
                .collect::<Result<Vec<_>, _>>()?;
            t.encode(&Value::Array(values)).map_err(message)?
        }
        _ => {
            let mut body =
                Vec::with_capacity(stored.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
            body.push(b'[');
            for (i, s) in stored.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(s.as_bytes());
            }
            body.push(b']');
            body
        }
    };
    Ok(Body::new(transform, Bytes::from(signed)))
}

/// One envelope as the transform has it: the template's output, or the
/// envelope with its data reshaped.
fn rebuilt(t: &Transform, stored: &str) -> Result<Value, String> {
    let event: Stored = serde_json::from_str(stored)
        .map_err(|e| format!("the stored event is not readable: {e}"))?;
    let data = t.shape_data(&event.data);
    let input = EventInput {
        id: &event.id,
        event_type: &event.event_type,
        timestamp_ms: timestamp_ms(&event.timestamp),
        data: &data,
    };
    let value = t.body_value(&input, || {
        let mut envelope = Map::with_capacity(4);
        envelope.insert("id".into(), Value::String(event.id.clone()));
        envelope.insert("type".into(), Value::String(event.event_type.clone()));
        envelope.insert("timestamp".into(), Value::String(event.timestamp.clone()));
        envelope.insert("data".into(), data.clone());
        Value::Object(envelope)
    });
    value.map_err(message)
}

/// The data an integration renders from: reshaped by the transform when it
/// moves or drops fields (so a dropped secret is in no part of the body).
pub(super) fn shaped_data<'a>(transform: Option<&Transform>, data: &'a Value) -> Cow<'a, Value> {
    match transform {
        Some(t) if t.reshapes_data() => Cow::Owned(t.shape_data(data)),
        _ => Cow::Borrowed(data),
    }
}

/// An integration's request with the transform's body (the template's
/// output for each event; a batch as an array), content type, method and
/// compression.
pub(super) fn reshape_request(
    t: &Transform,
    mut request: HttpRequest,
    events: &[EventInput<'_>],
    batch: bool,
) -> Result<HttpRequest, String> {
    if t.rebuilds_body() {
        let body = if t.has_template() {
            let mut values = events
                .iter()
                .map(|e| t.body_value(e, || Value::Null))
                .collect::<Result<Vec<_>, _>>()
                .map_err(message)?;
            if batch {
                Value::Array(values)
            } else {
                values.pop().unwrap_or(Value::Null)
            }
        } else {
            serde_json::from_slice(&request.body)
                .map_err(|e| format!("the provider's body is not JSON: {e}"))?
        };
        request.body = t.encode(&body).map_err(message)?;
    }
    request.headers.retain(|(name, _)| {
        !name.eq_ignore_ascii_case("content-type") && !name.eq_ignore_ascii_case("content-encoding")
    });
    request
        .headers
        .push(("content-type".into(), t.content_type().into()));
    if let Some(encoding) = t.content_encoding() {
        request
            .headers
            .push(("content-encoding".into(), encoding.into()));
    }
    request.body = t.compress(request.body);
    request.method = t.method();
    Ok(request)
}

fn timestamp_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

fn message(e: RenderError) -> String {
    e.to_string()
}
