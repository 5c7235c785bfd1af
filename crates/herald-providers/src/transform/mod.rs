//! A webhook's compiled `transform` (see
//! [`TransformSpec`](herald_core::webhook::transform::TransformSpec)):
//! checked and compiled once when the webhook is saved, applied to every
//! attempt of a plain webhook or a Zapier hook.
//!
//! The body template is Jinja with JSON auto-escaping: whatever an
//! expression writes is written as JSON (a string with its quotes, an
//! object as an object), so values from the event can never break out of
//! the shape the template gives. Undefined values are chainable and write
//! `null`, as one event lacking an optional key should not fail its
//! delivery; what still fails at send time (output that is not JSON, a
//! form body that is not an object, a runaway template) fails that
//! delivery at once, naming the part.

mod paths;

use std::io::Write as _;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::RenderError;
use crate::notification::EventInput;
use crate::template::{describe, refuse_unknown_names};
use herald_core::ValidationError;
use herald_core::webhook::transform::{BodyEncoding, Compression, HttpMethod, TransformSpec};
use paths::Path;

/// Bounds the work one render may do (about one unit per instruction), as
/// for the providers' templates.
const FUEL: u64 = 200_000;
/// A rendered body may not be larger than this.
const MAX_BODY: usize = 5 * 1024 * 1024;
const TEMPLATE: &str = "template";

/// One webhook's transform, ready to apply. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Transform {
    include: Vec<Path>,
    exclude: Vec<Path>,
    rename: Vec<(Path, Path)>,
    template: Option<std::sync::Arc<Environment<'static>>>,
    method: HttpMethod,
    encoding: BodyEncoding,
    compression: Option<Compression>,
}

impl Transform {
    /// Checks and compiles a transform; errors name the field under
    /// `transform` (`transform.template`).
    pub fn compile(spec: &TransformSpec) -> Result<Transform, ValidationError> {
        spec.validate().map_err(|e| e.within("transform"))?;
        let template = match &spec.template {
            Some(source) => Some(std::sync::Arc::new(
                compile_template(source).map_err(|e| e.within("transform"))?,
            )),
            None => None,
        };
        Ok(Transform {
            include: spec.include.iter().map(|p| Path::parse(p)).collect(),
            exclude: spec.exclude.iter().map(|p| Path::parse(p)).collect(),
            rename: spec
                .rename
                .iter()
                .map(|(from, to)| (Path::parse(from), Path::parse(to)))
                .collect(),
            template,
            method: spec.method,
            encoding: spec.content_type,
            compression: spec.compression,
        })
    }

    pub fn method(&self) -> HttpMethod {
        self.method
    }

    pub fn content_type(&self) -> &'static str {
        self.encoding.content_type()
    }

    /// `content-encoding` of the body sent, if compressed.
    pub fn content_encoding(&self) -> Option<&'static str> {
        self.compression.map(|Compression::Gzip| "gzip")
    }

    /// Whether the body is built from the event (rather than sent as
    /// stored): fields moved or dropped, a template, or a form.
    pub fn rebuilds_body(&self) -> bool {
        self.reshapes_data() || self.template.is_some() || self.encoding != BodyEncoding::Json
    }

    pub fn has_template(&self) -> bool {
        self.template.is_some()
    }

    /// Whether `include`, `exclude` or `rename` change `data`.
    pub fn reshapes_data(&self) -> bool {
        !(self.include.is_empty() && self.exclude.is_empty() && self.rename.is_empty())
    }

    /// `data` with `include`, `exclude` and `rename` applied, in that order.
    pub fn shape_data(&self, data: &Value) -> Value {
        let mut shaped = if self.include.is_empty() {
            data.clone()
        } else {
            paths::include(data, &self.include)
        };
        for path in &self.exclude {
            paths::exclude(&mut shaped, path);
        }
        paths::rename(&mut shaped, &self.rename);
        shaped
    }

    /// What one event's body says, before encoding: the template's output
    /// for `event` (its data already shaped), or `default` without one.
    pub fn body_value(
        &self,
        event: &EventInput<'_>,
        default: impl FnOnce() -> Value,
    ) -> Result<Value, RenderError> {
        let Some(env) = &self.template else {
            return Ok(default());
        };
        let ctx = minijinja::context! { event => minijinja::Value::from_serialize(EventScope::of(event)) };
        let rendered = env
            .get_template(TEMPLATE)
            .and_then(|t| t.render(ctx))
            .map_err(|e| RenderError::new("transform.template", describe(&e)))?;
        if rendered.len() > MAX_BODY {
            return Err(RenderError::new(
                "transform.template",
                format!("the output is larger than {MAX_BODY} bytes"),
            ));
        }
        serde_json::from_str(&rendered).map_err(|e| {
            RenderError::new(
                "transform.template",
                format!("the output is not JSON ({e}); expressions write JSON, so write `{{{{ event.data.name }}}}` without quotes around it"),
            )
        })
    }

    /// The body as sent, before compression: JSON, or a form of the
    /// object's fields (strings as they are, other values as JSON text).
    pub fn encode(&self, value: &Value) -> Result<Vec<u8>, RenderError> {
        match self.encoding {
            BodyEncoding::Json => Ok(serde_json::to_vec(value).unwrap_or_default()),
            BodyEncoding::Form => {
                let Value::Object(fields) = value else {
                    return Err(RenderError::new(
                        "transform.content_type",
                        "a form body must be a JSON object of fields",
                    ));
                };
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (name, value) in fields {
                    match value {
                        Value::String(s) => form.append_pair(name, s),
                        Value::Null => form.append_pair(name, ""),
                        other => form.append_pair(name, &other.to_string()),
                    };
                }
                Ok(form.finish().into_bytes())
            }
        }
    }

    /// The bytes on the wire: `body` compressed as the transform says.
    pub fn compress(&self, body: Vec<u8>) -> Vec<u8> {
        match self.compression {
            None => body,
            Some(Compression::Gzip) => {
                let mut gz = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 2 + 64),
                    flate2::Compression::default(),
                );
                // Writing to memory cannot fail.
                let _ = gz.write_all(&body);
                gz.finish().unwrap_or_default()
            }
        }
    }
}

fn compile_template(source: &str) -> Result<Environment<'static>, ValidationError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_fuel(Some(FUEL));
    env.add_template_owned(TEMPLATE, source.to_string())
        .map_err(|e| ValidationError::new(TEMPLATE, describe(&e)))?;
    let data = Value::Object(Map::new());
    let sample = EventInput {
        id: "evt_sample",
        event_type: "sample.event",
        timestamp_ms: 0,
        data: &data,
    };
    let ctx =
        minijinja::context! { event => minijinja::Value::from_serialize(EventScope::of(&sample)) };
    refuse_unknown_names(
        TEMPLATE,
        env.get_template(TEMPLATE).and_then(|t| t.render(ctx)),
    )?;
    Ok(env)
}

/// `event` as a body template sees it.
#[derive(Serialize)]
struct EventScope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    timestamp_ms: i64,
    data: &'a Value,
}

impl<'a> EventScope<'a> {
    fn of(event: &EventInput<'a>) -> Self {
        EventScope {
            id: event.id,
            event_type: event.event_type,
            timestamp: event.timestamp(),
            timestamp_ms: event.timestamp_ms,
            data: event.data,
        }
    }
}

#[cfg(test)]
mod tests;
