//! A webhook's `transform`: what its receiver gets instead of the stored
//! envelope. Fields of `data` kept (`include`), dropped (`exclude`) or
//! moved (`rename`), then optionally a JSON body template, sent with a
//! chosen method, content type and compression.
//!
//! This module holds the stored form and its structural checks; the
//! template is compiled (and the whole transform applied) by the
//! providers crate, which owns the template engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::validation::check_len;

/// At most this many paths in each of `include`, `exclude` and `rename`.
pub const MAX_PATHS: usize = 100;
/// A path may not be longer than this (characters).
pub const MAX_PATH_LEN: usize = 256;
/// A path may not be deeper than this.
pub const MAX_PATH_DEPTH: usize = 32;
/// A body template may not be longer than this (characters).
pub const MAX_TEMPLATE_LEN: usize = 20_000;

/// The method of an HTTP request Herald sends.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
        }
    }
}

/// How the transformed body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum BodyEncoding {
    /// `application/json`.
    #[default]
    #[serde(rename = "json", alias = "application/json")]
    Json,
    /// `application/x-www-form-urlencoded`: the body must be a JSON object;
    /// strings are sent as they are, other values as their JSON text.
    #[serde(rename = "form", alias = "application/x-www-form-urlencoded")]
    Form,
}

impl BodyEncoding {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// How the body is compressed on the wire (`content-encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
}

/// What a webhook's receiver gets, when it is not the plain envelope
/// (`{id, type, timestamp, data}`). Applied in this order: `include`,
/// `exclude`, `rename` (all on `data`), then `template` over the result;
/// then the body is encoded as `content_type` and signed, and compressed
/// on the wire (the signature covers the body a receiver reads once it has
/// undone the `content-encoding`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformSpec {
    /// Keep only these dot paths of `data` (`user.email`); a path that
    /// meets an array applies to each of its elements. Also accepted as
    /// `include_fields`.
    #[serde(
        default,
        alias = "include_fields",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schema(max_items = 100)]
    pub include: Vec<String>,
    /// Drop these dot paths of `data` (`stack_trace`, `items.secret`). Also
    /// accepted as `exclude_fields`.
    #[serde(
        default,
        alias = "exclude_fields",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schema(max_items = 100)]
    pub exclude: Vec<String>,
    /// Move values within `data`: `{"amount": "total.value"}`. All moves
    /// read the data before any is written, so their order does not matter.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// A Jinja template whose output is the JSON body. Every expression
    /// writes JSON (`{{ event.data.name }}` writes `"Ada"`, with the
    /// quotes), so the template is the body's shape with values put in:
    /// `{"text": {{ "Run " ~ event.data.run ~ " done" }}, "n": {{ event.data.n }}}`.
    /// In scope: `event.id`, `event.type`, `event.timestamp`, `event.data`
    /// (after `include`, `exclude` and `rename`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    pub template: Option<String>,
    #[serde(default)]
    pub method: HttpMethod,
    #[serde(default)]
    pub content_type: BodyEncoding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
}

impl TransformSpec {
    /// The structural rules; errors name the field relative to the
    /// transform (`include[2]`, `rename.amount`).
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_paths("include", &self.include)?;
        check_paths("exclude", &self.exclude)?;
        if self.rename.len() > MAX_PATHS {
            return Err(ValidationError::new(
                "rename",
                format!("may move at most {MAX_PATHS} paths"),
            ));
        }
        for (from, to) in &self.rename {
            let field = format!("rename.{from}");
            check_path(&field, from)?;
            check_path(&field, to)?;
        }
        if let Some(template) = &self.template {
            check_len("template", template, 1, MAX_TEMPLATE_LEN)?;
        }
        Ok(())
    }

    /// Whether the body is still the envelope as stored: nothing to parse,
    /// reshape or re-encode on the way out.
    pub fn keeps_body(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.rename.is_empty()
            && self.template.is_none()
            && self.content_type == BodyEncoding::Json
    }
}

fn check_paths(field: &str, paths: &[String]) -> Result<(), ValidationError> {
    if paths.len() > MAX_PATHS {
        return Err(ValidationError::new(
            field,
            format!("may list at most {MAX_PATHS} paths"),
        ));
    }
    for (i, path) in paths.iter().enumerate() {
        check_path(&format!("{field}[{i}]"), path)?;
    }
    Ok(())
}

/// A dot path: 1 to [`MAX_PATH_DEPTH`] non-empty keys.
fn check_path(field: &str, path: &str) -> Result<(), ValidationError> {
    check_len(field, path, 1, MAX_PATH_LEN)?;
    let keys = path.split('.');
    if keys.clone().any(str::is_empty) {
        return Err(ValidationError::new(
            field,
            format!("`{path}` has an empty key: write dot paths such as `user.email`"),
        ));
    }
    if keys.count() > MAX_PATH_DEPTH {
        return Err(ValidationError::new(
            field,
            format!("may be at most {MAX_PATH_DEPTH} keys deep"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> TransformSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_seeds_field_names_are_accepted_and_stored_as_ours() {
        let t = parse(json!({"include_fields": ["status"], "exclude_fields": ["stack_trace"]}));
        assert_eq!(t.include, ["status"]);
        assert_eq!(t.exclude, ["stack_trace"]);
        let stored = serde_json::to_value(&t).unwrap();
        assert_eq!(stored["include"], json!(["status"]));
        assert!(stored.get("include_fields").is_none());
    }

    #[test]
    fn content_types_take_short_and_mime_names() {
        let form = parse(json!({"content_type": "application/x-www-form-urlencoded"}));
        assert_eq!(form.content_type, BodyEncoding::Form);
        assert_eq!(
            parse(json!({"content_type": "form"})).content_type,
            BodyEncoding::Form
        );
        assert_eq!(parse(json!({})).content_type, BodyEncoding::Json);
        assert!(serde_json::from_value::<TransformSpec>(json!({"content_type": "xml"})).is_err());
        assert!(serde_json::from_value::<TransformSpec>(json!({"method": "GET"})).is_err());
    }

    #[test]
    fn bad_paths_are_named() {
        let field = |v| parse(v).validate().unwrap_err().field;
        assert_eq!(field(json!({"include": ["a", "b..c"]})), "include[1]");
        assert_eq!(field(json!({"exclude": [""]})), "exclude[0]");
        assert_eq!(field(json!({"rename": {"a": "b."}})), "rename.a");
        let deep = vec!["k"; MAX_PATH_DEPTH + 1].join(".");
        assert_eq!(field(json!({"include": [deep]})), "include[0]");
        let many: Vec<String> = (0..=MAX_PATHS).map(|i| format!("k{i}")).collect();
        assert_eq!(field(json!({"exclude": many})), "exclude");
        assert_eq!(field(json!({"template": ""})), "template");
        assert!(
            parse(json!({"include": ["a.b", "c"], "rename": {"a.b": "x"}}))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn only_an_empty_transform_keeps_the_stored_body() {
        assert!(parse(json!({"method": "PUT", "compression": "gzip"})).keeps_body());
        assert!(!parse(json!({"exclude": ["a"]})).keeps_body());
        assert!(!parse(json!({"content_type": "form"})).keeps_body());
    }
}
