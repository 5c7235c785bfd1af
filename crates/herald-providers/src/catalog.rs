//! A description of every provider (settings, limits, default rate) for the
//! API's provider catalog and for people writing settings by hand.

use serde::Serialize;
use serde_json::Value;

use crate::mentions::Syntax;
use crate::truncate::Limit;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProviderInfo {
    /// The `ProviderKind` name (`google_chat`).
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub url: UrlInfo,
    pub settings: Vec<SettingInfo>,
    pub limits: Vec<LimitInfo>,
    /// Messages per second the service accepts per webhook, where it says.
    pub default_rate_limit: Option<RateLimit>,
    /// How to set the integration up, step by step, on the service's side
    /// and on Herald's.
    pub setup: Vec<&'static str>,
}

/// What the webhook's `url` is for this provider.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UrlInfo {
    pub required: bool,
    pub default: Option<String>,
    pub description: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SettingInfo {
    pub name: &'static str,
    /// `string`, `boolean`, `integer`, `string[]`, `object` or `enum(a|b)`.
    /// Settings rendered per event say "Template" in their description.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Any JSON value, `null` when the setting has no default.
    pub default: Option<Value>,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LimitInfo {
    pub name: &'static str,
    pub value: u64,
    /// How the service counts: `code_points`, `utf16_code_units`, `bytes`,
    /// or `items` for a number of things.
    pub unit: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ProviderRateLimit)]
pub struct RateLimit {
    pub per_second: f64,
}

pub(crate) fn setting(
    name: &'static str,
    kind: &'static str,
    description: &'static str,
) -> SettingInfo {
    SettingInfo {
        name,
        kind,
        default: None,
        required: false,
        description,
    }
}

impl SettingInfo {
    pub(crate) fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// A length limit, in the unit the service counts it in.
pub(crate) fn limit(name: &'static str, limit: Limit, description: &'static str) -> LimitInfo {
    LimitInfo {
        name,
        value: limit.max as u64,
        unit: limit.unit.as_str(),
        description,
    }
}

/// A limit on how many of something (blocks, fields, buttons).
pub(crate) fn items(name: &'static str, count: usize, description: &'static str) -> LimitInfo {
    LimitInfo {
        name,
        value: count as u64,
        unit: "items",
        description,
    }
}

/// A limit on a size in bytes (a file).
pub(crate) fn bytes(name: &'static str, count: usize, description: &'static str) -> LimitInfo {
    LimitInfo {
        name,
        value: count as u64,
        unit: "bytes",
        description,
    }
}

pub(crate) fn url(required: bool, default: Option<&str>, description: &'static str) -> UrlInfo {
    UrlInfo {
        required,
        default: default.map(str::to_string),
        description,
    }
}

pub(crate) fn rate(per_second: f64) -> Option<RateLimit> {
    Some(RateLimit { per_second })
}

/// `settings.template`, which every provider except `webhook` takes.
pub(crate) fn template_setting() -> SettingInfo {
    setting(
        "template",
        "object",
        "Jinja templates that override parts of the notification: `title`, `body`, `severity`, \
         `fields` ({label: template}), `links` ([{label, url}]), `source`, `footer`. In scope: \
         `event.id`, `event.type`, `event.timestamp`, `event.timestamp_ms`, `event.data`, and \
         `notification` (the derived defaults).",
    )
}

/// The options of the chat providers (and, without mentions, email), for
/// a provider with the mention `syntax` (`None`: no mention settings).
pub(crate) fn chat_settings(syntax: Option<Syntax>) -> Vec<SettingInfo> {
    let mut list = vec![
        setting(
            "use_rich_formatting",
            "boolean",
            "false sends a plain-text message instead of cards or blocks.",
        )
        .default(Value::Bool(true)),
        setting(
            "theme_color",
            "string",
            "Hex colour (`#2EB67D` or `2EB67D`) used instead of the severity's colour.",
        ),
        setting(
            "include_action_buttons",
            "boolean",
            "Show the notification's links (as buttons where the service has them).",
        )
        .default(Value::Bool(true)),
    ];
    match syntax {
        None => {}
        Some(Syntax::None) => {
            list.push(
                setting(
                    "mention_on_failure",
                    "boolean",
                    "Accepted for compatibility; this service has no mention syntax a webhook \
                     can send, so no mention is sent.",
                )
                .default(Value::Bool(false)),
            );
            list.push(setting(
                "mentions",
                "string[]",
                "Accepted for compatibility (at most 50); no mention is sent.",
            ));
        }
        Some(_) => {
            list.push(
                setting(
                    "mention_on_failure",
                    "boolean",
                    "Add `mentions` when the severity is error or critical.",
                )
                .default(Value::Bool(false)),
            );
            list.push(setting(
                "mentions",
                "string[]",
                "Mentions in the service's own syntax (Slack `<!channel>`, `<@U123>`; Discord \
                 `<@123>`, `@here`; Google Chat `<users/all>`; Mattermost `@channel`, `@name`), \
                 at most 50; broadcasts allowed. Others are not sent.",
            ));
            list.push(
                setting(
                    "mentions_from_data",
                    "boolean",
                    "Also send individual mentions (a user, role or group) from the event's \
                     `data.mentions`, those in the service's own syntax.",
                )
                .default(Value::Bool(false)),
            );
            list.push(
                setting(
                    "allow_broadcast_from_data",
                    "boolean",
                    "Also send broadcast mentions (channel, here, everyone, all) from the \
                     event's `data.mentions`; without it only `mentions` can notify everyone.",
                )
                .default(Value::Bool(false)),
            );
        }
    }
    list.push(template_setting());
    list
}
