//! Event types, subscription patterns and the JSON body a plain webhook gets.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::validation::{ValidationError, check_len};

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// An event type such as `training.complete`: 1–255 characters of
/// `A-Za-z0-9_.:-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EventType(String);

impl EventType {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        check_len(field, value, 1, 255)?;
        if !value.chars().all(is_name_char) {
            return Err(ValidationError::new(
                field,
                "may contain only letters, digits and _ . : -",
            ));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an event type is one of Herald's own (`herald.webhook.disabled`,
/// `herald.delivery.failed`, …): only webhooks that name them receive them.
pub fn is_operational(event_type: &str) -> bool {
    event_type.starts_with("herald.")
}

/// Herald's own events that end an alert another raised, with the same
/// `data.dedup_key`: `herald.webhook.recovered` ends
/// `herald.webhook.degraded`, `herald.queue.recovered` ends
/// `herald.queue.backlog`. Incident tools (PagerDuty) resolve on them.
pub const RESOLVING_OPERATIONAL_EVENTS: [&str; 2] =
    ["herald.webhook.recovered", "herald.queue.recovered"];

/// A caller-chosen event id: 1–255 characters of `A-Za-z0-9_.:-`.
pub fn parse_event_id(field: &str, value: &str) -> Result<String, ValidationError> {
    check_len(field, value, 1, 255)?;
    if !value.chars().all(is_name_char) {
        return Err(ValidationError::new(
            field,
            "may contain only letters, digits and _ . : -",
        ));
    }
    Ok(value.to_string())
}

/// What a webhook subscribes to: every type, one exact type, or every type
/// under a dotted prefix (`hpo.*` matches `hpo.trial.done`, not `hpo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventTypePattern {
    All,
    Exact(String),
    /// The prefix including its trailing dot (`hpo.`).
    Prefix(String),
}

impl EventTypePattern {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        if value == "*" {
            return Ok(Self::All);
        }
        if let Some(prefix) = value.strip_suffix(".*") {
            let prefix = EventType::parse(field, prefix).map_err(|_| {
                ValidationError::new(
                    field,
                    "must be `*`, an event type, or a prefix ending in `.*` such as `hpo.*`",
                )
            })?;
            return Ok(Self::Prefix(format!("{}.", prefix.as_str())));
        }
        if value.contains('*') {
            return Err(ValidationError::new(
                field,
                "a wildcard may only be `*` or a trailing `.*` such as `hpo.*`",
            ));
        }
        Ok(Self::Exact(EventType::parse(field, value)?.0))
    }

    pub fn matches(&self, event_type: &str) -> bool {
        match self {
            Self::All => true,
            Self::Exact(t) => t == event_type,
            Self::Prefix(p) => event_type.len() > p.len() && event_type.starts_with(p.as_str()),
        }
    }
}

impl fmt::Display for EventTypePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Exact(t) => f.write_str(t),
            Self::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

impl Serialize for EventTypePattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventTypePattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("", &s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// RFC 3339 with milliseconds and `Z`, the one time format of the API.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Milliseconds since the epoch to a UTC time (stored times are integers).
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The exact body a plain webhook receives:
/// `{"id":…,"type":…,"timestamp":…,"data":…}`.
///
/// Built once per event at ingest and stored, so a delivery never
/// re-serialises the event data; `data` is copied through as the raw JSON
/// the client sent.
pub fn webhook_body(
    id: &str,
    event_type: &str,
    created_at: DateTime<Utc>,
    data: &RawValue,
) -> String {
    let id = serde_json::to_string(id).unwrap_or_default();
    let ty = serde_json::to_string(event_type).unwrap_or_default();
    let ts = format_time(created_at);
    let data = data.get();
    let mut body = String::with_capacity(48 + id.len() + ty.len() + ts.len() + data.len());
    body.push_str("{\"id\":");
    body.push_str(&id);
    body.push_str(",\"type\":");
    body.push_str(&ty);
    body.push_str(",\"timestamp\":\"");
    body.push_str(&ts);
    body.push_str("\",\"data\":");
    body.push_str(data);
    body.push('}');
    body
}

/// The `data` member of a stored webhook body, for API responses.
pub fn data_of_body(body: &str) -> serde_json::Value {
    #[derive(Deserialize)]
    struct Body {
        data: serde_json::Value,
    }
    serde_json::from_str::<Body>(body)
        .map(|b| b.data)
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> EventTypePattern {
        EventTypePattern::parse("event_types[0]", s).unwrap()
    }

    #[test]
    fn patterns_match_exact_all_and_prefix() {
        assert!(p("*").matches("anything.at.all"));
        assert!(p("training.complete").matches("training.complete"));
        assert!(!p("training.complete").matches("training.completed"));
        assert!(p("hpo.*").matches("hpo.trial"));
        assert!(p("hpo.*").matches("hpo.trial.done"));
        assert!(!p("hpo.*").matches("hpo"));
        assert!(!p("hpo.*").matches("hpox.trial"));
    }

    #[test]
    fn bad_patterns_are_refused_with_their_field() {
        for bad in ["", "a b", "*.failed", "hpo*", "a.*.b", ".*"] {
            let err = EventTypePattern::parse("event_types[1]", bad).unwrap_err();
            assert_eq!(err.field, "event_types[1]", "{bad}");
        }
    }

    #[test]
    fn body_embeds_raw_data_unchanged() {
        let data = RawValue::from_string("{\"b\": 1,  \"a\":[2]}".to_string()).unwrap();
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let body = webhook_body("evt_1", "x.y", t, &data);
        assert_eq!(
            body,
            r#"{"id":"evt_1","type":"x.y","timestamp":"2023-11-14T22:13:20.123Z","data":{"b": 1,  "a":[2]}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"]["a"][0], 2);
        assert_eq!(data_of_body(&body)["b"], 1);
    }
}
