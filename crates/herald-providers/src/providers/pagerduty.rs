//! PagerDuty Events API v2: trigger an alert, or resolve it when the event
//! type matches `resolve_on`.
//!
//! Resolving needs the trigger's `dedup_key`, so the default key is stable
//! across the two events when the data carries one: `data.dedup_key`, else
//! `data.incident_id`, else the event id (which never resolves anything;
//! set `dedup_key` to a template of your own incident id).

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, limit, setting};
use crate::error::RenderError;
use crate::facts::{Batches, Facts};
use crate::fit;
use crate::judge::{self, Answer};
use crate::notification::{EventInput, Notification, Severity};
use crate::rendered::HttpRequest;
use crate::settings::{Secret, Settings, UrlRule, check_text, destination};
use crate::template::{TemplateBuilder, Templates};
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

pub(crate) const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
// PagerDuty says "characters" without saying how it counts them, so UTF-16
// code units, never less than code points.
pub(crate) const SUMMARY: Limit = Limit::utf16(1024);
pub(crate) const DEDUP_KEY: Limit = Limit::utf16(255);
const SOURCE: Limit = Limit::utf16(255);
const LINK_TEXT: Limit = Limit::utf16(255);
/// PagerDuty refuses events over 512 KB; the whole request stays under
/// it (512,000 bytes, whichever way a kilobyte is counted).
pub(crate) const EVENT: Limit = Limit::bytes(512_000);
/// The key added to `custom_details` when the data had to be cut.
const TRUNCATED_KEY: &str = "truncated_by_herald";
const DEFAULT_DEDUP_KEY: &str = "{{ event.data.dedup_key or event.data.incident_id or event.id }}";
const DEFAULT_SOURCE: &str = "{{ event.data.source or 'herald' }}";
const LINKS_MAX: usize = 10;

#[derive(Debug, Clone)]
pub(crate) struct PagerDuty {
    url: url::Url,
    routing_key: Secret,
    resolve_on: Vec<Pattern>,
    component: Option<String>,
    group: Option<String>,
    class: Option<String>,
}

/// An event-type pattern of `resolve_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    All,
    Exact(String),
    /// `training.*`: types starting with `training.`.
    Prefix(String),
    /// `*.resolved`: types ending with `.resolved`.
    Suffix(String),
}

impl Pattern {
    fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        check_text(field, raw, 1, 255)?;
        let ok = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-*".contains(c));
        let stars = raw.matches('*').count();
        let pattern = if raw == "*" {
            Self::All
        } else if stars == 0 {
            Self::Exact(raw.to_string())
        } else if stars == 1 && raw.ends_with('*') {
            Self::Prefix(raw.trim_end_matches('*').to_string())
        } else if stars == 1 && raw.starts_with('*') {
            Self::Suffix(raw.trim_start_matches('*').to_string())
        } else {
            return Err(ValidationError::new(
                field,
                "must be an event type, `*`, or have one `*` at the start or end (`*.resolved`, `incident.*`)",
            ));
        };
        if !ok {
            return Err(ValidationError::new(
                field,
                "may contain only letters, digits, _ . : - and *",
            ));
        }
        Ok(pattern)
    }

    fn matches(&self, event_type: &str) -> bool {
        match self {
            Self::All => true,
            Self::Exact(t) => t == event_type,
            Self::Prefix(p) => event_type.starts_with(p.as_str()),
            Self::Suffix(s) => event_type.ends_with(s.as_str()),
        }
    }
}

