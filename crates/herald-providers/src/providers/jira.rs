//! Jira Cloud: one issue per event through the REST API v3, described in
//! Atlassian Document Format.
//!
//! The summary is the title; the description holds the body (a paragraph
//! per blank-line-separated block), the severity and fields as a bullet
//! list, the links, and the footer.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::judge::{self, Answer};
use crate::notification::Notification;
use crate::rendered::HttpRequest;
use crate::settings::{
    Secret, Settings, UrlRule, check_list, check_text, destination, email_address,
};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// Jira is written in Java: its 255 are UTF-16 code units, so an emoji
/// counts twice.
pub(crate) const SUMMARY: Limit = Limit::utf16(255);
/// Jira's limit for a rich-text field (32,767 UTF-16 code units), applied
/// to the serialised ADF document in bytes, which is never less.
pub(crate) const DESCRIPTION: Limit = Limit::bytes(32_767);
const BODY: Limit = Limit::utf16(30_000);
const FIELDS_MAX: usize = 100;
const VALUE: Limit = Limit::utf16(2000);
const LABEL: Limit = Limit::utf16(255);
const FOOTER: Limit = Limit::utf16(500);

#[derive(Debug, Clone)]
pub(crate) struct Jira {
    endpoint: String,
    email: String,
    api_token: Secret,
    project_key: String,
    issue_type: String,
    labels: Vec<String>,
    priority: Option<String>,
}

impl Jira {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        // Jira Cloud sites are *.atlassian.net, but Data Center and custom
        // domains exist: any https site URL.
        let site = destination(url, None, urls, UrlRule::Any)?;
        if site.query().is_some() || site.fragment().is_some() {
            return Err(ValidationError::new(
                "url",
                "must be the site URL without query or fragment, e.g. https://acme.atlassian.net",
            ));
        }
        let endpoint = format!("{}/rest/api/3/issue", site.as_str().trim_end_matches('/'));
        let email: String = s.required("email")?;
        let email = email_address("settings.email", &email, false)?;
        let api_token: Secret = s.required("api_token")?;
        api_token.check("settings.api_token", 1, 1024)?;
        let project_key: String = s.required("project_key")?;
        let key_ok = project_key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && project_key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && project_key.len() <= 255;
        if !key_ok {
            return Err(ValidationError::new(
                "settings.project_key",
                "must be a project key such as OPS (a letter, then letters, digits or _)",
            ));
        }
        let issue_type: String = s.or("issue_type", "Task".to_string())?;
        check_text("settings.issue_type", &issue_type, 1, 255)?;
        let labels: Vec<String> = s.or("labels", Vec::new())?;
        check_list("settings.labels", &labels, 50, 255)?;
        if let Some(i) = labels.iter().position(|l| l.contains(char::is_whitespace)) {
            return Err(ValidationError::new(
                format!("settings.labels[{i}]"),
                "Jira labels cannot contain spaces",
            ));
        }
        let priority = s.take_text("priority", 1, 255)?;
        s.template(t)?;
        Ok(Self {
            endpoint,
            email,
            api_token,
            project_key,
            issue_type,
            labels,
            priority,
        })
    }

    pub(crate) fn render(&self, n: &Notification) -> HttpRequest {
        let start = Budget {
            body: BODY.max,
            fields: FIELDS_MAX,
            value: VALUE.max,
        };
        let description = fit::fit(start, DESCRIPTION.max, |b| adf(n, b), fit::json_bytes);
        let mut fields = json!({
            "project": {"key": self.project_key},
            "issuetype": {"name": self.issue_type},
            "summary": SUMMARY.line(&n.title),
            "description": description,
        });
        if !self.labels.is_empty() {
            fields["labels"] = json!(self.labels);
        }
        if let Some(p) = &self.priority {
            fields["priority"] = json!({"name": p});
        }
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.email,
            self.api_token.expose()
        ));
        HttpRequest::post_json(&self.endpoint, &json!({"fields": fields}))
            .header("accept", "application/json")
            .secret_header("authorization", format!("Basic {credentials}"))
    }
}

