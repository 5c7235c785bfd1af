//! The normalized notification every provider renders from, and the rules
//! that derive it from an event's type and data.
//!
//! The rules are documented in the crate root and in `docs/PROVIDERS.md`;
//! keep the three in step.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::links::web_url;
use crate::text::Text;
use crate::truncate::single_line;

/// The event as the renderer sees it.
#[derive(Debug, Clone, Copy)]
pub struct EventInput<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    pub data: &'a Value,
}

impl EventInput<'_> {
    /// RFC 3339 with milliseconds and `Z`, as in the API.
    pub fn timestamp(&self) -> String {
        herald_core::event::format_time(herald_core::event::from_millis(self.timestamp_ms))
    }

    /// Whole seconds since the epoch (Datadog's `date_happened`).
    pub fn unix_seconds(&self) -> i64 {
        self.timestamp_ms.div_euclid(1000)
    }

    /// `2024-11-14 22:13:20 UTC`, for footers people read.
    pub fn human_time(&self) -> String {
        herald_core::event::from_millis(self.timestamp_ms)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    }
}

/// How bad (or good) the news is; picks colours, PagerDuty severities and
/// whether failure mentions are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Success,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Success,
        Self::Warning,
        Self::Error,
        Self::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }

    /// Capitalised, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "Info",
            Self::Success => "Success",
            Self::Warning => "Warning",
            Self::Error => "Error",
            Self::Critical => "Critical",
        }
    }

    /// The palette: one colour per severity, `#RRGGBB`.
    pub fn color(self) -> &'static str {
        match self {
            Self::Success => "#2EB67D",
            Self::Info => "#1D9BD1",
            Self::Warning => "#ECB22E",
            Self::Error => "#E01E5A",
            Self::Critical => "#8B0000",
        }
    }

    /// Error and critical: the severities that page people.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Error | Self::Critical)
    }

    /// Reads the words applications use for a severity, case-insensitively:
    /// `fatal`, `warn`, `p2`, `ok`, … (see the table in the crate docs).
    pub fn from_word(word: &str) -> Option<Self> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "critical" | "crit" | "fatal" | "emergency" | "emerg" | "urgent" | "highest" | "p1"
            | "sev1" => Self::Critical,
            "error" | "err" | "failure" | "failed" | "fail" | "high" | "major" | "p2" | "sev2" => {
                Self::Error
            }
            "warning" | "warn" | "medium" | "moderate" | "minor" | "p3" | "sev3" => Self::Warning,
            "info" | "information" | "informational" | "notice" | "debug" | "low" | "lowest"
            | "trivial" | "p4" | "p5" | "sev4" | "sev5" => Self::Info,
            "success" | "succeeded" | "ok" | "passed" | "pass" | "resolved" | "good" | "done"
            | "complete" | "completed" => Self::Success,
            _ => return None,
        })
    }

    /// Priority numbers count down from 1 (the most urgent), as in
    /// PagerDuty, Jira and Opsgenie.
    fn from_priority_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::Critical),
            2 => Some(Self::Error),
            3 => Some(Self::Warning),
            4.. => Some(Self::Info),
            _ => None,
        }
    }

    /// The last word of an event type (`training.complete` → `complete`).
    fn from_type_word(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "failed" | "failure" | "fail" | "error" | "errored" | "crashed" => Self::Error,
            "complete" | "completed" | "succeeded" | "success" | "done" | "finished" | "passed"
            | "resolved" => Self::Success,
            "alert" | "warning" | "warn" | "degraded" => Self::Warning,
            "critical" | "fatal" => Self::Critical,
            _ => return None,
        })
    }
}

/// One key/value pair, shown as a fact, field or table row. The value may
/// carry the owner's template markup; the label is always text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub label: String,
    pub value: Text,
}

/// A URL shown as a button (or a link where the service has no buttons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// Where the event came from, shown small at the bottom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footer {
    /// `data.source`, else `Herald`.
    pub source: String,
    pub event_id: String,
    /// RFC 3339.
    pub timestamp: String,
    /// The footer line as shown: `source · event id · time`, unless a
    /// template replaced it.
    pub text: String,
}

