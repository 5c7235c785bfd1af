//! Microsoft Teams: an Adaptive Card for a Workflows webhook (the default),
//! or a legacy MessageCard for old Office 365 connector URLs.
//!
//! Adaptive Cards cannot draw an arbitrary colour, so severity picks the
//! title container's `style` and the title's `color` (success → good,
//! warning → warning, error and critical → attention, info → accent);
//! `theme_color` applies to MessageCards only.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{fit_text, markdown, plain_text};
use crate::judge::{self, Answer};
use crate::mentions::Syntax;
use crate::notification::{Notification, Severity};
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, destination};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// Teams turns no string a webhook sends into a mention (that needs user
/// ids and entities), so cards carry none.
const SYNTAX: Syntax = Syntax::None;

/// Teams refuses messages of 28 KB and more; stay under it.
pub(crate) const PAYLOAD: Limit = Limit::bytes(28_000);
// The per-part limits are Herald's own, so a card stays readable; Teams
// limits only the whole payload.
const TITLE: Limit = Limit::code_points(256);
const BODY: Limit = Limit::code_points(10_000);
const FIELDS_MAX: usize = 50;
const VALUE: Limit = Limit::code_points(1000);
const LABEL: Limit = Limit::code_points(200);
const FOOTER: Limit = Limit::code_points(500);
const BUTTON: Limit = Limit::code_points(100);
/// Teams shows at most six actions on a card.
const ACTIONS_MAX: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Format {
    AdaptiveCard,
    MessageCard,
}

#[derive(Debug, Clone)]
pub(crate) struct Teams {
    url: SecretUrl,
    pub(crate) chat: ChatOptions,
    format: Format,
}

impl Teams {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        // Workflows URLs live on several Azure and Power Platform hosts that
        // change over time: any https URL is accepted.
        let url = destination(url, None, urls, UrlRule::Any)?;
        let chat = ChatOptions::take(s, Some(SYNTAX))?;
        let format = s.or("format", Format::AdaptiveCard)?;
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            chat,
            format,
        })
    }

    pub(crate) fn render(&self, n: &Notification) -> HttpRequest {
        let start = Budget {
            body: BODY.max,
            fields: FIELDS_MAX,
            value: VALUE.max,
        };
        let body = fit::fit(
            start,
            PAYLOAD.max,
            |b| match self.format {
                Format::AdaptiveCard => self.adaptive_card(n, b),
                Format::MessageCard => self.message_card(n, b),
            },
            fit::json_bytes,
        );
        HttpRequest::post_json(self.url.0.as_str(), &body)
    }

    fn adaptive_card(&self, n: &Notification, b: &Budget) -> Value {
        let mut items: Vec<Value> = Vec::new();
        let color = severity_style(n.severity);
        if self.chat.rich {
            items.push(json!({
                "type": "Container",
                "style": severity_style(n.severity),
                "bleed": true,
                "items": [{
                    "type": "TextBlock",
                    "text": fit_text(&n.title, TITLE, markdown),
                    "weight": "bolder",
                    "size": "large",
                    "color": color,
                    "wrap": true,
                }],
            }));
            if !n.body.is_empty() && b.body > 0 {
                items.push(json!({"type": "TextBlock", "text": n.body.fit(BODY.with_max(b.body), markdown), "wrap": true}));
            }
            let facts: Vec<Value> = fit::fields(&n.fields, b.fields)
                .iter()
                .map(|f| json!({"title": fit_text(&f.label, LABEL, markdown), "value": f.value.fit(VALUE.with_max(b.value), markdown)}))
                .collect();
            if !facts.is_empty() {
                items.push(json!({"type": "FactSet", "facts": facts}));
            }
            if !n.footer.text.is_empty() {
                items.push(json!({
                    "type": "TextBlock",
                    "text": fit_text(&n.footer.text, FOOTER, markdown),
                    "size": "small",
                    "isSubtle": true,
                    "wrap": true,
                }));
            }
        } else {
            let mut n = n.clone();
            n.body = n.body.cut(BODY.with_max(b.body));
            n.fields = fit::fields(&n.fields, b.fields);
            let text = plain_text(&n, BODY.with_max(BODY.max + 2000), markdown);
            items.push(json!({"type": "TextBlock", "text": text, "wrap": true}));
        }
        let actions: Vec<Value> = if self.chat.rich {
            n.links
                .iter()
                .take(ACTIONS_MAX)
                .map(|l| json!({"type": "Action.OpenUrl", "title": BUTTON.line(&l.label), "url": l.url}))
                .collect()
        } else {
            Vec::new()
        };
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": items,
            "msteams": {"width": "Full"},
        });
        if !actions.is_empty() {
            card["actions"] = actions.into();
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    fn message_card(&self, n: &Notification, b: &Budget) -> Value {
        // The summary is what notifications show, as plain text; the rest
        // of the card is Markdown.
        let summary = TITLE.line(&n.title);
        let title = fit_text(&n.title, TITLE, markdown);
        let color = self.chat.color(n.severity);
        let mut section = json!({
            "activityTitle": n.severity.label(),
            "activitySubtitle": fit_text(&n.footer.text, FOOTER, markdown),
            "markdown": true,
        });
        let mut text = n.body.fit(BODY.with_max(b.body), markdown);
        if !self.chat.rich {
            // The card already shows title and footer; the text adds the
            // fields and links as plain lines instead of facts and buttons.
            let lines = fit::fields(&n.fields, b.fields)
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        markdown(&f.label),
                        f.value.fit(VALUE.with_max(b.value), markdown)
                    )
                })
                .chain(
                    n.links
                        .iter()
                        .map(|l| format!("{}: {}", markdown(&l.label), l.url)),
                )
                .collect::<Vec<_>>()
                .join("\n\n");
            text = [text, lines]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
        }
        if !text.is_empty() {
            section["text"] = text.into();
        }
        if self.chat.rich {
            let facts: Vec<Value> = fit::fields(&n.fields, b.fields)
                .iter()
                .map(|f| json!({"name": fit_text(&f.label, LABEL, markdown), "value": f.value.fit(VALUE.with_max(b.value), markdown)}))
                .collect();
            if !facts.is_empty() {
                section["facts"] = facts.into();
            }
        }
        let mut card = json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "themeColor": color.trim_start_matches('#'),
            "summary": summary,
            "title": title,
            "sections": [section],
        });
        let actions: Vec<Value> = n
            .links
            .iter()
            .take(ACTIONS_MAX)
            .map(|l| {
                json!({
                    "@type": "OpenUri",
                    "name": BUTTON.line(&l.label),
                    "targets": [{"os": "default", "uri": l.url}],
                })
            })
            .collect();
        if self.chat.rich && !actions.is_empty() {
            card["potentialAction"] = actions.into();
        }
        card
    }
}

