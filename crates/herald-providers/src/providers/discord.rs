//! Discord webhooks: one embed coloured by severity.
//!
//! Discord webhooks cannot send link buttons, so links are Markdown links
//! at the end of the embed description, and the first link is the embed's
//! `url` (the title becomes clickable). Mentions go in `content`, and
//! `allowed_mentions` allows exactly those, so event data can never ping.

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, limit, setting};
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{md_links, plain_text};
use crate::judge::{self, Answer};
use crate::notification::Notification;
use crate::rendered::HttpRequest;
use crate::settings::{ChatOptions, SecretUrl, Settings, UrlRule, destination};
use crate::template::TemplateBuilder;
use crate::truncate;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

pub(crate) const CONTENT_MAX: usize = 2000;
pub(crate) const TITLE_MAX: usize = 256;
pub(crate) const DESCRIPTION_MAX: usize = 4096;
pub(crate) const FIELDS_MAX: usize = 25;
pub(crate) const FIELD_NAME_MAX: usize = 256;
pub(crate) const FIELD_VALUE_MAX: usize = 1024;
pub(crate) const FOOTER_MAX: usize = 2048;
/// Title, description, field names and values and footer together.
pub(crate) const EMBED_TOTAL_MAX: usize = 6000;
/// Links take at most this much of the description, so a long body cannot
/// push them out and many links cannot push the body out.
const LINKS_MAX: usize = 1000;

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
        let chat = ChatOptions::take(s, true)?;
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
        let mentions = n.mentions.join(" ");
        let mut body = if self.chat.rich {
            let start = Budget {
                body: DESCRIPTION_MAX,
                fields: FIELDS_MAX,
                value: FIELD_VALUE_MAX,
            };
            let embed = fit::fit(start, EMBED_TOTAL_MAX, |b| self.embed(n, b), embed_chars);
            let mut body = json!({"embeds": [embed]});
            if !mentions.is_empty() {
                body["content"] = truncate::chars(&mentions, CONTENT_MAX).into();
            }
            body
        } else {
            let room = CONTENT_MAX.saturating_sub(truncate::len(&mentions) + 1);
            let text = plain_text(n, room);
            json!({"content": if mentions.is_empty() { text } else { format!("{mentions} {text}") }})
        };
        body["allowed_mentions"] = allowed_mentions(&n.mentions);
        if let Some(u) = &self.username {
            body["username"] = u.clone().into();
        }
        if let Some(a) = &self.avatar_url {
            body["avatar_url"] = a.clone().into();
        }
        HttpRequest::post_json(self.url.0.as_str(), &body)
    }

    fn embed(&self, n: &Notification, b: &Budget) -> Value {
        let links = truncate::chars(&md_links(&n.links), LINKS_MAX);
        let room = if links.is_empty() {
            DESCRIPTION_MAX
        } else {
            DESCRIPTION_MAX - truncate::len(&links) - 2
        };
        let body = truncate::chars(&n.body, b.body.min(room));
        let description = match (body.is_empty(), links.is_empty()) {
            (true, _) => links,
            (false, true) => body,
            (false, false) => format!("{body}\n\n{links}"),
        };
        let fields: Vec<Value> = fit::fields(&n.fields, b.fields)
            .iter()
            .map(|f| {
                let name = non_empty(truncate::line(&f.label, FIELD_NAME_MAX));
                let value = non_empty(truncate::chars(&f.value, b.value.min(FIELD_VALUE_MAX)));
                let inline = truncate::len(&value) <= 40;
                json!({"name": name, "value": value, "inline": inline})
            })
            .collect();
        let color = u32::from_str_radix(self.chat.color(n.severity).trim_start_matches('#'), 16)
            .unwrap_or(0);
        let mut embed = json!({
            "title": truncate::line(&n.title, TITLE_MAX),
            "color": color,
            "fields": fields,
            "timestamp": n.footer.timestamp,
        });
        if !description.is_empty() {
            embed["description"] = description.into();
        }
        if !n.footer.text.is_empty() {
            embed["footer"] = json!({"text": truncate::chars(&n.footer.text, FOOTER_MAX)});
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
    let s = |v: &Value| v.as_str().map_or(0, truncate::len);
    let fields: usize = embed["fields"]
        .as_array()
        .map(|f| f.iter().map(|f| s(&f["name"]) + s(&f["value"])).sum())
        .unwrap_or(0);
    s(&embed["title"]) + s(&embed["description"]) + s(&embed["footer"]["text"]) + fields
}

/// Exactly the configured mentions may ping: `@everyone`/`@here` only if
/// listed, users `<@id>`/`<@!id>` and roles `<@&id>` by id.
fn allowed_mentions(mentions: &[String]) -> Value {
    let mut parse = Vec::new();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    for m in mentions {
        let m = m.trim();
        if m == "@everyone" || m == "@here" {
            if parse.is_empty() {
                parse.push("everyone");
            }
        } else if let Some(id) = m.strip_prefix("<@&").and_then(|r| r.strip_suffix('>')) {
            roles.push(id.to_string());
        } else if let Some(id) = m
            .strip_prefix("<@!")
            .or_else(|| m.strip_prefix("<@"))
            .and_then(|r| r.strip_suffix('>'))
        {
            users.push(id.to_string());
        }
    }
    // Discord allows at most 100 ids of each kind.
    users.truncate(100);
    roles.truncate(100);
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
    settings.extend(catalog::chat_settings(true));
    ProviderInfo {
        name: "discord",
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
                CONTENT_MAX as u64,
                "characters",
                "Message content (mentions, or the plain-text message).",
            ),
            limit(
                "embed_title",
                TITLE_MAX as u64,
                "characters",
                "Embed title.",
            ),
            limit(
                "embed_description",
                DESCRIPTION_MAX as u64,
                "characters",
                "Embed description (body and links).",
            ),
            limit("embed_fields", FIELDS_MAX as u64, "items", "Embed fields."),
            limit(
                "field_name",
                FIELD_NAME_MAX as u64,
                "characters",
                "Field name.",
            ),
            limit(
                "field_value",
                FIELD_VALUE_MAX as u64,
                "characters",
                "Field value.",
            ),
            limit("footer", FOOTER_MAX as u64, "characters", "Embed footer."),
            limit(
                "embed_total",
                EMBED_TOTAL_MAX as u64,
                "characters",
                "All embed text together; the body shrinks first.",
            ),
        ],
        // 30 messages a minute per channel.
        default_rate_limit: catalog::rate(0.5),
    }
}
