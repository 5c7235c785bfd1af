//! Mattermost incoming webhooks: Slack-compatible message attachments.
//!
//! Mentions go in the top-level `text`, where they surely notify; title, body,
//! fields and footer go in one attachment coloured by severity. Mattermost
//! attachments cannot carry URL buttons (their actions call integrations),
//! so links are Markdown links under the body, and the first is also the
//! title link.

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{
    fit_text, mattermost_markdown as markdown, mattermost_plain, md_links_within, plain_text,
};
use crate::judge::{self, Answer};
use crate::mentions::{self, Syntax};
use crate::notification::Notification;
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, destination};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// How mentions are written for this service.
const SYNTAX: Syntax = Syntax::Mattermost;

/// A post's message, and the budget for all text of the post together;
/// Mattermost counts runes (code points).
pub(crate) const TEXT: Limit = Limit::code_points(16_383);
const TITLE: Limit = Limit::code_points(256);
const FIELDS_MAX: usize = 50;
const VALUE: Limit = Limit::code_points(1000);
const LABEL: Limit = Limit::code_points(200);
const FOOTER: Limit = Limit::code_points(300);
const MENTIONS: Limit = Limit::code_points(1000);
const LINKS: Limit = Limit::code_points(2000);

#[derive(Debug, Clone)]
pub(crate) struct Mattermost {
    url: SecretUrl,
    pub(crate) chat: ChatOptions,
    channel: Option<String>,
    username: Option<String>,
    icon_url: Option<String>,
}

impl Mattermost {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        // Self-hosted: any https URL (the path is /hooks/<id> on any host).
        let url = destination(url, None, urls, UrlRule::Any)?;
        let chat = ChatOptions::take(s, Some(SYNTAX))?;
        let channel = s.take_text("channel", 1, 64)?;
        let username = s.take_text("username", 1, 64)?;
        let icon_url = s.take_url("icon_url", urls)?;
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            chat,
            channel,
            username,
            icon_url,
        })
    }

    pub(crate) fn render(&self, n: &Notification) -> HttpRequest {
        let mentions = mentions::within(&n.mentions, MENTIONS).join(" ");
        let mut body = if self.chat.rich {
            let start = Budget {
                body: TEXT.max,
                fields: FIELDS_MAX,
                value: VALUE.max,
            };
            fit::fit(
                start,
                TEXT.max,
                |b| self.attachment(n, &mentions, b),
                text_chars,
            )
        } else {
            let room = TEXT.with_max(TEXT.max.saturating_sub(TEXT.count(&mentions) + 1));
            let text = plain_text(n, room, markdown);
            json!({"text": if mentions.is_empty() { text } else { format!("{mentions} {text}") }})
        };
        let obj = body.as_object_mut().expect("a JSON object");
        if let Some(c) = &self.channel {
            obj.insert("channel".into(), c.clone().into());
        }
        if let Some(u) = &self.username {
            obj.insert("username".into(), u.clone().into());
        }
        if let Some(i) = &self.icon_url {
            obj.insert("icon_url".into(), i.clone().into());
        }
        HttpRequest::post_json(self.url.0.as_str(), &body)
    }

    fn attachment(&self, n: &Notification, mentions: &str, b: &Budget) -> Value {
        // Attachment titles, text, field titles and values and footers are
        // all Markdown; only `fallback` (for notifications) is plain.
        let fallback = fit_text(&n.title, TITLE, mattermost_plain);
        let title = fit_text(&n.title, TITLE, markdown);
        let links = md_links_within(&n.links, LINKS, markdown);
        let body = n.body.fit(TEXT.with_max(b.body), markdown);
        let text = match (body.is_empty(), links.is_empty()) {
            (true, _) => links,
            (false, true) => body,
            (false, false) => format!("{body}\n\n{links}"),
        };
        let fields: Vec<Value> = fit::fields(&n.fields, b.fields)
            .iter()
            .map(|f| {
                let value = f.value.fit(VALUE.with_max(b.value), markdown);
                json!({"title": fit_text(&f.label, LABEL, markdown), "value": value, "short": VALUE.count(&value) <= 40})
            })
            .collect();
        let mut attachment = json!({
            "fallback": fallback,
            "color": self.chat.color(n.severity),
            "title": title,
            "text": text,
            "fields": fields,
            "footer": fit_text(&n.footer.text, FOOTER, markdown),
        });
        if let Some(first) = n.links.first() {
            attachment["title_link"] = first.url.clone().into();
        }
        let mut body = json!({"attachments": [attachment]});
        if !mentions.is_empty() {
            body["text"] = mentions.into();
        }
        body
    }
}

/// All text of a post: message, attachment title, text, fields and footer.
fn text_chars(body: &Value) -> usize {
    let s = |v: &Value| v.as_str().map_or(0, |t| TEXT.count(t));
    let mut total = s(&body["text"]);
    if let Some(list) = body["attachments"].as_array() {
        for a in list {
            total += s(&a["title"]) + s(&a["text"]) + s(&a["footer"]);
            if let Some(fields) = a["fields"].as_array() {
                total += fields
                    .iter()
                    .map(|f| s(&f["title"]) + s(&f["value"]))
                    .sum::<usize>();
            }
        }
    }
    total
}

/// Mattermost answers `ok` with 200; errors are JSON with `message`. Any
/// 2xx counts as delivered (some proxies answer 204 or an empty body).
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::error_text(body, &["message", "detailed_error"]);
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Digest,
    url_is_credential: true,
    secret_settings: &[],
};

pub(crate) fn info() -> ProviderInfo {
    let mut settings = vec![
        setting(
            "channel",
            "string",
            "Channel override (`town-square`), if the webhook allows it.",
        ),
        setting(
            "username",
            "string",
            "Sender name override, if the server allows it.",
        ),
        setting(
            "icon_url",
            "string",
            "Sender icon URL override, if the server allows it.",
        ),
    ];
    settings.extend(catalog::chat_settings(Some(SYNTAX)));
    ProviderInfo {
        name: "mattermost",
        setup: vec![
            "In Mattermost, open Integrations → Incoming Webhooks → Add Incoming Webhook (an admin may have to allow them).",
            "Pick the channel and copy the URL (https://your-server/hooks/…).",
            "Create the webhook with `provider: \"mattermost\"` and that `url`.",
            "Send a test event; Mattermost answers `ok`.",
        ],
        title: "Mattermost",
        description: "Incoming webhook with a Slack-style attachment coloured by severity; links as Markdown.",
        url: catalog::url(
            true,
            None,
            "The incoming webhook URL, https://<server>/hooks/<id>.",
        ),
        settings,
        limits: vec![
            limit(
                "text",
                TEXT,
                "All text of the post together (message and attachment).",
            ),
            items("fields", FIELDS_MAX, "Attachment fields shown."),
        ],
        default_rate_limit: None,
    }
}
