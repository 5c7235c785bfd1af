//! Discord webhooks: one embed coloured by severity.
//!
//! Discord webhooks cannot send link buttons, so links are Markdown links
//! at the end of the embed description, and the first link is the embed's
//! `url` (the title becomes clickable). Mentions go in `content`, and
//! `allowed_mentions` allows exactly those, so event data can never ping.

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, items, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{fit_text, markdown, md_links_within, no_mentions, plain_text};
use crate::judge::{self, Answer};
use crate::mentions::{self, Reach, Syntax};
use crate::notification::Notification;
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, destination};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// How mentions are written for this service.
const SYNTAX: Syntax = Syntax::Discord;

// Discord's API counts code points (it is written in Python).
pub(crate) const CONTENT: Limit = Limit::code_points(2000);
pub(crate) const TITLE: Limit = Limit::code_points(256);
pub(crate) const DESCRIPTION: Limit = Limit::code_points(4096);
pub(crate) const FIELDS_MAX: usize = 25;
pub(crate) const FIELD_NAME: Limit = Limit::code_points(256);
pub(crate) const FIELD_VALUE: Limit = Limit::code_points(1024);
pub(crate) const FOOTER: Limit = Limit::code_points(2048);
/// Title, description, field names and values and footer together.
pub(crate) const EMBED_TOTAL: Limit = Limit::code_points(6000);
/// Links take at most this much of the description, so a long body cannot
/// push them out and many links cannot push the body out.
const LINKS: Limit = Limit::code_points(1000);
/// Mentions are sent whole, as many as fit; far fewer than the 100 user
/// and 100 role ids Discord allows.
const MENTIONS: Limit = Limit::code_points(1000);

#[derive(Debug, Clone)]
pub(crate) struct Discord {
    url: SecretUrl,
    pub(crate) chat: ChatOptions,
    username: Option<String>,
    avatar_url: Option<String>,
}

impl Discord {
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
                hosts: &[
                    "discord.com",
                    "discordapp.com",
                    "canary.discord.com",
                    "ptb.discord.com",
                ],
                path_prefix: "/api/webhooks/",
                example: "https://discord.com/api/webhooks/<id>/<token>",
            },
        )?;
        let chat = ChatOptions::take(s, Some(SYNTAX))?;
        let username = s.take_text("username", 1, 80)?;
        let avatar_url = s.take_url("avatar_url", urls)?;
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            chat,
            username,
            avatar_url,
        })
    }

    pub(crate) fn render(&self, n: &Notification) -> HttpRequest {
        let sent = mentions::within(&n.mentions, MENTIONS);
        let mentions = sent.join(" ");
        let mut body = if self.chat.rich {
            let start = Budget {
                body: DESCRIPTION.max,
                fields: FIELDS_MAX,
                value: FIELD_VALUE.max,
            };
            let embed = fit::fit(start, EMBED_TOTAL.max, |b| self.embed(n, b), embed_chars);
            let mut body = json!({"embeds": [embed]});
            if !mentions.is_empty() {
                body["content"] = mentions.clone().into();
            }
            body
        } else {
            let room = CONTENT.with_max(CONTENT.max.saturating_sub(CONTENT.count(&mentions) + 1));
            let text = plain_text(n, room, markdown);
            json!({"content": if mentions.is_empty() { text } else { format!("{mentions} {text}") }})
        };
        body["allowed_mentions"] = allowed_mentions(&sent);
        if let Some(u) = &self.username {
            body["username"] = u.clone().into();
        }
        if let Some(a) = &self.avatar_url {
            body["avatar_url"] = a.clone().into();
        }
        HttpRequest::post_json(self.url.0.as_str(), &body)
    }

    fn embed(&self, n: &Notification, b: &Budget) -> Value {
        let links = md_links_within(&n.links, LINKS, markdown);
        let room = if links.is_empty() {
            DESCRIPTION.max
        } else {
            DESCRIPTION.max - DESCRIPTION.count(&links) - 2
        };
        let body = n.body.fit(DESCRIPTION.with_max(b.body.min(room)), markdown);
        let description = match (body.is_empty(), links.is_empty()) {
            (true, _) => links,
            (false, true) => body,
            (false, false) => format!("{body}\n\n{links}"),
        };
        let fields: Vec<Value> = fit::fields(&n.fields, b.fields)
            .iter()
            .map(|f| {
                let name = non_empty(fit_text(&f.label, FIELD_NAME, markdown));
                let value = non_empty(
                    f.value
                        .fit(FIELD_VALUE.with_max(b.value.min(FIELD_VALUE.max)), markdown),
                );
                let inline = FIELD_VALUE.count(&value) <= 40;
                json!({"name": name, "value": value, "inline": inline})
            })
            .collect();
        let color = u32::from_str_radix(self.chat.color(n.severity).trim_start_matches('#'), 16)
            .unwrap_or(0);
        let mut embed = json!({
            "title": fit_text(&n.title, TITLE, markdown),
            "color": color,
            "fields": fields,
            "timestamp": n.footer.timestamp,
        });
        if !description.is_empty() {
            embed["description"] = description.into();
        }
        if !n.footer.text.is_empty() {
            // Footers show no Markdown, so only mentions are neutralised.
            embed["footer"] = json!({"text": fit_text(&n.footer.text, FOOTER, no_mentions)});
        }
        if let Some(first) = n.links.first() {
            embed["url"] = first.url.clone().into();
        }
        embed
    }
}

