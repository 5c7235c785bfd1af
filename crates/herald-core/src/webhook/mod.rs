//! Webhooks: what a subscriber configures, the rules those settings obey,
//! and the stored record.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::EventTypePattern;
use crate::filter::FilterSpec;
use crate::network::{
    AddressPolicy, AllowedNetworks, BlockedAddress, literal_address, url_address,
};
use crate::retry::RetryPolicy;
use crate::schedule::CronPattern;
pub mod alerts;
pub mod rotation;
pub mod transform;

use crate::signing::SigningSecret;
use crate::signing::ed25519::Ed25519KeyPair;
use crate::validation::{ValidationError, check_len};
use rotation::RetiredSigning;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    #[default]
    Active,
    /// Deliveries are created and held until the webhook is active again.
    Paused,
    /// Switched off by the circuit breaker after `auto_disable_after`
    /// consecutive failed deliveries; deliveries are held until it is
    /// enabled again.
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }
}

/// How Herald authenticates itself to the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    #[default]
    None,
    Bearer {
        token: String,
    },
    ApiKey {
        key: String,
        #[serde(default = "default_api_key_header")]
        header: String,
    },
    Basic {
        username: String,
        password: String,
    },
}

fn default_api_key_header() -> String {
    "X-API-Key".to_string()
}

impl Auth {
    /// The request header this auth setting writes, lower-cased.
    pub fn header_name(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Bearer { .. } | Auth::Basic { .. } => Some("authorization".to_string()),
            Auth::ApiKey { header, .. } => Some(header.to_ascii_lowercase()),
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Auth::None => Ok(()),
            Auth::Bearer { token } => {
                check_len("token", token, 1, 4096)?;
                check_header_value("token", token)
            }
            Auth::ApiKey { key, header } => {
                check_len("key", key, 1, 4096)?;
                check_header_value("key", key)?;
                check_header_name("header", header)?;
                if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
                    return Err(ValidationError::new(
                        "header",
                        format!("`{header}` is set by Herald and cannot carry the API key"),
                    ));
                }
                Ok(())
            }
            Auth::Basic { username, password } => {
                check_len("username", username, 1, 1024)?;
                if username.contains(':') {
                    return Err(ValidationError::new("username", "must not contain `:`"));
                }
                check_header_value("username", username)?;
                check_len("password", password, 0, 4096)?;
                check_header_value("password", password)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureScheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    #[default]
    Standard,
    /// `X-Webhook-Signature: sha256=<hex>` over the raw body.
    HmacSha256Hex,
    /// Standard Webhooks' asymmetric signature: `webhook-signature:
    /// v1a,<base64>` made with the webhook's Ed25519 key pair.
    Ed25519,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SignatureConfig {
    pub scheme: SignatureScheme,
}

/// Batching: up to `max_events` deliveries per request, waiting at most
/// `max_wait_ms` after the first for the rest; or, with a `schedule`, a
/// digest: everything that arrives between two ticks of a cron pattern,
/// sent at the tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Events per request; for a scheduled digest to a chat or email
    /// provider, the most listed in its message (the rest are counted).
    #[serde(default = "default_batch_max_events")]
    #[schema(minimum = 2, maximum = 1000)]
    pub max_events: u32,
    #[serde(default = "default_batch_wait_ms")]
    #[schema(maximum = 3600000)]
    pub max_wait_ms: u64,
    /// A cron pattern (5 fields, or 6 with seconds first): deliveries wait
    /// as `scheduled` until the next tick after the event, and go out
    /// together then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, example = "0 9 * * MON")]
    pub schedule: Option<String>,
    /// The IANA time zone the schedule is read in (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, example = "Europe/Berlin")]
    pub timezone: Option<String>,
}

fn default_batch_max_events() -> u32 {
    100
}

fn default_batch_wait_ms() -> u64 {
    1_000
}

impl BatchConfig {
    fn validate(&self) -> Result<(), ValidationError> {
        if !(2..=1000).contains(&self.max_events) {
            return Err(ValidationError::new(
                "max_events",
                "must be between 2 and 1000",
            ));
        }
        if self.max_wait_ms > 3_600_000 {
            return Err(ValidationError::new(
                "max_wait_ms",
                "must be between 0 and 3600000 (one hour)",
            ));
        }
        if self.schedule.is_none() && self.timezone.is_some() {
            return Err(ValidationError::new(
                "timezone",
                "applies to a `schedule`; set one or drop the time zone",
            ));
        }
        self.digest_schedule()?;
        Ok(())
    }

