//! Datadog: an event in the event stream (Events API v1), or, with
//! `settings.metric`, a point of a metric series (see [`metric`]).
//!
//! The text is Markdown (wrapped in `%%%`): body, fields as `**Label:**
//! value` lines, links, footer. Tags are the configured ones plus
//! `event_type:<type>` and `source:herald`.

mod metric;

use serde::Deserialize;
use serde_json::json;

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::error::RenderError;
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{datadog_markdown, fit_text, md_links_within, no_mentions};
use crate::judge::{self, Answer};
use crate::notification::{EventInput, Notification, Severity};
use crate::rendered::HttpRequest;
use crate::settings::{Secret, Settings, UrlRule, check_list, destination};
use crate::template::{TemplateBuilder, Templates};
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

pub(crate) const DEFAULT_SITE: &str = "datadoghq.com";
// Datadog says "characters" without saying how it counts them, so UTF-16
// code units, never less than code points.
pub(crate) const TITLE: Limit = Limit::utf16(100);
pub(crate) const TEXT: Limit = Limit::utf16(4000);
const FIELDS_MAX: usize = 50;
const VALUE: Limit = Limit::utf16(500);
const LABEL: Limit = Limit::utf16(200);
const FOOTER: Limit = Limit::utf16(300);
const LINKS: Limit = Limit::utf16(1000);
const MARKDOWN_OPEN: &str = "%%% \n";
const MARKDOWN_CLOSE: &str = "\n %%%";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Priority {
    Normal,
    Low,
}

#[derive(Debug, Clone)]
pub(crate) struct Datadog {
    /// The API base, without a trailing `/`.
    base: String,
    api_key: Secret,
    tags: Vec<String>,
    aggregation_key: Option<String>,
    priority: Option<Priority>,
    /// Set: each event is sent as a metric point instead of an event.
    metric: Option<metric::Metric>,
}

impl Datadog {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        let api_key: Secret = s.required("api_key")?;
        api_key.check("settings.api_key", 1, 256)?;
        let site: String = s.or("site", DEFAULT_SITE.to_string())?;
        let site_ok = site.contains('.')
            && site.len() <= 253
            && site
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !site_ok {
            return Err(ValidationError::new(
                "settings.site",
                "must be a Datadog site such as datadoghq.com, datadoghq.eu or us5.datadoghq.com",
            ));
        }
        let default_url = format!("https://api.{site}");
        let base = destination(url, Some(&default_url), urls, UrlRule::Any)?;
        let base = base.as_str().trim_end_matches('/').to_string();
        let tags: Vec<String> = s.or("tags", Vec::new())?;
        check_list("settings.tags", &tags, 100, 200)?;
        if let Some(i) = tags.iter().position(|t| t.contains(char::is_whitespace)) {
            return Err(ValidationError::new(
                format!("settings.tags[{i}]"),
                "tags cannot contain spaces (use key:value)",
            ));
        }
        let aggregation_key = s.take_text("aggregation_key", 1, 100)?;
        let priority = s.take("priority")?;
        let metric = metric::Metric::take(s, t)?;
        if metric.is_some() {
            // What shapes an event would silently do nothing for a metric.
            for (name, set) in [
                ("aggregation_key", aggregation_key.is_some()),
                ("priority", priority.is_some()),
                (
                    "template",
                    s.take::<serde_json::Value>("template")?.is_some(),
                ),
            ] {
                if set {
                    return Err(ValidationError::new(
                        format!("settings.{name}"),
                        "applies to events; a webhook with settings.metric sends metric points \
                         (use a second webhook for events)",
                    ));
                }
            }
        } else {
            s.template(t)?;
        }
        Ok(Self {
            base,
            api_key,
            tags,
            aggregation_key,
            priority,
            metric,
        })
    }

    pub(crate) fn render(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
        t: &Templates,
    ) -> Result<HttpRequest, RenderError> {
        let body = match &self.metric {
            Some(m) => {
                let body = m.body(n, event, t, self.tags.clone())?;
                return Ok(self.request("/api/v2/series", &body));
            }
            None => self.event_body(n, event),
        };
        Ok(self.request("/api/v1/events", &body))
    }

    fn request(&self, path: &str, body: &serde_json::Value) -> HttpRequest {
        HttpRequest::post_json(format!("{}{path}", self.base), body)
            .header("accept", "application/json")
            .secret_header("dd-api-key", self.api_key.expose().to_string())
    }

    fn event_body(&self, n: &Notification, event: &EventInput<'_>) -> serde_json::Value {
        let start = Budget {
            body: TEXT.max,
            fields: FIELDS_MAX,
            value: VALUE.max,
        };
        let text = fit::fit(start, TEXT.max, |b| text(n, b), |s| TEXT.count(s));
        let mut tags = self.tags.clone();
        tags.push(format!("event_type:{}", event.event_type));
        tags.push("source:herald".to_string());
        let mut body = json!({
            "title": fit_text(&n.title, TITLE, no_mentions),
            "text": text,
            "alert_type": alert_type(n.severity),
            "tags": tags,
            "date_happened": event.unix_seconds(),
        });
        if let Some(k) = &self.aggregation_key {
            body["aggregation_key"] = k.clone().into();
        }
        if let Some(p) = self.priority {
            body["priority"] = match p {
                Priority::Normal => "normal",
                Priority::Low => "low",
            }
            .into();
        }
        body
    }
}

