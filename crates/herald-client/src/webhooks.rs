//! Webhooks: their shape, the requests that create and change them, and
//! the routes under `/api/v1/webhooks`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::open_enum::open_enum;
use crate::{Call, Client, Delivery, DeliveryFilter, Page, Time};

open_enum! {
    /// A webhook's state; `disabled` is set only by the circuit breaker.
    pub enum WebhookStatus {
        Active = "active",
        Paused = "paused",
        Disabled = "disabled",
    }
}

open_enum! {
    /// How a webhook is doing, from its recent attempts.
    pub enum HealthState {
        Healthy = "healthy",
        Degraded = "degraded",
        Failing = "failing",
        Disabled = "disabled",
        Paused = "paused",
        Unknown = "unknown",
    }
}

open_enum! {
    /// How requests are signed.
    pub enum SignatureScheme {
        /// Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256>`.
        Standard = "standard",
        /// `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`.
        HmacSha256Hex = "hmac_sha256_hex",
        /// Standard Webhooks' asymmetric `v1a,<base64 Ed25519>`.
        Ed25519 = "ed25519",
        None = "none",
    }
}

open_enum! {
    pub enum RetryStrategy {
        Exponential = "exponential",
        Linear = "linear",
        Fixed = "fixed",
        None = "none",
    }
}

open_enum! {
    pub enum Ordering {
        None = "none",
        Fifo = "fifo",
    }
}

/// How Herald authenticates to the destination. Answers show credentials
/// masked (`****abcd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    #[default]
    None,
    Bearer {
        token: String,
    },
    ApiKey {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
    },
    Basic {
        username: String,
        password: String,
    },
    /// A kind this version of the client does not know (read only).
    #[serde(other, skip_serializing)]
    Unknown,
}

/// The retry policy; fields left out take the server's defaults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RetryStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on_status: Option<Vec<u16>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignatureConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<SignatureScheme>,
}

/// The most requests a destination takes; any combination.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<u32>,
}

/// Deliveries grouped into one request; with `schedule`, a digest sent at
/// each tick of a cron pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchConfig {
    pub max_events: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_ms: Option<u64>,
    /// A cron pattern (`0 9 * * MON`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The IANA zone the schedule is read in (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// What a plain webhook's or Zapier hook's receiver gets instead of the
/// stored envelope: fields of `data` kept, dropped or moved, a JSON body
/// template, the method, content type and compression.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Transform {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// `{"from.path": "to.path"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// A Jinja template whose output is the JSON body; expressions write JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// `POST`, `PUT` or `PATCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `json` or `form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `gzip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
}

/// Which events of its types a webhook receives, by content: a JSON match
/// document, a CEL expression over `event`, or both (ANDed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Filter {
    /// `{"data": {"severity": {"$in": ["high", "critical"]}}}`.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_doc: Option<Value>,
    /// `event.data.severity == 'high'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
}

/// The body of `POST /webhooks/{id}/filter/test`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FilterTest {
    /// The event, as posted: `type`, `data`, `source`, `id`, `timestamp`,
    /// each optional.
    pub event: Value,
    /// A filter to try instead of the webhook's own (not saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

/// Whether a webhook would receive an event, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterDecision {
    pub matches: bool,
    pub reason: String,
}

/// When a webhook counts as degraded; fields left out take the server's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlertSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate_below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_attempts: Option<u32>,
}

/// A webhook as the API shows it (credentials masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub settings: Value,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub filter: Option<Filter>,
    #[serde(default)]
    pub transform: Option<Transform>,
    pub status: WebhookStatus,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub signature: SignatureConfig,
    /// The Ed25519 public key (`whpk_…`) of an `ed25519` webhook.
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub auto_disable_after: Option<u32>,
    #[serde(default)]
    pub auto_recover: bool,
    #[serde(default)]
    pub ordering: Option<Ordering>,
    #[serde(default)]
    pub batch: Option<BatchConfig>,
    #[serde(default)]
    pub ordering_key: Option<String>,
    #[serde(default)]
    pub alerts: Option<AlertSettings>,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub disabled_at: Option<Time>,
    #[serde(default)]
    pub metadata: Value,
    pub created_at: Time,
    pub updated_at: Time,
    /// The signing secret: only in the answer that created the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Reads (get, list) carry the webhook's health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// `enable` says how many held deliveries it discarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded_held: Option<u64>,
}

