//! Reading a webhook's `settings` object: typed values, errors that name the
//! exact field, unknown keys refused, and the options every chat provider
//! shares.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::catalog::ProviderInfo;
use crate::kind::ProviderKind;
use crate::links::web_url;
use crate::mentions::{MentionRules, Syntax};
use crate::notification::{Notification, Severity};
use crate::template::{TemplateBuilder, TemplateSpec};
use herald_core::ValidationError;
use herald_core::validation::check_len;
use herald_core::webhook::{UrlPolicy, validate_url, validate_url_shape};

/// The `settings` object, consumed key by key; whatever no provider asked
/// for is an unknown setting.
pub(crate) struct Settings {
    kind: ProviderKind,
    map: Map<String, Value>,
    known: Vec<&'static str>,
}

impl Settings {
    /// `value` as the settings of `kind`, whose catalog entry is `info`.
    pub(crate) fn new(
        kind: ProviderKind,
        info: &ProviderInfo,
        value: &Value,
    ) -> Result<Self, ValidationError> {
        let map = match value {
            Value::Null => Map::new(),
            Value::Object(map) => map.clone(),
            _ => return Err(ValidationError::new("settings", "must be a JSON object")),
        };
        // The catalog is the list of what each provider takes, so the two
        // cannot drift apart; a name it lacks is refused before any value is
        // read, so a typo is reported as a typo.
        let known: Vec<&'static str> = info.settings.iter().map(|s| s.name).collect();
        let s = Self { kind, map, known };
        if let Some(key) = s.map.keys().find(|k| !s.known.contains(&k.as_str())) {
            return Err(s.unknown(key));
        }
        Ok(s)
    }

    fn unknown(&self, key: &str) -> ValidationError {
        let known = if self.known.is_empty() {
            "it takes no settings".to_string()
        } else {
            format!("known settings: {}", self.known.join(", "))
        };
        ValidationError::new(
            format!("settings.{key}"),
            format!("unknown setting for {} ({known})", self.kind),
        )
    }

    /// Takes an optional setting; `null` counts as absent.
    pub(crate) fn take<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> Result<Option<T>, ValidationError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_path_to_error::deserialize(value)
                .map(Some)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let path = if path == "." { String::new() } else { path };
                    ValidationError::new(path, e.into_inner().to_string())
                        .within(name)
                        .within("settings")
                }),
        }
    }

    /// Takes an optional one-line text setting checked with [`check_text`].
    pub(crate) fn take_text(
        &mut self,
        name: &'static str,
        min: usize,
        max: usize,
    ) -> Result<Option<String>, ValidationError> {
        let value: Option<String> = self.take(name)?;
        if let Some(v) = &value {
            check_text(&format!("settings.{name}"), v, min, max)?;
        }
        Ok(value)
    }

    /// Takes an optional URL setting (an icon, an avatar): `https://`, or
    /// `http://` too where the policy allows it. The service fetches it,
    /// not Herald, so its address is not a destination to check. It is
    /// sent normalised like every link (see [`web_url`]).
    pub(crate) fn take_url(
        &mut self,
        name: &'static str,
        urls: &UrlPolicy,
    ) -> Result<Option<String>, ValidationError> {
        let value: Option<String> = self.take(name)?;
        let Some(v) = value else {
            return Ok(None);
        };
        validate_url_shape(&format!("settings.{name}"), &v, urls.allow_http)?;
        Ok(Some(web_url(&v).unwrap_or(v)))
    }

    pub(crate) fn required<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> Result<T, ValidationError> {
        self.take(name)?
            .ok_or_else(|| ValidationError::new(format!("settings.{name}"), "is required"))
    }

    /// Takes `name` with a default.
    pub(crate) fn or<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
        default: T,
    ) -> Result<T, ValidationError> {
        Ok(self.take(name)?.unwrap_or(default))
    }

    /// Refuses whatever no parser took: a setting listed in the catalog but
    /// not read would otherwise be silently ignored.
    pub(crate) fn finish(self) -> Result<(), ValidationError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => Err(self.unknown(key)),
        }
    }

    /// Takes `template` and compiles it into `builder`.
    pub(crate) fn template(
        &mut self,
        builder: &mut TemplateBuilder,
    ) -> Result<(), ValidationError> {
        if let Some(spec) = self.take::<TemplateSpec>("template")? {
            builder.add_spec(&spec).map_err(|e| e.within("settings"))?;
        }
        Ok(())
    }

    /// Takes a templated setting, compiled under its own name, or `default`
    /// when absent (`None`: no template).
    pub(crate) fn templated(
        &mut self,
        name: &'static str,
        default: Option<&str>,
        builder: &mut TemplateBuilder,
    ) -> Result<bool, ValidationError> {
        let source = self.take::<String>(name)?;
        match source.as_deref().or(default) {
            Some(source) => {
                builder
                    .add(name, source)
                    .map_err(|e| e.within("settings"))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A credential: compared and cloned like a string, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Checks length and refuses whitespace and control characters, which
    /// no token contains and which would break a header.
    pub(crate) fn check(&self, field: &str, min: usize, max: usize) -> Result<(), ValidationError> {
        check_len(field, &self.0, min, max)?;
        if self.0.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                field,
                "must not contain spaces or control characters",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// A URL whose path is a credential (the hooks of every provider whose
/// `url_is_credential`): `Debug` shows only scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SecretUrl(pub(crate) url::Url);

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}://{}/***\"",
            self.0.scheme(),
            self.0.host_str().unwrap_or("")
        )
    }
}