fn text(n: &Notification, b: &Budget) -> String {
    let mut parts = Vec::new();
    let body = n.body.fit(TEXT.with_max(b.body), datadog_markdown);
    if !body.is_empty() {
        parts.push(body);
    }
    let fields: Vec<String> = fit::fields(&n.fields, b.fields)
        .iter()
        .map(|f| {
            // One line per field: a value's line breaks become spaces.
            let value = f.value.fit(VALUE.with_max(b.value), datadog_markdown);
            format!(
                "**{}:** {}",
                fit_text(&f.label, LABEL, datadog_markdown),
                value.replace(['\r', '\n'], " ")
            )
        })
        .collect();
    if !fields.is_empty() {
        parts.push(fields.join("  \n"));
    }
    if !n.links.is_empty() {
        parts.push(md_links_within(&n.links, LINKS, datadog_markdown));
    }
    if !n.footer.text.is_empty() {
        parts.push(format!(
            "_{}_",
            fit_text(&n.footer.text, FOOTER, datadog_markdown)
        ));
    }
    format!("{MARKDOWN_OPEN}{}{MARKDOWN_CLOSE}", parts.join("\n\n"))
}

/// Datadog has no "critical" alert type; it is an error.
fn alert_type(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Success => "success",
    }
}

/// 202 on success (events and series alike); 400, 403 (bad key) and 413
/// permanent; 408, 429 and 5xx retry. Errors are `{"errors": ["…"]}`.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::error_text(body, &["errors"]);
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Refused,
    url_is_credential: false,
    secret_settings: &["api_key"],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "datadog",
        setup: vec![
            "In Datadog, open Organization Settings → API Keys and create a key.",
            "Create the webhook with `provider: \"datadog\"` and `settings.api_key` (and `settings.site` outside datadoghq.com).",
            "Send a test event; it appears in the Event Explorer.",
            "For a metric instead, add `settings.metric` ({\"name\": \"jobs.duration_ms\", \"value\": \"/data/duration_ms\", \"tags\": [\"env:{{ event.data.env }}\"]}); each event then posts one point, found in the Metrics Explorer. For events and a metric, create two webhooks.",
        ],
        title: "Datadog",
        description: "Posts an event to the Datadog event stream, with alert type from severity and tags; \
                      or, with `settings.metric`, one point of a metric series per event.",
        url: catalog::url(
            false,
            Some("https://api.datadoghq.com"),
            "The API base; default https://api.<site>.",
        ),
        settings: vec![
            setting("api_key", "string", "A Datadog API key.").required(),
            setting(
                "site",
                "string",
                "Your Datadog site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, …).",
            )
            .default(json!(DEFAULT_SITE)),
            setting(
                "tags",
                "string[]",
                "Tags (`env:prod`), at most 100; event_type and source are added.",
            ),
            setting(
                "aggregation_key",
                "string",
                "Groups related events, at most 100 characters.",
            ),
            setting("priority", "enum(normal|low)", "The event's priority."),
            catalog::template_setting(),
            setting(
                "metric",
                "object",
                "Send each event as a metric point (POST /api/v2/series) instead of an event: \
                 {name (a metric name, or a Template), value (a number, a JSON pointer into the \
                 event such as /data/duration_ms, or a Template; numbers in strings count), \
                 tags (Templates, `key:value`; one rendering empty or ending in `:` is left out), \
                 type (gauge|count|rate, default gauge), interval (seconds, count and rate only)}. \
                 The point's time is the event's; the webhook's tags, event_type and source are \
                 added. A value missing or not a number fails that delivery at once. Not with \
                 aggregation_key, priority or template.",
            ),
        ],
        limits: vec![
            limit("title", TITLE, "The event title."),
            limit("text", TEXT, "The event text, Markdown wrapper included."),
            items(
                "metric_tags",
                metric::TAGS_MAX,
                "Tags of a metric point, the added ones included.",
            ),
        ],
        default_rate_limit: None,
    }
}