    /// The digest's schedule, parsed; `None` for a batch without one.
    pub fn digest_schedule(&self) -> Result<Option<CronPattern>, ValidationError> {
        match &self.schedule {
            None => Ok(None),
            Some(pattern) => CronPattern::parse(
                "schedule",
                pattern,
                "timezone",
                self.timezone.as_deref().unwrap_or("UTC"),
            )
            .map(Some),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Deliveries go out as fast as allowed, retries wherever they fall.
    #[default]
    None,
    /// One at a time in event order; a failing head holds back the rest
    /// until it succeeds or fails for good.
    Fifo,
}

/// Requests allowed per second, minute and/or hour; every one set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: Option<u32>,
    pub per_minute: Option<u32>,
    pub per_hour: Option<u32>,
}

impl RateLimit {
    /// The sustained rate that keeps every limit: the strictest of them.
    pub fn per_second(&self) -> f64 {
        [
            self.per_second.map(|n| n as f64),
            self.per_minute.map(|n| n as f64 / 60.0),
            self.per_hour.map(|n| n as f64 / 3600.0),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        let limits = [
            ("per_second", self.per_second),
            ("per_minute", self.per_minute),
            ("per_hour", self.per_hour),
        ];
        if limits.iter().all(|(_, n)| n.is_none()) {
            return Err(ValidationError::new(
                "",
                "set at least one of per_second, per_minute, per_hour (or null for the provider's default)",
            ));
        }
        for (field, n) in limits {
            if let Some(n) = n
                && !(1..=1_000_000).contains(&n)
            {
                return Err(ValidationError::new(field, "must be between 1 and 1000000"));
            }
        }
        Ok(())
    }
}

/// Headers Herald itself sets on every delivery; custom headers may not
/// replace them.
pub const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "transfer-encoding",
    "connection",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-id",
    "x-webhook-event",
    "x-webhook-signature",
];

/// Everything a subscriber sets on a webhook: the body of a create request
/// and, after validation, the stored configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    pub name: String,
    /// The destination. Required for `webhook`; providers with a well-known
    /// endpoint (PagerDuty, GitHub, Datadog) default it, and email has none.
    #[serde(default)]
    #[schema(
        format = "uri",
        max_length = 2048,
        pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: Option<String>,
    /// How events are rendered and sent: `webhook` (signed JSON) or one of
    /// the native integrations.
    #[serde(default = "default_provider")]
    pub provider: String,
    /// The provider's own options, checked by the provider.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    #[serde(default)]
    #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[serde(default = "default_event_types")]
    /// What it subscribes to: `*`, an event type, or a prefix ending in
    /// `.*` (`training.*`).
    #[schema(schema_with = event_type_patterns)]
    pub event_types: Vec<String>,
    /// Which events of its types the webhook receives, by their content: a
    /// JSON match document (`match`), a CEL expression (`expr`), or both,
    /// all ANDed with `event_types`. Absent or `null`: every event of its
    /// types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterSpec>,
    /// What the receiver gets instead of the stored envelope (plain
    /// webhooks and Zapier): fields of `data` kept, dropped or moved, a
    /// JSON body template, the method, content type and compression.
    /// Absent or `null`: the envelope as stored, POSTed as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<transform::TransformSpec>,
    #[serde(default)]
    pub status: WebhookStatus,
    #[serde(default)]
    #[schema(schema_with = tags)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default = "default_timeout_ms")]
    #[schema(minimum = 1000, maximum = 300000)]
    pub timeout_ms: u64,
    #[serde(default)]
    pub signature: SignatureConfig,
    #[serde(default = "default_max_in_flight")]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_in_flight: u32,
    /// `fifo`: deliveries go out one at a time in event order (per
    /// `ordering_key` when set).
    #[serde(default)]
    pub ordering: Ordering,
    /// A JSON pointer into the event (`/data/experiment_id`): events with
    /// the same value are delivered in order, different values in
    /// parallel. Implies `fifo`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 256, pattern = "^/")]
    pub ordering_key: Option<String>,
    /// Groups deliveries into one request (an array, or a digest message
    /// for chat and email providers).
    #[serde(default)]
    pub batch: Option<BatchConfig>,
    /// Consecutive failed (dead-lettered) deliveries after which the
    /// webhook is disabled; 0 never disables it.
    #[serde(default = "default_auto_disable_after")]
    #[schema(maximum = 100000)]
    pub auto_disable_after: u32,
    /// While disabled, probe the destination with backoff and enable the
    /// webhook again at the first success.
    #[serde(default)]
    pub auto_recover: bool,
    /// The most requests the destination accepts; `None` applies the
    /// provider's default (Slack 1/s, …), plain webhooks have none.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// When the webhook counts as degraded (its health, and the
    /// `herald.webhook.degraded` alert); fields left out take the server's
    /// defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<alerts::AlertSettings>,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// `event_types` in the API spec: 1–100 patterns.
fn event_type_patterns() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let pattern = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^(\*|[A-Za-z0-9_.:-]{1,255}(\.\*)?)$"));
    ArrayBuilder::new()
        .items(pattern)
        .min_items(Some(1))
        .max_items(Some(100))
        .build()
}

/// `tags` in the API spec: up to 50 tags of 1–64 characters.
fn tags() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let tag = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(crate::validation::NO_NUL));
    ArrayBuilder::new().items(tag).max_items(Some(50)).build()
}