/// A one-line text setting: length in characters, no control characters.
pub(crate) fn check_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ValidationError> {
    check_len(field, value, min, max)?;
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain line breaks or control characters",
        ));
    }
    Ok(())
}

/// A list of one-line strings, each checked with [`check_text`].
pub(crate) fn check_list(
    field: &str,
    list: &[String],
    max_items: usize,
    max_len: usize,
) -> Result<(), ValidationError> {
    if list.len() > max_items {
        return Err(ValidationError::new(
            field,
            format!("may hold at most {max_items} entries"),
        ));
    }
    for (i, item) in list.iter().enumerate() {
        check_text(&format!("{field}[{i}]"), item, 1, max_len)?;
    }
    Ok(())
}

/// Where the webhook's `url` must point.
pub(crate) enum UrlRule<'a> {
    /// Any `https://` URL (`http://` too in dev mode).
    Any,
    /// Outside dev mode: one of these hosts, and a path under `path_prefix`.
    Host {
        hosts: &'a [&'a str],
        path_prefix: &'a str,
        example: &'a str,
    },
}

/// Checks `url`: required (or the default), absolute, `https://` unless
/// the policy allows `http://`, not a literal address the policy refuses,
/// and on the provider's own host where there is one (outside dev mode).
pub(crate) fn destination(
    url: Option<&str>,
    default: Option<&str>,
    urls: &UrlPolicy,
    rule: UrlRule<'_>,
) -> Result<url::Url, ValidationError> {
    let raw = match (url, default) {
        (Some(url), _) => url,
        (None, Some(default)) => default,
        (None, None) => return Err(ValidationError::new("url", "is required")),
    };
    let parsed = validate_url("url", raw, urls)?;
    if urls.any_host {
        return Ok(parsed);
    }
    if let UrlRule::Host {
        hosts,
        path_prefix,
        example,
    } = rule
    {
        let host = parsed.host_str().unwrap_or_default();
        if !hosts.contains(&host) || !parsed.path().starts_with(path_prefix) {
            return Err(ValidationError::new(
                "url",
                format!("must be a URL such as {example} (any URL is accepted only in --dev mode)"),
            ));
        }
    }
    Ok(parsed)
}

/// The options Slack, Teams, Discord, Mattermost and Google Chat share (and
/// email, without mentions).
#[derive(Debug, Clone)]
pub(crate) struct ChatOptions {
    /// `use_rich_formatting`: false sends plain text.
    pub(crate) rich: bool,
    /// `theme_color`, normalised to `#RRGGBB`.
    pub(crate) theme_color: Option<String>,
    /// `include_action_buttons`.
    pub(crate) buttons: bool,
    /// `mention_on_failure`, `mentions`, `mentions_from_data` and
    /// `allow_broadcast_from_data`, for the provider's syntax.
    pub(crate) mentions: MentionRules,
}

