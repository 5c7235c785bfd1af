//! `settings.metric`: instead of an event, each delivery posts one point of
//! a metric series (Metrics API v2, `POST /api/v2/series`), its value taken
//! from the event by JSON pointer or template, its tags by templates.
//!
//! One delivery is one request, so a webhook sends either events or a
//! metric; two webhooks give both.
//!
//! A value that is missing or not a number in an event fails that delivery
//! at once (a [`RenderError`] naming `metric.value`, never retried): the
//! same event would fail again, and a delivery marked delivered must have
//! sent something. A webhook's filter keeps events without the value away.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::RenderError;
use crate::notification::{EventInput, Notification};
use crate::settings::{Settings, check_text};
use crate::template::{TemplateBuilder, Templates};
use crate::truncate;
use herald_core::ValidationError;

/// Datadog's limit on metric names.
pub(crate) const NAME_MAX: usize = 200;
/// Tags of one series, the webhook's own and the added ones included.
pub(crate) const TAGS_MAX: usize = 100;
/// Characters of one tag.
pub(crate) const TAG_MAX: usize = 200;
const MAX_INTERVAL_S: u64 = 86_400;

/// The metric type, as the v2 API numbers it (0 is "unspecified").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MetricType {
    #[default]
    Gauge,
    Count,
    Rate,
}

impl MetricType {
    fn code(self) -> u8 {
        match self {
            Self::Count => 1,
            Self::Rate => 2,
            Self::Gauge => 3,
        }
    }
}

/// Where a point's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// The same number every time (`1` counts events).
    Fixed(f64),
    /// A JSON pointer into `data` (`/data/duration_ms` → `/duration_ms`).
    Pointer(String),
    /// The template `metric.value`, whose output must read as a number.
    Template,
}

#[derive(Debug, Clone)]
pub(crate) struct Metric {
    /// A fixed name, or `None` when `metric.name` is a template.
    name: Option<String>,
    value: Source,
    tags: usize,
    kind: MetricType,
    interval: Option<u64>,
}

/// `settings.metric` as written; checked key by key in [`Metric::take`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: Option<String>,
    value: Option<Value>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(rename = "type", default)]
    kind: MetricType,
    interval: Option<u64>,
}

impl Metric {
    /// Takes `settings.metric`, compiling its templates into `t`.
    pub(crate) fn take(
        s: &mut Settings,
        t: &mut TemplateBuilder,
    ) -> Result<Option<Metric>, ValidationError> {
        let Some(spec) = s.take::<Spec>("metric")? else {
            return Ok(None);
        };
        let field = |key: &str| format!("settings.metric.{key}");
        let name_source = spec
            .name
            .ok_or_else(|| ValidationError::new(field("name"), "is required"))?;
        check_text(&field("name"), &name_source, 1, 1000)?;
        let name = if is_template(&name_source) {
            t.add("metric.name", &name_source)
                .map_err(|e| e.within("settings"))?;
            None
        } else {
            check_name(&name_source).map_err(|m| ValidationError::new(field("name"), m))?;
            Some(name_source)
        };
        let value = match spec.value {
            None => return Err(ValidationError::new(field("value"), "is required")),
            Some(Value::Number(n)) => Source::Fixed(n.as_f64().unwrap_or_default()),
            Some(Value::String(p)) if p.starts_with('/') => Source::Pointer(
                data_pointer(&p).map_err(|m| ValidationError::new(field("value"), m))?,
            ),
            Some(Value::String(template)) if is_template(&template) => {
                t.add("metric.value", &template)
                    .map_err(|e| e.within("settings"))?;
                Source::Template
            }
            Some(_) => {
                return Err(ValidationError::new(
                    field("value"),
                    "must be a number, a JSON pointer into the event such as /data/duration_ms, \
                     or a template such as {{ event.data.ms / 1000 }}",
                ));
            }
        };
        if spec.tags.len() > TAGS_MAX {
            return Err(ValidationError::new(
                field("tags"),
                format!("may hold at most {TAGS_MAX} entries"),
            ));
        }
        for (i, tag) in spec.tags.iter().enumerate() {
            let name = format!("metric.tags[{i}]");
            check_text(&format!("settings.{name}"), tag, 1, 1000)?;
            if !is_template(tag) && tag.contains(char::is_whitespace) {
                return Err(ValidationError::new(
                    format!("settings.{name}"),
                    "tags cannot contain spaces (use key:value)",
                ));
            }
            t.add(&name, tag).map_err(|e| e.within("settings"))?;
        }
        if let Some(interval) = spec.interval {
            if spec.kind == MetricType::Gauge {
                return Err(ValidationError::new(
                    field("interval"),
                    "applies to count and rate metrics only",
                ));
            }
            if !(1..=MAX_INTERVAL_S).contains(&interval) {
                return Err(ValidationError::new(
                    field("interval"),
                    format!("must be between 1 and {MAX_INTERVAL_S} seconds"),
                ));
            }
        }
        Ok(Some(Metric {
            name,
            value,
            tags: spec.tags.len(),
            kind: spec.kind,
            interval: spec.interval,
        }))
    }