fn default_event_types() -> Vec<String> {
    vec!["*".to_string()]
}
/// The provider of plain signed JSON webhooks.
pub const WEBHOOK_PROVIDER: &str = "webhook";

fn default_provider() -> String {
    WEBHOOK_PROVIDER.to_string()
}
fn default_timeout_ms() -> u64 {
    30_000
}
fn default_auto_disable_after() -> u32 {
    10
}
fn default_max_in_flight() -> u32 {
    10
}
fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// What the environment allows destinations to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `http://` is accepted as well as `https://` (`--dev`, or
    /// `HERALD_ALLOW_HTTP` in production).
    pub allow_http: bool,
    /// `--dev`: integrations may point at any host, not only at their
    /// service's own.
    pub any_host: bool,
    /// The rule a literal IP destination must pass; `None` (`--dev`)
    /// accepts any address. Host names are checked when they are resolved,
    /// at send time.
    pub addresses: Option<AddressPolicy>,
}

impl Default for UrlPolicy {
    /// Production with nothing relaxed: `https://` to public addresses.
    fn default() -> UrlPolicy {
        UrlPolicy::production(false, AllowedNetworks::default())
    }
}

impl UrlPolicy {
    /// `--dev`: `http://`, any host, any address.
    pub fn dev() -> UrlPolicy {
        UrlPolicy {
            allow_http: true,
            any_host: true,
            addresses: None,
        }
    }

    /// Production: public addresses and the `allowed` ranges, `https://`
    /// unless `allow_http`.
    pub fn production(allow_http: bool, allowed: AllowedNetworks) -> UrlPolicy {
        UrlPolicy {
            allow_http,
            any_host: false,
            addresses: Some(AddressPolicy::new(allowed)),
        }
    }

    /// Checks a destination address against the address rule, if any.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), BlockedAddress> {
        match &self.addresses {
            Some(policy) => policy.check(ip),
            None => Ok(()),
        }
    }

    /// Checks a destination host (a name or a literal address in any
    /// spelling): literal addresses must pass the address rule now, names
    /// are checked when resolved.
    pub fn check_host(&self, field: &str, host: &str) -> Result<(), ValidationError> {
        match literal_address(host) {
            Some(ip) => self.check_address(ip).map_err(|b| blocked(field, &b)),
            None => Ok(()),
        }
    }
}