impl PagerDuty {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        // The EU service and proxies use other hosts: any https URL.
        let url = destination(url, Some(DEFAULT_URL), urls, UrlRule::Any)?;
        let routing_key: Secret = s.required("routing_key")?;
        routing_key.check("settings.routing_key", 1, 64)?;
        let patterns: Vec<String> = s.or("resolve_on", Vec::new())?;
        if patterns.len() > 50 {
            return Err(ValidationError::new(
                "settings.resolve_on",
                "may hold at most 50 patterns",
            ));
        }
        let resolve_on = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| Pattern::parse(&format!("settings.resolve_on[{i}]"), p))
            .collect::<Result<Vec<_>, _>>()?;
        s.templated("dedup_key", Some(DEFAULT_DEDUP_KEY), t)?;
        s.templated("source", Some(DEFAULT_SOURCE), t)?;
        let mut text = |name: &'static str| -> Result<Option<String>, ValidationError> {
            let v: Option<String> = s.take(name)?;
            if let Some(v) = &v {
                check_text(&format!("settings.{name}"), v, 1, 255)?;
            }
            Ok(v)
        };
        let component = text("component")?;
        let group = text("group")?;
        let class = text("class")?;
        s.template(t)?;
        Ok(Self {
            url,
            routing_key,
            resolve_on,
            component,
            group,
            class,
        })
    }

    /// Whether the event resolves the alert its dedup key names: it
    /// matches `resolve_on`, or it is one of Herald's own recoveries.
    pub(crate) fn resolves(&self, event_type: &str) -> bool {
        herald_core::event::RESOLVING_OPERATIONAL_EVENTS.contains(&event_type)
            || self.resolve_on.iter().any(|p| p.matches(event_type))
    }

    pub(crate) fn render(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
        t: &Templates,
    ) -> Result<HttpRequest, RenderError> {
        let session = t.session(event, n);
        let key = DEDUP_KEY.line(&session.render("dedup_key")?);
        let dedup_key = if key.is_empty() {
            DEDUP_KEY.cut(event.id)
        } else {
            key
        };
        let body = if self.resolves(event.event_type) {
            json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "resolve",
                "dedup_key": dedup_key,
            })
        } else {
            let source = SOURCE.line(&session.render("source")?);
            let mut payload = json!({
                "summary": SUMMARY.line(&n.title),
                "source": if source.is_empty() { "herald".to_string() } else { source },
                "severity": severity(n.severity),
                "timestamp": n.footer.timestamp,
                "custom_details": {},
            });
            for (name, value) in [
                ("component", &self.component),
                ("group", &self.group),
                ("class", &self.class),
            ] {
                if let Some(v) = value {
                    payload[name] = v.clone().into();
                }
            }
            let links: Vec<Value> = n
                .links
                .iter()
                .take(LINKS_MAX)
                .map(|l| json!({"href": l.url, "text": LINK_TEXT.line(&l.label)}))
                .collect();
            let mut body = json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "trigger",
                "dedup_key": dedup_key,
                "payload": payload,
            });
            if !links.is_empty() {
                body["links"] = links.into();
            }
            let room = EVENT.max.saturating_sub(fit::json_bytes(&body));
            body["payload"]["custom_details"] = custom_details(event, room);
            body
        };
        Ok(HttpRequest::post_json(self.url.as_str(), &body))
    }
}

/// PagerDuty has no "success" severity; good news is `info`.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Success => "info",
    }
}