/// A webhook's health: its state and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub state: HealthState,
    #[serde(default)]
    pub success_rate_1h: Option<f64>,
    #[serde(default)]
    pub success_rate_24h: Option<f64>,
    #[serde(default)]
    pub p95_ms_1h: Option<f64>,
    #[serde(default)]
    pub consecutive_failures: u64,
    #[serde(default)]
    pub last_success_at: Option<Time>,
    #[serde(default)]
    pub last_failure_at: Option<Time>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub throttled_until: Option<Time>,
}

/// The body of `POST /webhooks`. Only the fields set are sent, so the
/// server's defaults apply to the rest; `extra` carries fields this
/// version of the client does not name (and overrides named ones).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NewWebhook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureConfig>,
    /// A signing secret of your own (`whsec_…`); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disable_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_recover: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NewWebhook {
    /// A plain signed-JSON webhook to `url`.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            url: Some(url.into()),
            ..Self::default()
        }
    }
}

/// The body of `PATCH /webhooks/{id}`: each field set replaces the stored
/// one whole; [`WebhookPatch::reset`] sends `null`, which restores a
/// field's default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WebhookPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disable_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_recover: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebhookPatch {
    /// Resets `field` to its default (sends `"field": null`).
    pub fn reset(mut self, field: &str) -> Self {
        self.extra.insert(field.to_string(), Value::Null);
        self
    }

    /// Only the status (what pause and resume send).
    pub fn status(status: WebhookStatus) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }
}

/// Merges `extra` over the named fields, so a field in both is sent once.
fn body_with_extra<T: Serialize>(fields: &T, extra: &Map<String, Value>) -> Value {
    let mut body = serde_json::to_value(fields).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        for (name, value) in extra {
            map.insert(name.clone(), value.clone());
        }
    }
    body
}

/// Filters of `GET /webhooks`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookFilter {
    pub status: Option<WebhookStatus>,
    /// Has this tag.
    pub tag: Option<String>,
    /// Would receive an event of this type.
    pub event_type: Option<String>,
    pub health: Option<HealthState>,
    /// 1–250, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The body of `POST /webhooks/{id}/test`; empty sends a `herald.test`
/// sample.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TestRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// What a test send got back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub success: bool,
    #[serde(default)]
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    #[serde(default)]
    pub response_body: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    pub delivery_id: String,
    pub event_id: String,
}

/// What signs a webhook's requests: `GET …/secret` and rotation answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signing {
    pub secret: String,
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub previous: Vec<PreviousSigning>,
}

/// A replaced secret (and key) that still signs until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousSigning {
    pub secret: String,
    #[serde(default)]
    pub public_key: Option<String>,
    pub expires_at: Time,
}

/// The body of `POST …/secret/rotate`; empty takes the defaults (a
/// generated secret, 24 hours of grace).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RotateSecret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_hours: Option<f64>,
}

/// Which failed deliveries `POST …/retry` re-queues: a window, or an age.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RetryWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_hours: Option<f64>,
}

/// `GET …/retry-schedule`: what the retry policy means in time for a
/// delivery that keeps failing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrySchedule {
    pub webhook_id: String,
    #[serde(default)]
    pub retry: RetryPolicy,
    /// The first try and each retry, in order.
    pub attempts: Vec<ScheduledAttempt>,
    /// From the first try to the last retry, counting waits only (the
    /// middle of the jitter range; `_min`/`_max` are its ends).
    pub total_ms: u64,
    #[serde(default)]
    pub total_min_ms: u64,
    #[serde(default)]
    pub total_max_ms: u64,
    /// Each attempt may also last up to the webhook's timeout.
    #[serde(default)]
    pub attempt_timeout_ms: u64,
    /// `total_max_ms` plus one timeout per attempt: the longest a delivery
    /// can take before it fails for good.
    #[serde(default)]
    pub worst_case_ms: u64,
}