/// The 422 for a destination whose address the policy refuses.
fn blocked(field: &str, b: &BlockedAddress) -> ValidationError {
    ValidationError::new(
        field,
        format!(
            "points at a forbidden address: {b}; outside --dev mode Herald delivers only to public addresses \
             and the ranges HERALD_ALLOWED_NETWORKS opens"
        ),
    )
}

impl WebhookSpec {
    /// Whether deliveries must go out in event order (per key).
    pub fn is_ordered(&self) -> bool {
        self.ordering == Ordering::Fifo || self.ordering_key.is_some()
    }

    /// What decides which events the webhook receives and how its
    /// deliveries are keyed: its event types, filter and ordering, as one
    /// text. Two
    /// specs with the same routing match every event alike, so a change
    /// that keeps it (a new secret, a pause, a new URL) leaves routing
    /// tables valid.
    pub fn routing(&self) -> String {
        serde_json::json!({
            "event_types": self.event_types,
            "filter": self.filter,
            "ordering": self.ordering,
            "ordering_key": self.ordering_key,
        })
        .to_string()
    }

    /// The key an event is ordered by for this webhook: the value at
    /// `ordering_key` (text as is, anything else as JSON; absent: ``),
    /// or `` for plain FIFO. `None` for an unordered webhook.
    pub fn ordering_key_of(&self, event: &serde_json::Value) -> Option<String> {
        if !self.is_ordered() {
            return None;
        }
        let key = match self.ordering_key.as_deref().and_then(|p| event.pointer(p)) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        Some(key)
    }

    /// Checks every rule and returns the parsed subscription patterns.
    pub fn validate(&self, urls: &UrlPolicy) -> Result<Vec<EventTypePattern>, ValidationError> {
        check_len("name", &self.name, 1, 255)?;
        if self.provider == WEBHOOK_PROVIDER {
            match &self.url {
                Some(url) => {
                    validate_url("url", url, urls)?;
                }
                None => return Err(ValidationError::new("url", "is required")),
            }
        }
        if !self.settings.is_object() {
            return Err(ValidationError::new("settings", "must be a JSON object"));
        }
        if let Some(d) = &self.description {
            check_len("description", d, 0, 1000)?;
        }
        if self.event_types.is_empty() || self.event_types.len() > 100 {
            return Err(ValidationError::new(
                "event_types",
                "must list 1 to 100 event types",
            ));
        }
        let patterns = self
            .event_types
            .iter()
            .enumerate()
            .map(|(i, t)| EventTypePattern::parse(&format!("event_types[{i}]"), t))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(filter) = &self.filter {
            filter.compile().map_err(|e| e.within("filter"))?;
        }
        if let Some(transform) = &self.transform {
            self.validate_transform(transform)?;
        }
        if self.tags.len() > 50 {
            return Err(ValidationError::new("tags", "may hold at most 50 tags"));
        }
        for (i, tag) in self.tags.iter().enumerate() {
            check_len(&format!("tags[{i}]"), tag, 1, 64)?;
        }
        self.auth.validate().map_err(|e| e.within("auth"))?;
        self.validate_headers()?;
        self.retry.validate().map_err(|e| e.within("retry"))?;
        if !(1_000..=300_000).contains(&self.timeout_ms) {
            return Err(ValidationError::new(
                "timeout_ms",
                "must be between 1000 and 300000",
            ));
        }
        if !(1..=1000).contains(&self.max_in_flight) {
            return Err(ValidationError::new(
                "max_in_flight",
                "must be between 1 and 1000",
            ));
        }
        if let Some(pointer) = &self.ordering_key {
            check_len("ordering_key", pointer, 1, 256)?;
            if !pointer.starts_with('/') {
                return Err(ValidationError::new(
                    "ordering_key",
                    "must be a JSON pointer into the event, such as `/data/experiment_id`",
                ));
            }
        }
        if let Some(alerts) = &self.alerts {
            alerts.validate().map_err(|e| e.within("alerts"))?;
        }
        if let Some(batch) = &self.batch {
            batch.validate().map_err(|e| e.within("batch"))?;
            if self.is_ordered() {
                return Err(ValidationError::new(
                    "batch",
                    "cannot be combined with ordering (a batch is sent as one request)",
                ));
            }
        }
        if self.auto_disable_after > 100_000 {
            return Err(ValidationError::new(
                "auto_disable_after",
                "must be between 0 (never) and 100000",
            ));
        }
        if let Some(limit) = &self.rate_limit {
            limit.validate().map_err(|e| e.within("rate_limit"))?;
        }
        if self.metadata.to_string().len() > 64 * 1024 {
            return Err(ValidationError::new(
                "metadata",
                "must be at most 64 KiB of JSON",
            ));
        }
        Ok(patterns)
    }

