//! Google Chat incoming webhooks: a `cardsV2` card.
//!
//! The card header carries the title and source; the first widget is the
//! severity in its colour (cards have no colour bar), then the body, one
//! `decoratedText` per field, a `buttonList` of links and the footer.
//! `fallbackText` (the title) is what notifications show; `text` carries
//! only the mentions, because only `text` notifies.

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::error::RenderError;
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{break_angles, escape_angle, fit_text, plain_text};
use crate::judge::{self, Answer};
use crate::mentions::{self, Syntax};
use crate::notification::{EventInput, Notification};
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, destination};
use crate::template::{TemplateBuilder, Templates};
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// How mentions are written for this service.
const SYNTAX: Syntax = Syntax::GoogleChat;

/// Google Chat refuses messages over 32,000 bytes.
pub(crate) const PAYLOAD: Limit = Limit::bytes(32_000);
/// A plain text message. Google says "characters" without saying how it
/// counts, so UTF-16 code units, never less than code points.
pub(crate) const TEXT: Limit = Limit::utf16(4096);
// Herald's own limits for parts of the card, which keep it readable; the
// payload limit is what Google enforces.
const TITLE: Limit = Limit::utf16(200);
const SUBTITLE: Limit = Limit::utf16(100);
const BODY: Limit = Limit::utf16(10_000);
const FIELDS_MAX: usize = 50;
const VALUE: Limit = Limit::utf16(1000);
const LABEL: Limit = Limit::utf16(200);
const BUTTON: Limit = Limit::utf16(100);
const FOOTER: Limit = Limit::utf16(500);
const MENTIONS: Limit = Limit::utf16(1000);
const BUTTONS_MAX: usize = 10;
const THREAD_KEY: Limit = Limit::utf16(256);

#[derive(Debug, Clone)]
pub(crate) struct GoogleChat {
    url: SecretUrl,
    pub(crate) chat: ChatOptions,
    thread_key: bool,
}

impl GoogleChat {
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
                hosts: &["chat.googleapis.com"],
                path_prefix: "/v1/spaces/",
                example: "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=…&token=…",
            },
        )?;
        let chat = ChatOptions::take(s, Some(SYNTAX))?;
        let thread_key = s.templated("thread_key", None, t)?;
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            chat,
            thread_key,
        })
    }

    pub(crate) fn render(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
        t: &Templates,
    ) -> Result<HttpRequest, RenderError> {
        let thread_key = if self.thread_key {
            let key = t.session(event, n).render("thread_key")?;
            Some(THREAD_KEY.line(&key)).filter(|k| !k.is_empty())
        } else {
            None
        };
        let mentions = mentions::within(&n.mentions, MENTIONS).join(" ");
        let thread = thread_key.as_ref().map(|key| json!({"threadKey": key}));
        let with_thread = |mut body: Value| {
            if let Some(thread) = &thread {
                body["thread"] = thread.clone();
            }
            body
        };
        let body = if self.chat.rich {
            let start = Budget {
                body: BODY.max,
                fields: FIELDS_MAX,
                value: VALUE.max,
            };
            // The thread counts towards the size, so it is part of each try.
            fit::fit(
                start,
                PAYLOAD.max,
                |b| with_thread(self.card(n, &mentions, b)),
                fit::json_bytes,
            )
        } else {
            let room = TEXT.with_max(TEXT.max.saturating_sub(TEXT.count(&mentions) + 1));
            let text = plain_text(n, room, break_angles);
            with_thread(
                json!({"text": if mentions.is_empty() { text } else { format!("{mentions} {text}") }}),
            )
        };
        let mut url = self.url.0.clone();
        if thread.is_some() {
            let others: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "messageReplyOption")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(others)
                .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
        }
        Ok(HttpRequest::post_json(url.as_str(), &body))
    }

    fn card(&self, n: &Notification, mentions: &str, b: &Budget) -> Value {
        let mut widgets = vec![json!({"textParagraph": {"text": format!(
            "<font color=\"{}\"><b>● {}</b></font>",
            self.chat.color(n.severity),
            n.severity.label()
        )}})];
        if !n.body.is_empty() && b.body > 0 {
            widgets.push(
                json!({"textParagraph": {"text": n.body.fit(BODY.with_max(b.body), escape_angle)}}),
            );
        }
        for f in fit::fields(&n.fields, b.fields) {
            widgets.push(json!({"decoratedText": {
                "topLabel": fit_text(&f.label, LABEL, escape_angle),
                "text": f.value.fit(VALUE.with_max(b.value), escape_angle),
                "wrapText": true,
            }}));
        }
        let buttons: Vec<Value> = n
            .links
            .iter()
            .take(BUTTONS_MAX)
            .map(
                |l| json!({"text": fit_text(&l.label, BUTTON, break_angles), "onClick": {"openLink": {"url": l.url}}}),
            )
            .collect();
        if !buttons.is_empty() {
            widgets.push(json!({"buttonList": {"buttons": buttons}}));
        }
        if !n.footer.text.is_empty() {
            widgets.push(json!({"textParagraph": {"text": format!(
                "<font color=\"#80868B\">{}</font>",
                fit_text(&n.footer.text, FOOTER, escape_angle)
            )}}));
        }
        // Header, buttons and fallback show no markup, but a `<users/…>`
        // there must not read as a mention either.
        let title = fit_text(&n.title, TITLE, break_angles);
        let mut body = json!({
            "fallbackText": title,
            "cardsV2": [{
                "cardId": "herald",
                "card": {
                    "header": {"title": title, "subtitle": fit_text(&n.footer.source, SUBTITLE, break_angles)},
                    "sections": [{"widgets": widgets}],
                },
            }],
        });
        if !mentions.is_empty() {
            body["text"] = mentions.into();
        }
        body
    }
}

/// 2xx success; 429 and 5xx retry; other 4xx permanent. Errors are
/// `{"error": {"code", "message", "status"}}`.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::json(body)
        .and_then(|v| {
            v.get("error")
                .and_then(|e| judge::json_text(e, &["status", "message"]))
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
    let mut settings = vec![setting(
        "thread_key",
        "string",
        "Template (Jinja): messages with the same rendered key go to one thread (e.g. `{{ event.data.run_id }}`); \
         empty renders start no thread.",
    )];
    settings.extend(catalog::chat_settings(Some(SYNTAX)));
    ProviderInfo {
        name: "google_chat",
        setup: vec![
            "In Google Chat, open the space → Apps & integrations → Webhooks → Add webhook.",
            "Name it and copy the URL (https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…).",
            "Create the webhook with `provider: \"google_chat\"` and that `url`; `settings.thread_key` keeps related events in one thread.",
            "Send a test event; the card appears in the space.",
        ],
        title: "Google Chat",
        description: "Incoming webhook with a cardsV2 card: severity, body, fields, buttons, footer; \
                      optional threads.",
        url: catalog::url(
            true,
            None,
            "The space's webhook URL, https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=….",
        ),
        settings,
        limits: vec![
            limit(
                "payload",
                PAYLOAD,
                "The whole message; body and fields shrink to fit.",
            ),
            limit("text", TEXT, "A plain-text message."),
            items("buttons", BUTTONS_MAX, "Link buttons."),
        ],
        // Chat accepts 60 messages a minute per space.
        default_rate_limit: catalog::rate(1.0),
    }
}