/// Exactly the event data (responders see every key as it came; an event
/// whose data is not an object has it under `data`), within `room` bytes.
/// Data too large for PagerDuty's event limit is cut: long strings first,
/// at any depth, then the last keys; `truncated_by_herald` then says so
/// and names the event, whose whole data stays in Herald.
fn custom_details(event: &EventInput<'_>, room: usize) -> Value {
    let details = match event.data {
        Value::Object(map) => Value::Object(map.clone()),
        Value::Null => json!({}),
        other => json!({"data": other}),
    };
    if fit::json_bytes(&details) <= room {
        return details;
    }
    let note = |left_out: usize| {
        let mut note = format!(
            "The event data was over PagerDuty's size limit: long values were cut to fit \
             (the whole event is {} in Herald).",
            event.id
        );
        if left_out > 0 {
            note.push_str(&format!(" {left_out} keys were left out."));
        }
        Value::String(note)
    };
    let mut max = 8192;
    loop {
        let mut cut = details.clone();
        cut_strings(&mut cut, Limit::code_points(max));
        cut[TRUNCATED_KEY] = note(0);
        if fit::json_bytes(&cut) <= room {
            return cut;
        }
        if max <= 64 {
            break;
        }
        max /= 2;
    }
    // Even short values are too many: keep the first keys that fit.
    let mut cut = details;
    cut_strings(&mut cut, Limit::code_points(64));
    let Value::Object(map) = cut else {
        unreachable!("custom details are an object")
    };
    let total = map.len();
    // Sizes add up entry by entry (`"key":value,`), the note counted as if
    // every key were left out, which is its longest.
    let note_entry = fit::json_bytes(&json!({TRUNCATED_KEY: note(total)}));
    let mut used = note_entry;
    let mut kept = serde_json::Map::new();
    for (key, value) in map {
        let entry = fit::json_bytes(&Value::String(key.clone())) + 1 + fit::json_bytes(&value) + 1;
        if used + entry > room {
            break;
        }
        used += entry;
        kept.insert(key, value);
    }
    let left_out = total - kept.len();
    let mut cut = Value::Object(kept);
    cut[TRUNCATED_KEY] = note(left_out);
    cut
}

/// Every string in `value`, at any depth, cut to `limit`.
fn cut_strings(value: &mut Value, limit: Limit) {
    match value {
        Value::String(s) if !limit.fits(s) => *s = limit.cut(s),
        Value::Array(list) => list.iter_mut().for_each(|v| cut_strings(v, limit)),
        Value::Object(map) => map.values_mut().for_each(|v| cut_strings(v, limit)),
        _ => {}
    }
}

/// 202 on success; 400 is an invalid event (permanent, with PagerDuty's
/// `message` and `errors`); 429 and 5xx retry.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::error_text(body, &["message", "errors"]);
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Refused,
    url_is_credential: false,
    secret_settings: &["routing_key"],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "pagerduty",
        setup: vec![
            "In PagerDuty, open the service → Integrations → Add an integration → Events API V2.",
            "Copy its Integration Key (the routing key).",
            "Create the webhook with `provider: \"pagerduty\"` and `settings.routing_key`; the event's severity picks the alert's.",
            "Send a test event; PagerDuty answers 202 and opens an alert (Herald's `recovered` events resolve it).",
        ],
        title: "PagerDuty",
        description: "Events API v2: triggers an alert per event, or resolves one when the event \
                      type matches `resolve_on`.",
        url: catalog::url(
            false,
            Some(DEFAULT_URL),
            "The Events API endpoint; change it for the EU service (https://events.eu.pagerduty.com/v2/enqueue).",
        ),
        settings: vec![
            setting("routing_key", "string", "The integration's routing key (Events API v2).").required(),
            setting(
                "resolve_on",
                "string[]",
                "Event-type patterns that resolve instead of trigger: exact, `*`, `prefix.*` or `*.suffix`.",
            )
            .default(json!([])),
            setting(
                "dedup_key",
                "string",
                "Template (Jinja). Groups triggers and resolves of one incident; at most 255 characters.",
            )
            .default(json!(DEFAULT_DEDUP_KEY)),
            setting("source", "string", "Template (Jinja): the affected system.").default(json!(DEFAULT_SOURCE)),
            setting("component", "string", "payload.component."),
            setting("group", "string", "payload.group."),
            setting("class", "string", "payload.class."),
            catalog::template_setting(),
        ],
        limits: vec![
            limit("summary", SUMMARY, "payload.summary (the title)."),
            limit("dedup_key", DEDUP_KEY, "The deduplication key."),
            limit(
                "event",
                EVENT,
                "The whole event; custom_details (the event data) is cut to fit.",
            ),
        ],
        // About 120 events a minute per routing key.
        default_rate_limit: catalog::rate(2.0),
    }
}