    /// A transform reshapes a JSON body Herald builds from the event: the
    /// plain webhook's and Zapier's. Other providers send their service's
    /// own format, which has templates of its own (`settings.template`).
    fn validate_transform(
        &self,
        transform: &transform::TransformSpec,
    ) -> Result<(), ValidationError> {
        if !matches!(self.provider.as_str(), WEBHOOK_PROVIDER | "zapier") {
            return Err(ValidationError::new(
                "transform",
                format!(
                    "applies to the webhook and zapier providers; {} has its own `settings.template`",
                    self.provider
                ),
            ));
        }
        transform.validate().map_err(|e| e.within("transform"))?;
        if self.batch.is_some() && transform.content_type == transform::BodyEncoding::Form {
            return Err(ValidationError::new(
                "transform.content_type",
                "a form body cannot carry a batch (a batch is a JSON array); use json or drop `batch`",
            ));
        }
        Ok(())
    }

    fn validate_headers(&self) -> Result<(), ValidationError> {
        if self.headers.len() > 50 {
            return Err(ValidationError::new(
                "headers",
                "may hold at most 50 headers",
            ));
        }
        let auth_header = self.auth.header_name();
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            check_header_name(&field, name)?;
            let lower = name.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(ValidationError::new(
                    field,
                    format!("`{name}` is set by Herald and cannot be overridden"),
                ));
            }
            if auth_header.as_deref() == Some(lower.as_str()) {
                return Err(ValidationError::new(
                    field,
                    format!("`{name}` is already set by `auth`"),
                ));
            }
            check_len(&field, value, 0, 4096)?;
            check_header_value(&field, value)?;
        }
        Ok(())
    }
}

/// A header name the HTTP client will send: checked by the client's own
/// parser (`http`), so nothing accepted here can fail at delivery.
fn check_header_name(field: &str, name: &str) -> Result<(), ValidationError> {
    check_len(field, name, 1, 256)?;
    http::HeaderName::from_bytes(name.as_bytes())
        .map(drop)
        .map_err(|_| ValidationError::new(field, "is not a valid HTTP header name"))
}

/// A header value the HTTP client will send, by the same rule the sender
/// applies (`http::HeaderValue::from_str`): no line breaks, NUL, DEL or
/// other control characters (tabs are fine; bytes beyond ASCII go out as
/// they are).
fn check_header_value(field: &str, value: &str) -> Result<(), ValidationError> {
    http::HeaderValue::from_str(value).map(drop).map_err(|_| {
        ValidationError::new(
            field,
            "must not contain line breaks, NUL, DEL or other control characters",
        )
    })
}

/// Checks a destination URL: absolute, `https://` (or `http://` when
/// allowed), with a host, without embedded credentials, and, when it is a
/// literal IP address in any spelling, one the policy accepts.
pub fn validate_url(
    field: &str,
    raw: &str,
    policy: &UrlPolicy,
) -> Result<url::Url, ValidationError> {
    let url = validate_url_shape(field, raw, policy.allow_http)?;
    if let Some(ip) = url_address(&url) {
        policy.check_address(ip).map_err(|b| blocked(field, &b))?;
    }
    Ok(url)
}