/// One attempt of a [`RetrySchedule`]: the wait before it (from the end of
/// the previous one) and when it starts after the first try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledAttempt {
    pub attempt: u32,
    pub delay_ms: u64,
    #[serde(default)]
    pub delay_min_ms: u64,
    #[serde(default)]
    pub delay_max_ms: u64,
    pub since_first_ms: u64,
    #[serde(default)]
    pub since_first_min_ms: u64,
    #[serde(default)]
    pub since_first_max_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requeued {
    pub requeued: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkDeleted {
    pub deleted: Vec<String>,
    pub not_found: Vec<String>,
}

impl Client {
    /// `GET /webhooks`: a page of webhooks, oldest first, with health.
    pub fn list_webhooks(&self, filter: &WebhookFilter) -> Call<Page<Webhook>> {
        self.api(Method::GET, &["webhooks"])
            .query_opt("status", filter.status.as_ref())
            .query_opt("tag", filter.tag.as_ref())
            .query_opt("event_type", filter.event_type.as_ref())
            .query_opt("health", filter.health.as_ref())
            .query_opt("limit", filter.limit)
            .query_opt("cursor", filter.cursor.as_ref())
    }

    /// `GET /webhooks/{id}`, with its health.
    pub fn get_webhook(&self, id: &str) -> Call<Webhook> {
        self.api(Method::GET, &["webhooks", id])
    }

    /// `POST /webhooks`: the answer carries the signing `secret`.
    pub fn create_webhook(&self, webhook: &NewWebhook) -> Call<Webhook> {
        let body = body_with_extra(webhook, &webhook.extra);
        self.api(Method::POST, &["webhooks"]).body(&body)
    }

    /// `PATCH /webhooks/{id}`.
    pub fn update_webhook(&self, id: &str, patch: &WebhookPatch) -> Call<Webhook> {
        let body = body_with_extra(patch, &patch.extra);
        self.api(Method::PATCH, &["webhooks", id]).body(&body)
    }

    /// `DELETE /webhooks/{id}`, with its delivery log.
    pub fn delete_webhook(&self, id: &str) -> Call<()> {
        self.api(Method::DELETE, &["webhooks", id])
    }

    /// `POST /webhooks/bulk-delete` (1–1,000 ids).
    pub fn bulk_delete_webhooks(&self, ids: &[String]) -> Call<BulkDeleted> {
        self.api(Method::POST, &["webhooks", "bulk-delete"])
            .body(&serde_json::json!({ "ids": ids }))
    }

    /// `GET /webhooks/{id}/subscriptions`: the event types it receives.
    pub fn subscriptions(&self, id: &str) -> Call<Subscriptions> {
        self.api(Method::GET, &["webhooks", id, "subscriptions"])
    }

    /// `POST /webhooks/{id}/subscriptions/{event_type}`: adds one.
    pub fn subscribe(&self, id: &str, event_type: &str) -> Call<Subscriptions> {
        self.api(Method::POST, &["webhooks", id, "subscriptions", event_type])
    }

    /// `DELETE /webhooks/{id}/subscriptions/{event_type}`: removes one (409
    /// for the last).
    pub fn unsubscribe(&self, id: &str, event_type: &str) -> Call<Subscriptions> {
        self.api(
            Method::DELETE,
            &["webhooks", id, "subscriptions", event_type],
        )
    }

    /// Pauses a webhook: it keeps collecting deliveries and holds them.
    pub fn pause_webhook(&self, id: &str) -> Call<Webhook> {
        self.update_webhook(id, &WebhookPatch::status(WebhookStatus::Paused))
    }

    /// Resumes a paused webhook: what it held goes out, oldest first.
    pub fn resume_webhook(&self, id: &str) -> Call<Webhook> {
        self.update_webhook(id, &WebhookPatch::status(WebhookStatus::Active))
    }

    /// `POST /webhooks/{id}/enable`: re-enables a webhook the circuit
    /// breaker disabled, sending (or, with `discard_held`, skipping) what it
    /// held. The answer's `discarded_held` counts the skipped.
    pub fn enable_webhook(&self, id: &str, discard_held: bool) -> Call<Webhook> {
        let call = self.api(Method::POST, &["webhooks", id, "enable"]);
        if discard_held {
            call.query("discard_held", true)
        } else {
            call
        }
    }

    /// `POST /webhooks/{id}/test`: one signed request now, no retries.
    pub fn test_webhook(&self, id: &str, request: &TestRequest) -> Call<TestResult> {
        self.api(Method::POST, &["webhooks", id, "test"])
            .body(request)
    }

    /// `POST /webhooks/{id}/filter/test`: whether the webhook would receive
    /// an event (its types and filter, or the filter given), and why.
    pub fn test_filter(&self, id: &str, request: &FilterTest) -> Call<FilterDecision> {
        self.api(Method::POST, &["webhooks", id, "filter", "test"])
            .body(request)
    }

    /// `GET /webhooks/{id}/secret`: the current secret and those still in
    /// their grace period.
    pub fn webhook_secret(&self, id: &str) -> Call<Signing> {
        self.api(Method::GET, &["webhooks", id, "secret"])
    }

    /// `POST /webhooks/{id}/secret/rotate`.
    pub fn rotate_secret(&self, id: &str, request: &RotateSecret) -> Call<Signing> {
        self.api(Method::POST, &["webhooks", id, "secret", "rotate"])
            .body(request)
    }

    /// `POST /webhooks/{id}/retry`: re-queues the failed deliveries of a
    /// window.
    pub fn retry_failed(&self, id: &str, window: &RetryWindow) -> Call<Requeued> {
        self.api(Method::POST, &["webhooks", id, "retry"])
            .body(window)
    }

    /// `GET /webhooks/{id}/retry-schedule`.
    pub fn retry_schedule(&self, id: &str) -> Call<RetrySchedule> {
        self.api(Method::GET, &["webhooks", id, "retry-schedule"])
    }

    /// `GET /webhooks/{id}/deliveries`, newest first (`webhook_id` and
    /// `event_id` of the filter are not used here).
    pub fn webhook_deliveries(&self, id: &str, filter: &DeliveryFilter) -> Call<Page<Delivery>> {
        self.api(Method::GET, &["webhooks", id, "deliveries"])
            .query_opt("status", filter.status.as_ref())
            .query_opt("limit", filter.limit)
            .query_opt("cursor", filter.cursor.as_ref())
    }
}

/// The event types a webhook receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscriptions {
    pub webhook_id: String,
    pub event_types: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_send_only_what_is_set_and_extra_wins() {
        let mut hook = NewWebhook::new("ci", "https://example.com/h");
        hook.extra.insert("future_field".into(), Value::from(1));
        hook.extra.insert("name".into(), Value::from("other"));
        let body = body_with_extra(&hook, &hook.extra);
        assert_eq!(
            body,
            serde_json::json!({"name": "other", "url": "https://example.com/h", "future_field": 1})
        );
        let patch = WebhookPatch {
            timeout_ms: Some(5000),
            ..WebhookPatch::default()
        }
        .reset("description");
        assert_eq!(
            body_with_extra(&patch, &patch.extra),
            serde_json::json!({"timeout_ms": 5000, "description": null})
        );
    }

    #[test]
    fn answers_from_a_newer_server_still_decode() {
        let answer = serde_json::json!({
            "id": "wh_1", "name": "n", "provider": "webhook", "status": "sleeping",
            "auth": {"type": "oauth2", "client_id": "x"},
            "retry": {"strategy": "fibonacci", "max_retries": 3},
            "signature": {"scheme": "pq_dilithium"},
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            "brand_new_field": {"a": 1},
            "health": {"state": "glowing", "consecutive_failures": 0}
        });
        let hook: Webhook = serde_json::from_value(answer).unwrap();
        assert_eq!(hook.status, WebhookStatus::Other("sleeping".into()));
        assert_eq!(hook.auth, Auth::Unknown);
        assert_eq!(
            hook.retry.strategy,
            Some(RetryStrategy::Other("fibonacci".into()))
        );
        assert_eq!(hook.health.unwrap().state.as_str(), "glowing");
    }
}
