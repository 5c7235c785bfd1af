//! Slack incoming webhooks: a header block, then Block Kit inside one
//! attachment whose `color` draws the severity bar.
//!
//! Layout: top-level `text` (the notification and screen-reader fallback,
//! not shown because blocks are present), top-level `blocks` with the header
//! and the mentions (mentions only notify from top-level text or blocks),
//! and `attachments[0]` with `color` and `blocks`: body section, field
//! sections (10 fields each), actions (URL buttons), context (footer).

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit;
use crate::format::{break_angles, escape_angle, fit_text, plain_text};
use crate::judge::{self, Answer};
use crate::mentions::{self, Syntax};
use crate::notification::Notification;
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, check_text, destination};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// How mentions are written for this service.
const SYNTAX: Syntax = Syntax::Slack;

// Slack says "characters" without saying how it counts them, so text
// limits are counted in UTF-16 code units, never less than code points.
pub(crate) const MAX_BLOCKS: usize = 50;
pub(crate) const HEADER: Limit = Limit::utf16(150);
pub(crate) const SECTION_TEXT: Limit = Limit::utf16(3000);
pub(crate) const FIELDS_PER_SECTION: usize = 10;
pub(crate) const FIELD_TEXT: Limit = Limit::utf16(2000);
pub(crate) const BUTTON_TEXT: Limit = Limit::utf16(75);
/// Slack's advice for `text`; longer is cut by Slack itself at 40,000.
pub(crate) const TEXT: Limit = Limit::utf16(4000);
const BUTTONS_MAX: usize = 25;
const BUTTON_URL: Limit = Limit::utf16(3000);
const CONTEXT_TEXT: Limit = Limit::utf16(2000);
const FIELD_LABEL: Limit = Limit::utf16(200);
/// Mentions are sent whole, as many as fit.
const MENTIONS: Limit = Limit::utf16(1000);

#[derive(Debug, Clone)]
pub(crate) struct Slack {
    url: SecretUrl,
    pub(crate) chat: ChatOptions,
    channel: Option<String>,
    username: Option<String>,
    icon_emoji: Option<String>,
}

impl Slack {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        let url = destination(
            url,
            None,
            urls,
            UrlRule::Host {
                hosts: &["hooks.slack.com"],
                path_prefix: "/services/",
                example: "https://hooks.slack.com/services/T000/B000/XXXX",
            },
        )?;
        let chat = ChatOptions::take(s, Some(SYNTAX))?;
        let channel = s.take_text("channel", 1, 80)?;
        let username = s.take_text("username", 1, 80)?;
        let icon_emoji: Option<String> = s.take("icon_emoji")?;
        if let Some(i) = &icon_emoji {
            check_text("settings.icon_emoji", i, 3, 100)?;
            if !(i.len() > 2 && i.starts_with(':') && i.ends_with(':')) {
                return Err(ValidationError::new(
                    "settings.icon_emoji",
                    "must be an emoji name such as :rocket:",
                ));
            }
        }
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            chat,
            channel,
            username,
            icon_emoji,
        })
    }

    pub(crate) fn render(&self, n: &Notification) -> HttpRequest {
        let mentions = mentions::within(&n.mentions, MENTIONS).join(" ");
        let mut body = if self.chat.rich {
            self.blocks(n, &mentions)
        } else {
            let room = TEXT.with_max(TEXT.max.saturating_sub(TEXT.count(&mentions) + 1));
            json!({ "text": with_mentions(&mentions, &plain_text(n, room, escape_angle)) })
        };
        let obj = body.as_object_mut().expect("a JSON object");
        if let Some(c) = &self.channel {
            obj.insert("channel".into(), c.clone().into());
        }
        if let Some(u) = &self.username {
            obj.insert("username".into(), u.clone().into());
        }
        if let Some(i) = &self.icon_emoji {
            obj.insert("icon_emoji".into(), i.clone().into());
        }
        HttpRequest::post_json(self.url.0.as_str(), &body)
    }

    fn blocks(&self, n: &Notification, mentions: &str) -> Value {
        let fallback = with_mentions(
            mentions,
            &fit_text(
                &n.title,
                TEXT.with_max(TEXT.max.saturating_sub(TEXT.count(mentions) + 1)),
                escape_angle,
            ),
        );

        let mut top = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": fit_text(&n.title, HEADER, break_angles), "emoji": true},
        })];
        if !mentions.is_empty() {
            top.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": mentions},
            }));
        }

        let mut head = Vec::new();
        if !n.body.is_empty() {
            head.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": n.body.fit(SECTION_TEXT, escape_angle)},
            }));
        }
        let mut tail = Vec::new();
        let buttons: Vec<Value> = n
            .links
            .iter()
            .filter(|l| BUTTON_URL.fits(&l.url))
            .take(BUTTONS_MAX)
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "type": "button",
                    "text": {"type": "plain_text", "text": fit_text(&l.label, BUTTON_TEXT, break_angles), "emoji": true},
                    "url": l.url,
                    "action_id": format!("herald_link_{i}"),
                })
            })
            .collect();
        if !buttons.is_empty() {
            tail.push(json!({"type": "actions", "elements": buttons}));
        }
        if !n.footer.text.is_empty() {
            tail.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": fit_text(&n.footer.text, CONTEXT_TEXT, escape_angle)}],
            }));
        }

        // Whatever the other blocks leave of the 50 goes to field sections.
        let sections = MAX_BLOCKS.saturating_sub(top.len() + head.len() + tail.len());
        let fields = fit::fields(&n.fields, sections * FIELDS_PER_SECTION);
        let mut inner = head;
        for chunk in fields.chunks(FIELDS_PER_SECTION) {
            let items: Vec<Value> = chunk
                .iter()
                .map(|f| {
                    let label = format!("*{}*\n", escape_angle(&FIELD_LABEL.line(&f.label)));
                    let room = FIELD_TEXT.with_max(FIELD_TEXT.max - FIELD_TEXT.count(&label));
                    let value = f.value.fit(room, escape_angle);
                    json!({"type": "mrkdwn", "text": format!("{label}{value}")})
                })
                .collect();
            inner.push(json!({"type": "section", "fields": items}));
        }
        inner.extend(tail);

        json!({
            "text": fallback,
            "blocks": top,
            "attachments": [{"color": self.chat.color(n.severity), "blocks": inner}],
        })
    }
}