/// What every provider renders: one message, independent of the service.
///
/// `body` and field values are [`Text`]: from a template they may carry the
/// webhook owner's markup, which services receive as written, while text
/// from event data is always escaped. Every other part is text everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub title: String,
    pub body: Text,
    pub severity: Severity,
    pub fields: Vec<Field>,
    pub links: Vec<Link>,
    pub mentions: Vec<String>,
    pub footer: Footer,
}

impl Notification {
    /// The parts every service shows on one line made so, the same for
    /// every provider: title, field and link labels, source and footer.
    /// Line breaks and other control characters become spaces and
    /// bidirectional controls are removed (see
    /// [`single_line`](crate::truncate::single_line)). A title left empty
    /// falls back to `fallback_title`.
    pub(crate) fn normalise(&mut self, fallback_title: &str) {
        self.title = single_line(&self.title);
        if self.title.is_empty() {
            self.title = single_line(fallback_title);
        }
        for f in &mut self.fields {
            f.label = single_line(&f.label);
        }
        for l in &mut self.links {
            l.label = single_line(&l.label);
        }
        self.footer.source = single_line(&self.footer.source);
        self.footer.text = single_line(&self.footer.text);
    }
}

/// Derives the notification from the event alone, by the documented rules
/// (no template, no webhook settings).
pub fn notification(event: &EventInput<'_>) -> Notification {
    let empty = Map::new();
    let data = event.data.as_object().unwrap_or(&empty);
    let mut used: Vec<&str> = Vec::new();

    let title = match first_text(data, &["title", "summary"]) {
        Some((key, title)) => {
            used.push(key);
            title.to_string()
        }
        None => {
            let mut title = humanize(event.event_type);
            if let Some((key, name)) = name_of(data) {
                used.push(key);
                title.push_str(" — ");
                title.push_str(name);
            }
            title
        }
    };

    let body = match first_text(data, &["message", "body", "description", "text"]) {
        Some((key, body)) => {
            used.push(key);
            Text::new(body)
        }
        None => Text::default(),
    };

    let severity = match severity_of(data) {
        Some((key, severity)) => {
            used.push(key);
            severity
        }
        None => severity_of_type(event.event_type).unwrap_or_default(),
    };

    let source = match first_text(data, &["source"]) {
        Some((key, source)) => {
            used.push(key);
            source.to_string()
        }
        None => "Herald".to_string(),
    };

    let mut links: Vec<Link> = Vec::new();
    for (key, value) in data {
        let Some(prefix) = url_key_prefix(key) else {
            continue;
        };
        if let Some(url) = value.as_str().and_then(web_url) {
            used.push(key);
            push_link(&mut links, link_label(prefix), url);
        }
    }
    for key in ["links", "actions"] {
        if let Some(list) = data.get(key).and_then(Value::as_array) {
            used.push(key);
            for item in list {
                let url = item
                    .get("url")
                    .or_else(|| item.get("href"))
                    .and_then(Value::as_str);
                let label = ["label", "text", "title", "name"]
                    .iter()
                    .find_map(|k| item.get(*k).and_then(Value::as_str))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .unwrap_or("Open link");
                if let Some(url) = url.and_then(web_url) {
                    push_link(&mut links, label.to_string(), url);
                }
            }
        }
    }

    let mut mentions = Vec::new();
    match data.get("mentions") {
        Some(Value::String(s)) => {
            used.push("mentions");
            mentions.extend(s.split_whitespace().map(str::to_string));
        }
        Some(Value::Array(list)) => {
            used.push("mentions");
            mentions.extend(
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_string),
            );
        }
        _ => {}
    }

    let fields = data
        .iter()
        .filter(|(key, _)| !used.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            scalar_text(value).map(|value| Field {
                label: humanize(key),
                value: Text::new(value),
            })
        })
        .collect();

    let footer = Footer {
        text: format!("{source} · {} · {}", event.id, event.human_time()),
        source,
        event_id: event.id.to_string(),
        timestamp: event.timestamp(),
    };

    let mut n = Notification {
        title,
        body,
        severity,
        fields,
        links,
        mentions,
        footer,
    };
    n.normalise(&humanize(event.event_type));
    n
}