impl ChatOptions {
    /// `syntax`: the provider's mention syntax; `None` for a provider that
    /// takes no mention settings (email). Teams ([`Syntax::None`]) takes
    /// `mention_on_failure` and `mentions`, which it has always accepted,
    /// but not the opt-ins for event data, which could never apply.
    pub(crate) fn take(s: &mut Settings, syntax: Option<Syntax>) -> Result<Self, ValidationError> {
        let rich = s.or("use_rich_formatting", true)?;
        let theme_color = s
            .take::<String>("theme_color")?
            .map(|c| hex_color("settings.theme_color", &c))
            .transpose()?;
        let buttons = s.or("include_action_buttons", true)?;
        let mut mentions = MentionRules {
            syntax,
            ..MentionRules::default()
        };
        if syntax.is_some() {
            mentions.on_failure = s.or("mention_on_failure", false)?;
            mentions.configured = s.or("mentions", Vec::new())?;
            check_list("settings.mentions", &mentions.configured, 50, 100)?;
        }
        if syntax.is_some_and(|s| s != Syntax::None) {
            mentions.from_data = s.or("mentions_from_data", false)?;
            mentions.broadcast_from_data = s.or("allow_broadcast_from_data", false)?;
        }
        Ok(Self {
            rich,
            theme_color,
            buttons,
            mentions,
        })
    }

    /// The colour for a severity: `theme_color` if set, else the palette.
    pub(crate) fn color(&self, severity: Severity) -> String {
        self.theme_color
            .clone()
            .unwrap_or_else(|| severity.color().to_string())
    }

    /// Keeps the mentions from event data that the webhook allows, adds
    /// the configured ones when the news is bad and the webhook asked for
    /// it (see [`MentionRules::select`]), and leaves links out when asked.
    pub(crate) fn apply(&self, n: &mut Notification) {
        n.mentions = self.mentions.select(&n.mentions, n.severity.is_failure());
        if !self.buttons {
            n.links.clear();
        }
    }
}

/// `2eb67d`, `#2EB67D` → `#2EB67D`.
fn hex_color(field: &str, raw: &str) -> Result<String, ValidationError> {
    let hex = raw.strip_prefix('#').unwrap_or(raw);
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ValidationError::new(
            field,
            "must be a hex colour such as #2EB67D",
        ));
    }
    Ok(format!("#{}", hex.to_ascii_uppercase()))
}

/// An email address (`a@b.example` or `Name <a@b.example>` when `display`),
/// with a dotted domain and no line breaks (header injection).
pub(crate) fn email_address(
    field: &str,
    raw: &str,
    display: bool,
) -> Result<String, ValidationError> {
    check_text(field, raw, 3, 320)?;
    let options = email_address::Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: display,
    };
    email_address::EmailAddress::parse_with_options(raw.trim(), options)
        .map(|a| a.as_str().to_string())
        .map_err(|e| ValidationError::new(field, format!("is not a valid email address ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn colours_normalise() {
        assert_eq!(hex_color("f", "2eb67d").unwrap(), "#2EB67D");
        assert_eq!(hex_color("f", "#ABCDEF").unwrap(), "#ABCDEF");
        for bad in ["", "#12345", "#GGGGGG", "red", "#1234567"] {
            assert_eq!(hex_color("f", bad).unwrap_err().field, "f", "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert!(email_address("to", "ops@example.com", false).is_ok());
        assert!(email_address("from", "Herald <ops@example.com>", true).is_ok());
        for bad in [
            "nope",
            "a@b",
            "a b@example.com",
            "ops@example.com\r\nBcc: x@evil.example",
            "Herald <ops@example.com>",
            "@example.com",
        ] {
            assert_eq!(
                email_address("to", bad, false).unwrap_err().field,
                "to",
                "{bad}"
            );
        }
    }

    #[test]
    fn settings_name_the_path_and_refuse_unknown_keys() {
        let slack = crate::info(ProviderKind::Slack);
        let e = Settings::new(
            ProviderKind::Slack,
            &slack,
            &json!({"channel": "#a", "chanel": "#b"}),
        )
        .err()
        .unwrap();
        assert_eq!(e.field, "settings.chanel");
        assert!(
            e.message.contains("unknown setting for slack"),
            "{}",
            e.message
        );
        let mut s = Settings::new(
            ProviderKind::Slack,
            &slack,
            &json!({"use_rich_formatting": "x", "mentions": ["a", 1], "channel": "#c"}),
        )
        .unwrap();
        let e = s.take::<bool>("use_rich_formatting").unwrap_err();
        assert_eq!(e.field, "settings.use_rich_formatting");
        let e = s.take::<Vec<String>>("mentions").unwrap_err();
        assert_eq!(e.field, "settings.mentions[1]");
        // A known setting that no parser read is still refused.
        assert_eq!(s.finish().unwrap_err().field, "settings.channel");
        assert!(
            Settings::new(
                ProviderKind::Slack,
                &crate::info(ProviderKind::Slack),
                &json!([])
            )
            .is_err()
        );
    }
}