/// Discord refuses empty field names and values.
fn non_empty(s: String) -> String {
    if s.trim().is_empty() {
        "—".to_string()
    } else {
        s
    }
}

/// The embed text Discord counts against its 6,000-character total.
fn embed_chars(embed: &Value) -> usize {
    let s = |v: &Value| v.as_str().map_or(0, |t| EMBED_TOTAL.count(t));
    let fields: usize = embed["fields"]
        .as_array()
        .map(|f| f.iter().map(|f| s(&f["name"]) + s(&f["value"])).sum())
        .unwrap_or(0);
    s(&embed["title"]) + s(&embed["description"]) + s(&embed["footer"]["text"]) + fields
}

/// Exactly the mentions sent may ping, and nothing else in the message
/// (event text included): `parse: ["everyone"]` only when `@everyone` or
/// `@here` is sent, users `<@id>`/`<@!id>` and roles `<@&id>` by id.
fn allowed_mentions(sent: &[String]) -> Value {
    let mut parse = Vec::new();
    let mut users: Vec<&str> = Vec::new();
    let mut roles: Vec<&str> = Vec::new();
    for m in sent {
        match SYNTAX.reach(m) {
            Some(Reach::Broadcast) if parse.is_empty() => parse.push("everyone"),
            Some(Reach::Broadcast) => {}
            Some(Reach::Individual) => {
                let inner = &m[2..m.len() - 1];
                match inner.strip_prefix('&') {
                    Some(role) => roles.push(role),
                    None => users.push(inner.trim_start_matches('!')),
                }
            }
            None => {}
        }
    }
    users.dedup();
    roles.dedup();
    json!({"parse": parse, "users": users, "roles": roles})
}

/// 2xx success (204 normally); 429 retry after the JSON `retry_after`
/// (seconds) or `Retry-After`; 404 the webhook was deleted; other 4xx
/// permanent; 5xx retry.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let parsed = judge::json(body);
    if status == 429 {
        let wait = parsed
            .as_ref()
            .and_then(|v| v.get("retry_after"))
            .and_then(Value::as_f64)
            .and_then(judge::seconds)
            .or_else(|| retry_after.and_then(judge::parse_retry_after));
        let message = parsed
            .as_ref()
            .and_then(|v| judge::json_text(v, &["message"]))
            .or_else(|| Some("rate limited".to_string()));
        return Answer::retry(message, wait);
    }
    let message = parsed
        .as_ref()
        .and_then(|v| judge::json_text(v, &["message"]))
        .or_else(|| judge::body_text(body));
    if status == 404 {
        let detail = message.unwrap_or_else(|| "Unknown Webhook".to_string());
        return Answer::permanent(Some(format!("webhook not found (deleted?): {detail}")));
    }
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Digest,
    url_is_credential: true,
    secret_settings: &[],
};

pub(crate) fn info() -> ProviderInfo {
    let mut settings = vec![
        setting("username", "string", "Sender name override."),
        setting("avatar_url", "string", "Sender avatar URL override."),
    ];
    settings.extend(catalog::chat_settings(Some(SYNTAX)));
    ProviderInfo {
        name: "discord",
        setup: vec![
            "In Discord, open the channel's settings → Integrations → Webhooks → New Webhook.",
            "Name it, pick the channel, and Copy Webhook URL (https://discord.com/api/webhooks/…).",
            "Create the webhook with `provider: \"discord\"` and that `url`.",
            "Send a test event; Discord answers 204 and the embed appears.",
        ],
        title: "Discord",
        description: "Webhook message with one embed coloured by severity: fields, Markdown links, \
                      footer and timestamp; mentions in the content.",
        url: catalog::url(
            true,
            None,
            "The webhook URL, https://discord.com/api/webhooks/<id>/<token>.",
        ),
        settings,
        limits: vec![
            limit(
                "content",
                CONTENT,
                "Message content (mentions, or the plain-text message).",
            ),
            limit("embed_title", TITLE, "Embed title."),
            limit(
                "embed_description",
                DESCRIPTION,
                "Embed description (body and links).",
            ),
            items("embed_fields", FIELDS_MAX, "Embed fields."),
            limit("field_name", FIELD_NAME, "Field name."),
            limit("field_value", FIELD_VALUE, "Field value."),
            limit("footer", FOOTER, "Embed footer."),
            limit(
                "embed_total",
                EMBED_TOTAL,
                "All embed text together; the body shrinks first.",
            ),
        ],
        // 30 messages a minute per channel.
        default_rate_limit: catalog::rate(0.5),
    }
}