/// The first of `keys` whose value is a non-blank string.
fn first_text<'a>(data: &'a Map<String, Value>, keys: &[&'a str]) -> Option<(&'a str, &'a str)> {
    keys.iter().find_map(|k| {
        data.get(*k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (*k, s))
    })
}

/// `name`, else the first `*_name` key (in the data's order) with text.
fn name_of(data: &Map<String, Value>) -> Option<(&str, &str)> {
    if let Some(found) = first_text(data, &["name"]) {
        return Some(found);
    }
    data.iter().find_map(|(k, v)| {
        let text = v.as_str().map(str::trim).filter(|s| !s.is_empty())?;
        k.ends_with("_name").then_some((k.as_str(), text))
    })
}

fn severity_of(data: &Map<String, Value>) -> Option<(&'static str, Severity)> {
    for key in ["severity", "level", "priority"] {
        let found = match data.get(key) {
            Some(Value::String(s)) => Severity::from_word(s),
            Some(Value::Number(n)) if key == "priority" => {
                n.as_i64().and_then(Severity::from_priority_number)
            }
            _ => None,
        };
        if let Some(severity) = found {
            return Some((key, severity));
        }
    }
    None
}

/// The severity an event type implies through its last word.
pub(crate) fn severity_of_type(event_type: &str) -> Option<Severity> {
    let last = event_type.rsplit(['.', '_', '-', ':']).next()?;
    Severity::from_type_word(last)
}

/// `url` → `""`, `dashboard_url` → `dashboard`, `logsUrl` → `logs`.
fn url_key_prefix(key: &str) -> Option<&str> {
    if key == "url" {
        return Some("");
    }
    key.strip_suffix("_url")
        .or_else(|| key.strip_suffix("Url"))
        .filter(|p| !p.is_empty())
}

fn link_label(prefix: &str) -> String {
    let lower = prefix.to_ascii_lowercase();
    if prefix.is_empty() {
        "Open link".to_string()
    } else if ["dashboard", "result", "report"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "View results".to_string()
    } else {
        format!("Open {}", humanize(prefix).to_lowercase())
    }
}

/// Adds a link already normalised by [`web_url`], unless its URL is there.
fn push_link(links: &mut Vec<Link>, label: String, url: String) {
    if !links.iter().any(|l| l.url == url) {
        links.push(Link { label, url });
    }
}