/// Checks the form of a URL Herald shows but does not connect to (an icon
/// that Slack fetches): absolute, `https://` (or `http://` when allowed),
/// with a host and without embedded credentials.
pub fn validate_url_shape(
    field: &str,
    raw: &str,
    allow_http: bool,
) -> Result<url::Url, ValidationError> {
    check_len(field, raw, 1, 2048)?;
    let url = url::Url::parse(raw)
        .map_err(|e| ValidationError::new(field, format!("is not a valid absolute URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(ValidationError::new(
                field,
                "must use https:// (http:// is accepted only in --dev mode or with HERALD_ALLOW_HTTP)",
            ));
        }
        other => {
            return Err(ValidationError::new(
                field,
                format!("must use https:// (got `{other}:`)"),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ValidationError::new(field, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValidationError::new(
            field,
            "must not embed credentials; use `auth` instead",
        ));
    }
    Ok(url)
}

/// A stored webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub tenant_id: String,
    #[serde(flatten)]
    pub spec: WebhookSpec,
    /// The HMAC key of the `standard` and `hmac_sha256_hex` schemes.
    pub secret: SigningSecret,
    /// The key pair of the `ed25519` scheme, created when a webhook first
    /// takes that scheme and kept if it leaves it, so switching back
    /// restores the same public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair: Option<Ed25519KeyPair>,
    /// What rotations replaced and still signs until it expires, newest
    /// first (see [`crate::rotation`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_signing: Vec<RetiredSigning>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why and when the circuit breaker disabled the webhook (while
    /// `status` is `disabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Which change of the stored webhook this is: the store bumps it with
    /// every change and writes a copy back only if it is still the stored
    /// version, so a change based on an older read is refused rather than
    /// lost. Kept by the store beside the sealed row, not in it; a new
    /// webhook is at 1.
    #[serde(skip, default = "first_version")]
    pub version: i64,
}

/// The version of a webhook that has not been changed since it was made.
fn first_version() -> i64 {
    1
}

impl Webhook {
    /// A new webhook of `tenant_id`, with the key pair its scheme needs.
    pub fn new(
        id: String,
        tenant_id: String,
        spec: WebhookSpec,
        secret: SigningSecret,
        now: DateTime<Utc>,
    ) -> Webhook {
        let mut webhook = Webhook {
            id,
            tenant_id,
            spec,
            secret,
            key_pair: None,
            previous_signing: Vec::new(),
            created_at: now,
            updated_at: now,
            disabled_reason: None,
            disabled_at: None,
            version: first_version(),
        };
        webhook.ensure_key_pair();
        webhook
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> WebhookSpec {
        serde_json::from_value(json).unwrap()
    }

    fn err(json: serde_json::Value) -> String {
        spec(json).validate(&UrlPolicy::dev()).unwrap_err().field
    }

    #[test]
    fn defaults_fill_in() {
        let s = spec(serde_json::json!({"name": "a", "url": "https://example.com/h"}));
        assert_eq!(s.event_types, vec!["*"]);
        assert_eq!(s.timeout_ms, 30_000);
        assert_eq!(s.max_in_flight, 10);
        assert_eq!(s.auth, Auth::None);
        assert!(s.validate(&UrlPolicy::default()).is_ok());
    }

    #[test]
    fn fields_are_named_in_errors() {
        use serde_json::json;
        assert_eq!(err(json!({"name": "", "url": "https://a.b"})), "name");
        assert_eq!(err(json!({"name": "a", "url": "ftp://a.b"})), "url");
        assert_eq!(err(json!({"name": "a", "url": "https://u:p@a.b"})), "url");
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "timeout_ms": 999})),
            "timeout_ms"
        );
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "headers": {"Webhook-Signature": "x"}})),
            "headers.Webhook-Signature"
        );
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "headers": {"X-A": "a\r\nb"}})),
            "headers.X-A"
        );
        // Exactly what the HTTP client refuses: DEL and other controls.
        for value in ["a\u{7f}b", "a\u{1}b", "a\u{0}"] {
            assert_eq!(
                err(json!({"name": "a", "url": "https://a.b", "headers": {"X-A": value}})),
                "headers.X-A",
                "{value:?}"
            );
        }
        assert_eq!(
            err(
                json!({"name": "a", "url": "https://a.b", "auth": {"type": "bearer", "token": "t\u{7f}"}})
            ),
            "auth.token"
        );
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "headers": {"X A": "v"}})),
            "headers.X A"
        );
        assert_eq!(
            err(
                json!({"name": "a", "url": "https://a.b", "auth": {"type": "bearer", "token": ""}})
            ),
            "auth.token"
        );
        assert_eq!(
            err(
                json!({"name": "a", "url": "https://a.b", "auth": {"type": "bearer", "token": "t"},
                       "headers": {"Authorization": "x"}})
            ),
            "headers.Authorization"
        );
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "retry": {"max_retries": 21}})),
            "retry.max_retries"
        );
    }

    #[test]
    fn the_filter_is_part_of_routing_and_checked_with_its_path() {
        use serde_json::json;
        let plain = spec(json!({"name": "a", "url": "https://a.b"}));
        let filtered =
            spec(json!({"name": "a", "url": "https://a.b", "filter": {"match": {"type": "x"}}}));
        assert_ne!(plain.routing(), filtered.routing());
        assert!(filtered.validate(&UrlPolicy::dev()).is_ok());
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b",
                       "filter": {"match": {"data": {"n": {"$gt": true}}}}})),
            "filter.match.data.n.$gt"
        );
        assert_eq!(
            err(json!({"name": "a", "url": "https://a.b", "filter": {"expr": "1 +"}})),
            "filter.expr"
        );
        // Stored webhooks from before filters read back without one.
        let stored: WebhookSpec = serde_json::from_str(r#"{"name": "a"}"#).unwrap();
        assert!(stored.filter.is_none());
        assert!(!serde_json::to_string(&plain).unwrap().contains("filter"));
    }

    #[test]
    fn http_needs_dev_mode() {
        let s = spec(serde_json::json!({"name": "a", "url": "http://127.0.0.1:9/h"}));
        assert_eq!(s.validate(&UrlPolicy::default()).unwrap_err().field, "url");
        assert!(s.validate(&UrlPolicy::dev()).is_ok());
    }

    #[test]
    fn allow_http_relaxes_the_scheme_but_not_the_address() {
        let policy = UrlPolicy::production(true, AllowedNetworks::default());
        assert!(validate_url("url", "http://example.com/h", &policy).is_ok());
        let e = validate_url("url", "http://127.0.0.1:9/h", &policy).unwrap_err();
        assert_eq!(e.field, "url");
        assert!(e.message.contains("127.0.0.1 is a loopback address"), "{e}");
    }

    #[test]
    fn literal_private_addresses_are_refused_in_every_spelling() {
        let policy = UrlPolicy::default();
        for url in [
            "https://127.0.0.1/h",
            "https://2130706433/h",
            "https://0177.0.0.1/h",
            "https://0x7f000001/h",
            "https://127.1/h",
            "https://[::1]/h",
            "https://[::ffff:127.0.0.1]/h",
            "https://[::ffff:7f00:1]/h",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/h",
            "https://172.16.0.1/h",
            "https://192.168.1.1/h",
            "https://100.64.0.1/h",
            "https://0.0.0.0/h",
            "https://224.0.0.1/h",
            "https://[fd00::1]/h",
            "https://[fe80::1]/h",
        ] {
            let e = validate_url("url", url, &policy).unwrap_err();
            assert_eq!(e.field, "url", "{url}");
            assert!(
                e.message.starts_with("points at a forbidden address: "),
                "{url}: {e}"
            );
            assert!(validate_url("url", url, &UrlPolicy::dev()).is_ok(), "{url}");
        }
        assert!(validate_url("url", "https://93.184.215.14/h", &policy).is_ok());
        let opened = UrlPolicy::production(false, AllowedNetworks::parse("10.0.0.0/8").unwrap());
        assert!(validate_url("url", "https://10.9.8.7/h", &opened).is_ok());
        assert!(opened.check_host("smtp.host", "0x0a000001").is_ok());
        assert_eq!(
            opened
                .check_host("smtp.host", "192.168.0.1")
                .unwrap_err()
                .field,
            "smtp.host"
        );
        assert!(opened.check_host("smtp.host", "mail.example.com").is_ok());
    }
}