/// The container style and title colour of a severity (the two share names).
fn severity_style(s: Severity) -> &'static str {
    match s {
        Severity::Success => "good",
        Severity::Warning => "warning",
        Severity::Error | Severity::Critical => "attention",
        Severity::Info => "accent",
    }
}

/// Workflows answer 200 or 202 and report card errors asynchronously; 4xx
/// other than 408/429 is permanent. Error bodies are `{"error": {"code",
/// "message"}}`.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::json(body)
        .and_then(|v| {
            v.get("error")
                .and_then(|e| judge::json_text(e, &["code", "message"]))
        })
        .or_else(|| judge::body_text(body));
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
            "format",
            "enum(adaptive_card|message_card)",
            "`adaptive_card` for Workflows webhooks; `message_card` for legacy Office 365 connector URLs.",
        )
        .default(json!("adaptive_card")),
    ];
    settings.extend(catalog::chat_settings(Some(SYNTAX)));
    ProviderInfo {
        name: "teams",
        setup: vec![
            "In the Teams channel, open Workflows and choose \"Post to a channel when a webhook request is received\".",
            "Name the workflow, pick the team and channel, and copy the URL it gives (…logic.azure.com/… or …powerplatform.com/…).",
            "Create the webhook with `provider: \"teams\"` and that `url`; Herald sends Adaptive Cards.",
            "Send a test event: Workflows answers 202 at once and posts the card a moment later (their errors show in the flow's run history).",
        ],
        title: "Microsoft Teams",
        description: "Workflows webhook with an Adaptive Card (title styled by severity, facts, \
                      buttons), or a legacy MessageCard.",
        url: catalog::url(
            true,
            None,
            "The Workflows webhook URL (…logic.azure.com, …powerplatform.com) or a legacy \
             …webhook.office.com URL.",
        ),
        settings,
        limits: vec![
            limit(
                "payload",
                PAYLOAD,
                "The whole message; body and fields shrink to fit.",
            ),
            limit("title", TITLE, "The title."),
            items("actions", ACTIONS_MAX, "Buttons."),
            items("facts", FIELDS_MAX, "Fields shown as facts."),
        ],
        default_rate_limit: catalog::rate(2.0),
    }
}