/// Strings as they are, numbers as JSON writes them, booleans as
/// `true`/`false`; `null`, arrays and objects are not fields.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `training.complete` → `Training complete`, `gpu_hours` → `Gpu hours`,
/// `learningRate` → `Learning rate`.
pub fn humanize(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '-' | '.' | ':' | ' ') {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            prev_lower = false;
        } else if c.is_uppercase() && prev_lower {
            out.push(' ');
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            out.push(c);
        }
    }
    let trimmed = out.trim_end();
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn derive(event_type: &str, data: Value) -> Notification {
        notification(&EventInput {
            id: "evt_1",
            event_type,
            timestamp_ms: 1_700_000_000_000,
            data: &data,
        })
    }

    #[test]
    fn the_training_example_derives_as_documented() {
        let n = derive(
            "training.complete",
            json!({"experiment_name": "ResNet34", "accuracy": 0.968, "duration": "14m 32s",
                   "dashboard_url": "https://ml.example.com/runs/42"}),
        );
        assert_eq!(n.title, "Training complete — ResNet34");
        assert_eq!(n.severity, Severity::Success);
        assert_eq!(
            n.fields,
            vec![
                Field {
                    label: "Accuracy".into(),
                    value: "0.968".into()
                },
                Field {
                    label: "Duration".into(),
                    value: "14m 32s".into()
                },
            ]
        );
        assert_eq!(
            n.links,
            vec![Link {
                label: "View results".into(),
                url: "https://ml.example.com/runs/42".into()
            }]
        );
        assert_eq!(n.body, "");
        assert_eq!(n.footer.source, "Herald");
        assert_eq!(n.footer.text, "Herald · evt_1 · 2023-11-14 22:13:20 UTC");
        assert_eq!(n.footer.timestamp, "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn severity_comes_from_data_then_type() {
        let s = |t: &str, d: Value| derive(t, d).severity;
        assert_eq!(s("job.failed", json!({})), Severity::Error);
        assert_eq!(s("job.error", json!({})), Severity::Error);
        assert_eq!(s("deploy_failed", json!({})), Severity::Error);
        assert_eq!(s("job.completed", json!({})), Severity::Success);
        assert_eq!(s("job.succeeded", json!({})), Severity::Success);
        assert_eq!(s("compliance.alert", json!({})), Severity::Warning);
        assert_eq!(s("user.created", json!({})), Severity::Info);
        // Data wins over the type.
        assert_eq!(
            s("job.failed", json!({"severity": "critical"})),
            Severity::Critical
        );
        assert_eq!(s("x.y", json!({"level": "WARN"})), Severity::Warning);
        assert_eq!(s("x.y", json!({"priority": 1})), Severity::Critical);
        assert_eq!(s("x.y", json!({"priority": "P2"})), Severity::Error);
        // An unknown word falls through to the next rule.
        assert_eq!(
            s("job.failed", json!({"severity": "purple"})),
            Severity::Error
        );
    }

    #[test]
    fn title_body_and_source_keys_are_taken_and_not_repeated_as_fields() {
        let n = derive(
            "ticket.created",
            json!({"summary": "Disk full", "description": "on db-1", "message": "first wins",
                   "level": "error", "source": "monitor", "host": "db-1", "nested": {"a": 1},
                   "none": null, "ok": true}),
        );
        assert_eq!(n.title, "Disk full");
        assert_eq!(n.body, "first wins");
        assert_eq!(n.severity, Severity::Error);
        assert_eq!(n.footer.source, "monitor");
        let labels: Vec<_> = n.fields.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["Description", "Host", "Ok"]);
    }

    #[test]
    fn title_without_name_is_the_humanized_type() {
        assert_eq!(derive("task_created", json!({})).title, "Task created");
        assert_eq!(
            derive("a.b", json!({"name": "N", "x_name": "X"})).title,
            "A b — N"
        );
        assert_eq!(derive("a.b", json!({"x_name": "X"})).title, "A b — X");
    }

    #[test]
    fn links_come_from_url_keys_and_lists() {
        let n = derive(
            "x.y",
            json!({"url": "https://a.example/1", "logs_url": "https://a.example/logs",
                   "reportUrl": "https://a.example/r", "bad_url": "javascript:alert(1)",
                   "links": [{"label": "Runbook", "url": "https://wiki.example/rb"},
                             {"text": "dup", "href": "https://a.example/1"},
                             {"url": "ftp://nope"}],
                   "actions": [{"url": "https://a.example/act"}]}),
        );
        let got: Vec<_> = n
            .links
            .iter()
            .map(|l| (l.label.as_str(), l.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Open link", "https://a.example/1"),
                ("Open logs", "https://a.example/logs"),
                ("View results", "https://a.example/r"),
                ("Runbook", "https://wiki.example/rb"),
                ("Open link", "https://a.example/act"),
            ]
        );
        // A `*_url` key that is not a web URL stays a plain field.
        assert_eq!(
            n.fields,
            vec![Field {
                label: "Bad url".into(),
                value: "javascript:alert(1)".into()
            }]
        );
    }

    #[test]
    fn mentions_come_from_data() {
        assert_eq!(
            derive("x", json!({"mentions": ["<@U1>", " ", "@here"]})).mentions,
            ["<@U1>", "@here"]
        );
        assert_eq!(
            derive("x", json!({"mentions": "<@U1> <@U2>"})).mentions,
            ["<@U1>", "<@U2>"]
        );
    }

    #[test]
    fn humanize_labels() {
        assert_eq!(humanize("gpu_hours"), "Gpu hours");
        assert_eq!(humanize("learningRate"), "Learning rate");
        assert_eq!(humanize("val-loss"), "Val loss");
        assert_eq!(humanize("top5_acc"), "Top5 acc");
        assert_eq!(humanize("__x__"), "X");
        assert_eq!(humanize("épreuve"), "Épreuve");
    }
}