fn with_mentions(mentions: &str, text: &str) -> String {
    if mentions.is_empty() {
        text.to_string()
    } else {
        format!("{mentions} {text}")
    }
}

/// Success is 200 with the body `ok`; every error is a plain-text word
/// (`channel_not_found`, `invalid_payload`) kept as the message.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    if status == 200 && body.trim() == "ok" {
        return Answer::success();
    }
    let message = judge::body_text(body).or_else(|| Some(format!("HTTP {status}")));
    match status {
        // A 2xx that is not `ok` is not a delivery Slack confirmed.
        200..=299 => Answer::permanent(message),
        _ => judge::by_status(status, message, retry_after),
    }
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
            "Channel override (`#alerts`); honoured by legacy webhooks only.",
        ),
        setting(
            "username",
            "string",
            "Sender name override; legacy webhooks only.",
        ),
        setting(
            "icon_emoji",
            "string",
            "Sender icon override such as `:rocket:`; legacy webhooks only.",
        ),
    ];
    settings.extend(catalog::chat_settings(Some(SYNTAX)));
    ProviderInfo {
        name: "slack",
        setup: vec![
            "In Slack, create an app (api.slack.com/apps), open Incoming Webhooks and switch them on.",
            "Add New Webhook to Workspace, pick the channel, and copy the URL (https://hooks.slack.com/services/…).",
            "Create the webhook with `provider: \"slack\"` and that `url`; the channel is fixed by the URL.",
            "Send a test event; Slack answers `ok` and the message appears in the channel.",
        ],
        title: "Slack",
        description: "Incoming webhook with Block Kit: header, body, fields, buttons and footer \
                      in an attachment coloured by severity.",
        url: catalog::url(
            true,
            None,
            "The incoming webhook URL, https://hooks.slack.com/services/…",
        ),
        settings,
        limits: vec![
            items(
                "blocks",
                MAX_BLOCKS,
                "Blocks per message, attachment blocks included.",
            ),
            limit("header_text", HEADER, "The header block (the title)."),
            limit("section_text", SECTION_TEXT, "A section's text (the body)."),
            items(
                "section_fields",
                FIELDS_PER_SECTION,
                "Fields per section; more fields take more sections.",
            ),
            limit("field_text", FIELD_TEXT, "One field's text."),
            limit("button_text", BUTTON_TEXT, "A button's label."),
            limit("text", TEXT, "The fallback or plain-text message."),
        ],
        default_rate_limit: catalog::rate(1.0),
    }
}