fn text(s: &str) -> Value {
    json!({"type": "text", "text": s})
}

fn marked(s: &str, marks: Value) -> Value {
    json!({"type": "text", "text": s, "marks": marks})
}

/// ADF refuses empty text nodes, so blank input yields no node at all.
fn paragraph(content: Vec<Value>) -> Option<Value> {
    (!content.is_empty()).then(|| json!({"type": "paragraph", "content": content}))
}

fn adf(n: &Notification, b: &Budget) -> Value {
    let mut content: Vec<Value> = Vec::new();
    let body = BODY.with_max(b.body).cut(&n.body);
    for block in body.split("\n\n") {
        let mut nodes = Vec::new();
        for (i, line) in block.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            if i > 0 {
                nodes.push(json!({"type": "hardBreak"}));
            }
            nodes.push(text(line));
        }
        content.extend(paragraph(nodes));
    }
    let mut items = vec![("Severity".to_string(), n.severity.label().to_string())];
    items.extend(
        fit::fields(&n.fields, b.fields)
            .into_iter()
            .map(|f| (LABEL.line(&f.label), VALUE.with_max(b.value).cut(&f.value))),
    );
    let list: Vec<Value> = items
        .iter()
        .map(|(label, value)| {
            let mut nodes = vec![marked(&non_empty(label), json!([{"type": "strong"}]))];
            if !value.trim().is_empty() {
                nodes.push(text(&format!(": {value}")));
            }
            json!({"type": "listItem", "content": [{"type": "paragraph", "content": nodes}]})
        })
        .collect();
    content.push(json!({"type": "bulletList", "content": list}));
    let mut links = Vec::new();
    for (i, l) in n.links.iter().enumerate() {
        if i > 0 {
            links.push(text(" · "));
        }
        links.push(marked(
            &non_empty(&LABEL.line(&l.label)),
            json!([{"type": "link", "attrs": {"href": l.url}}]),
        ));
    }
    content.extend(paragraph(links));
    if !n.footer.text.trim().is_empty() {
        content.extend(paragraph(vec![marked(
            &FOOTER.line(&n.footer.text),
            json!([{"type": "em"}]),
        )]));
    }
    json!({"type": "doc", "version": 1, "content": content})
}

fn non_empty(s: &str) -> String {
    if s.trim().is_empty() {
        "—".to_string()
    } else {
        s.to_string()
    }
}

/// 201 on success; 400/401/403/404 and other 4xx are permanent with Jira's
/// `errorMessages` and `errors`; 429 and 5xx retry.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::error_text(body, &["errorMessages", "errors", "message"]);
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Refused,
    url_is_credential: false,
    secret_settings: &["api_token"],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "jira",
        setup: vec![
            "In Atlassian, create an API token for a bot account (id.atlassian.com → Security → API tokens).",
            "Give that account permission to create issues in the project.",
            "Create the webhook with `provider: \"jira\"`, `url` your site (https://acme.atlassian.net) and `settings.email`, `api_token`, `project_key`.",
            "Send a test event; an issue appears in the project.",
        ],
        title: "Jira",
        description: "Creates an issue per event (REST API v3): the title as summary, body, fields \
                      and links in the description.",
        url: catalog::url(true, None, "The site URL, e.g. https://acme.atlassian.net."),
        settings: vec![
            setting(
                "email",
                "string",
                "The Atlassian account's email (basic auth user).",
            )
            .required(),
            setting("api_token", "string", "An API token of that account.").required(),
            setting("project_key", "string", "The project key, e.g. OPS.").required(),
            setting("issue_type", "string", "The issue type's name.").default(json!("Task")),
            setting("labels", "string[]", "Labels (no spaces), at most 50."),
            setting("priority", "string", "The priority's name, e.g. High."),
            catalog::template_setting(),
        ],
        limits: vec![
            limit("summary", SUMMARY, "The summary (one line)."),
            limit(
                "description",
                DESCRIPTION,
                "The description as ADF JSON; body and fields shrink to fit.",
            ),
        ],
        default_rate_limit: None,
    }
}