    /// The series body for one event: `tags` are the webhook's own,
    /// followed here by the rendered metric tags and the added
    /// `event_type:` and `source:herald`.
    pub(crate) fn body(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
        t: &Templates,
        mut tags: Vec<String>,
    ) -> Result<Value, RenderError> {
        let session = t.session(event, n);
        let name = match &self.name {
            Some(name) => name.clone(),
            None => {
                let name = session.render("metric.name")?;
                let name = name.trim();
                check_name(name).map_err(|m| {
                    RenderError::new("metric.name", format!("`{}` {m}", truncate::line(name, 80)))
                })?;
                name.to_string()
            }
        };
        let value = match &self.value {
            Source::Fixed(v) => *v,
            Source::Pointer(p) => {
                let shown = format!("/data{p}");
                let found = event.data.pointer(p).ok_or_else(|| {
                    RenderError::new("metric.value", format!("{shown} is not in this event"))
                })?;
                number(found).ok_or_else(|| {
                    RenderError::new(
                        "metric.value",
                        format!(
                            "{shown} is {}, not a number",
                            truncate::line(&found.to_string(), 80)
                        ),
                    )
                })?
            }
            Source::Template => {
                let text = session.render("metric.value")?;
                number(&Value::String(text.clone())).ok_or_else(|| {
                    RenderError::new(
                        "metric.value",
                        format!(
                            "rendered `{}`, not a number",
                            truncate::line(text.trim(), 80)
                        ),
                    )
                })?
            }
        };
        for i in 0..self.tags {
            let tag = truncate::single_line(&session.render(&format!("metric.tags[{i}]"))?);
            // A tag whose data is missing is left out rather than sent as
            // `env:`.
            if !tag.is_empty() && !tag.ends_with(':') {
                tags.push(truncate::chars(&tag, TAG_MAX));
            }
        }
        tags.push(format!("event_type:{}", event.event_type));
        tags.push("source:herald".to_string());
        tags.truncate(TAGS_MAX);
        let mut series = json!({
            "metric": name,
            "type": self.kind.code(),
            "points": [{"timestamp": event.unix_seconds(), "value": value}],
            "tags": tags,
        });
        if let Some(interval) = self.interval {
            series["interval"] = interval.into();
        }
        Ok(json!({ "series": [series] }))
    }
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// Datadog's rule: ASCII letters, digits, `_` and `.`, starting with a
/// letter, at most 200 characters.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= NAME_MAX
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "is not a Datadog metric name (letters, digits, `_` and `.`, starting with a letter, \
             at most {NAME_MAX} characters)"
        ))
    }
}

/// `/data/timings/total_ms` → `/timings/total_ms`, checked as RFC 6901.
fn data_pointer(pointer: &str) -> Result<String, String> {
    let Some(rest) = pointer.strip_prefix("/data/") else {
        return Err(format!(
            "`{}` must point into the event's data, such as /data/duration_ms",
            truncate::line(pointer, 80)
        ));
    };
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("`~` must be followed by 0 or 1 in a JSON pointer (RFC 6901)".to_string());
        }
    }
    if pointer.len() > 500 {
        return Err("must be at most 500 characters".to_string());
    }
    Ok(format!("/{rest}"))
}

/// A JSON number, or a string holding one (`"12.5"`), if finite.
fn number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_datadogs_rule() {
        assert!(check_name("herald.job.duration_ms").is_ok());
        for bad in ["", "1abc", "a b", "a-b", "é", &"a".repeat(201)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pointers_stay_in_data() {
        assert_eq!(data_pointer("/data/a~1b/0").unwrap(), "/a~1b/0");
        for bad in ["/id", "/data", "/datax/a", "/data/a~2"] {
            assert!(data_pointer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_read_from_json_and_text() {
        assert_eq!(number(&json!(3)), Some(3.0));
        assert_eq!(number(&json!(" 2.5 ")), Some(2.5));
        for bad in [
            json!("x"),
            json!(null),
            json!(true),
            json!("NaN"),
            json!("inf"),
            json!([1]),
        ] {
            assert_eq!(number(&bad), None, "{bad}");
        }
    }
}
