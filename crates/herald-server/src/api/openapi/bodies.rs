//! The shapes of the API's JSON bodies that handlers build as JSON values
//! (the views in `api::views` and the handlers' own answers), for the spec.
//!
//! Request bodies that are real structs derive their schema where they are
//! defined; these types exist only to describe answers assembled with
//! `json!`, so they are never built. The fuzzing test checks every answer
//! against them, which is what keeps them in step with the views.
#![allow(dead_code)]

use std::collections::BTreeMap;

use herald_core::delivery::{AttemptOutcome, DeliveryStatus, ErrorCategory};
use herald_core::filter::FilterSpec;
use herald_core::retry::RetryPolicy;
use herald_core::webhook::alerts::AlertSettings;
use herald_core::webhook::transform::TransformSpec;
use herald_core::webhook::{
    Auth, BatchConfig, Ordering, RateLimit, SignatureConfig, WebhookSpec, WebhookStatus,
};
use herald_providers::ProviderInfo;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A webhook's health state, as the analytics name it.
pub(crate) use crate::analytics::health::State as HealthState;

/// An RFC 3339 time in UTC with milliseconds (`2026-01-31T12:00:00.000Z`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Time(chrono::DateTime<chrono::Utc>);

/// One page of a list per resource, newest first.
macro_rules! page {
    ($name:ident, $item:ty) => {
        #[derive(Serialize, ToSchema)]
        pub(crate) struct $name {
            pub(crate) data: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last one.
            pub(crate) next_cursor: Option<String>,
        }
    };
}

page!(WebhookPage, WebhookWithHealth);
page!(EventPage, Event);
page!(DeliveryPage, Delivery);
page!(AuditPage, AuditEntry);

/// A webhook as the API shows it: credentials (auth secrets, credential
/// headers, chat URLs, provider secrets) masked, the signing secret left
/// out.
#[derive(Serialize, ToSchema)]
pub(crate) struct Webhook {
    #[schema(example = "wh_01JABCDEF0123456789ABCDEFG")]
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) provider: String,
    /// The destination; for providers whose URL is a credential (Slack,
    /// Teams, Discord, Google Chat, Mattermost, Zapier) only its origin and
    /// last four characters.
    pub(crate) url: Option<String>,
    /// The provider's settings, credentials masked.
    #[schema(value_type = Object)]
    pub(crate) settings: Value,
    pub(crate) description: Option<String>,
    pub(crate) event_types: Vec<String>,
    /// Which events of its types it receives, by content; `null`: all.
    pub(crate) filter: Option<FilterSpec>,
    /// What its receiver gets instead of the stored envelope; `null`: the
    /// envelope as stored.
    pub(crate) transform: Option<TransformSpec>,
    pub(crate) status: WebhookStatus,
    pub(crate) tags: Vec<String>,
    /// Custom headers, the values of credential-looking ones masked.
    pub(crate) headers: BTreeMap<String, String>,
    /// How Herald authenticates to the destination, secrets masked.
    pub(crate) auth: Auth,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout_ms: u64,
    pub(crate) signature: SignatureConfig,
    /// The `whpk_…` public key receivers verify with, while the webhook
    /// signs with `ed25519`.
    pub(crate) public_key: Option<String>,
    pub(crate) max_in_flight: u32,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) auto_disable_after: u32,
    pub(crate) auto_recover: bool,
    pub(crate) ordering: Ordering,
    pub(crate) batch: Option<BatchConfig>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) alerts: Option<AlertSettings>,
    /// Why the circuit breaker disabled it.
    pub(crate) disabled_reason: Option<String>,
    pub(crate) disabled_at: Option<Time>,
    #[schema(value_type = Object)]
    pub(crate) metadata: Value,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

/// A webhook with its health, as listed and read.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookWithHealth {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) webhook: Webhook,
    pub(crate) health: Health,
}

/// A webhook just created: the only answer (with `GET …/secret`) that
/// shows its signing secret.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookCreated {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) webhook: Webhook,
    /// The `whsec_…` signing secret.
    pub(crate) secret: String,
}

/// A webhook enabled again.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookEnabled {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) webhook: Webhook,
    /// Held deliveries discarded (with `discard_held=true`).
    pub(crate) discarded_held: u64,
}

/// How a webhook is doing now.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    pub(crate) state: HealthState,
    /// Share of successful attempts in the last hour, `null` without any.
    pub(crate) success_rate_1h: Option<f64>,
    pub(crate) success_rate_24h: Option<f64>,
    pub(crate) p95_ms_1h: Option<f64>,
    pub(crate) consecutive_failures: u64,
    pub(crate) last_success_at: Option<Time>,
    pub(crate) last_failure_at: Option<Time>,
    pub(crate) last_error: Option<String>,
    /// Until when the destination asked Herald to wait (429, `Retry-After`).
    pub(crate) throttled_until: Option<Time>,
}

/// The width of an analytics time bucket.
#[derive(Serialize, ToSchema)]
pub(crate) enum Granularity {
    #[serde(rename = "1m")]
    OneMinute,
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "15m")]
    FifteenMinutes,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "6h")]
    SixHours,
    #[serde(rename = "1d")]
    OneDay,
}

/// What signs a webhook's requests: the current secret and public key,
/// and the replaced ones that still sign during a rotation's grace period.
#[derive(Serialize, ToSchema)]
pub(crate) struct Signing {
    pub(crate) secret: String,
    pub(crate) public_key: Option<String>,
    pub(crate) previous: Vec<PreviousSigning>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PreviousSigning {
    pub(crate) secret: String,
    pub(crate) public_key: Option<String>,
    pub(crate) expires_at: Time,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct BulkDeleted {
    pub(crate) deleted: Vec<String>,
    pub(crate) not_found: Vec<String>,
}

/// The result of a test send (made now, without retries).
#[derive(Serialize, ToSchema)]
pub(crate) struct TestResult {
    pub(crate) success: bool,
    pub(crate) status_code: Option<u16>,
    pub(crate) duration_ms: u64,
    pub(crate) response_body: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) delivery_id: String,
    pub(crate) event_id: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Requeued {
    /// Failed deliveries put back in the queue.
    pub(crate) requeued: u64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Replayed {
    pub(crate) event_id: String,
    /// Deliveries created.
    pub(crate) deliveries: u64,
    pub(crate) webhook_ids: Vec<String>,
}

/// An event as stored: on disk before this answer went out.
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    pub(crate) id: String,
    /// How many webhooks it goes to.
    pub(crate) deliveries: u64,
    /// Present (`true`) when the event's type is registered as deprecated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) deprecated: Option<bool>,
    /// Present when the tenant's `schema_validation` is `warn` and the
    /// data failed its type's schema: the event was stored with these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) schema_errors: Option<Vec<crate::error::SchemaViolation>>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct BatchAccepted {
    /// One answer per event, in the order sent.
    pub(crate) data: Vec<Accepted>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Event {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    pub(crate) source: Option<String>,
    /// The event's data as posted.
    pub(crate) data: Value,
    pub(crate) created_at: Time,
    /// The time it was posted for (`deliver_at`, `delay_ms`), when its
    /// deliveries waited until then.
    pub(crate) deliver_at: Option<Time>,
    /// How its data failed its type's schema when it was accepted (the
    /// tenant's `schema_validation` was `warn`); `null` when it passed or
    /// was not checked.
    pub(crate) schema_errors: Option<Vec<crate::error::SchemaViolation>>,
}

/// The event types a webhook receives.
#[derive(Serialize, ToSchema)]
pub(crate) struct Subscriptions {
    pub(crate) webhook_id: String,
    pub(crate) event_types: Vec<String>,
    /// Those of `event_types` registered as deprecated.
    pub(crate) deprecated: Vec<String>,
}

/// A registered event type.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventTypeView {
    pub(crate) name: String,
    pub(crate) description: String,
    /// The JSON Schema of the events' `data`; `null`: any data.
    #[schema(value_type = Option<Object>)]
    pub(crate) schema: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub(crate) examples: Vec<Value>,
    pub(crate) deprecated: bool,
    pub(crate) archived: bool,
    /// 1 when created, one more for every change.
    pub(crate) version: i64,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EventTypePage {
    pub(crate) data: Vec<EventTypeView>,
    pub(crate) next_cursor: Option<String>,
}

/// The body of `PATCH /event-types/{name}`: any field, none required;
/// `null` resets one. The name cannot change.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventTypePatch {
    #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
    pub(crate) description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub(crate) schema: Option<Value>,
    #[schema(value_type = Option<Vec<Object>>, max_items = 10)]
    pub(crate) examples: Option<Vec<Value>>,
    pub(crate) deprecated: Option<bool>,
    pub(crate) archived: Option<bool>,
}

/// A webhook that receives an event type.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventTypeReceiver {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) provider: String,
    pub(crate) status: String,
    /// Its `event_types` entries that match (the name, or patterns).
    pub(crate) matched_by: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EventTypeWebhooks {
    pub(crate) event_type: String,
    pub(crate) data: Vec<EventTypeReceiver>,
}

/// The event a schedule emits.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScheduleEvent {
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    pub(crate) data: Value,
}

/// A recurring schedule.
#[derive(Serialize, ToSchema)]
pub(crate) struct Schedule {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) cron: String,
    pub(crate) timezone: String,
    pub(crate) event: ScheduleEvent,
    pub(crate) paused: bool,
    /// The next five ticks (none while paused).
    pub(crate) next_runs: Vec<Time>,
    pub(crate) last_run_at: Option<Time>,
    /// Ticks emitted.
    pub(crate) runs: i64,
    /// Ticks passed over, missed by more than a minute (see docs/API.md).
    pub(crate) skipped: i64,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

/// A tenant's schedules.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScheduleList {
    pub(crate) data: Vec<Schedule>,
}

/// What cancelling a scheduled event did.
#[derive(Serialize, ToSchema)]
pub(crate) struct Cancelled {
    pub(crate) id: String,
    /// How many scheduled deliveries were cancelled.
    pub(crate) cancelled: u64,
}

/// An event with where it went.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventDetail {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) event: Event,
    pub(crate) deliveries: Vec<DeliverySummary>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliverySummary {
    pub(crate) delivery_id: String,
    pub(crate) webhook_id: String,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempt_count: u32,
    pub(crate) last_status_code: Option<u16>,
    pub(crate) test: bool,
}

/// One event on its way to one webhook.
#[derive(Serialize, ToSchema)]
pub(crate) struct Delivery {
    pub(crate) id: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) webhook_id: String,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempt_count: u32,
    /// When the next attempt is due, while pending or retrying.
    pub(crate) next_attempt_at: Option<Time>,
    pub(crate) last_status_code: Option<u16>,
    pub(crate) last_error: Option<String>,
    /// Made by a test send.
    pub(crate) test: bool,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
    pub(crate) delivered_at: Option<Time>,
}

/// A delivery with every attempt.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryDetail {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) delivery: Delivery,
    pub(crate) attempts: Vec<Attempt>,
}

/// One request to the destination and what came back.
#[derive(Serialize, ToSchema)]
pub(crate) struct Attempt {
    pub(crate) id: String,
    pub(crate) number: u32,
    pub(crate) started_at: Time,
    pub(crate) duration_ms: u64,
    pub(crate) status_code: Option<u16>,
    pub(crate) response_headers: Option<BTreeMap<String, String>>,
    /// As received (truncated), invalid UTF-8 shown as U+FFFD.
    pub(crate) response_body: Option<String>,
    pub(crate) error_category: Option<ErrorCategory>,
    pub(crate) error_message: Option<String>,
    /// The request's headers, secrets masked.
    pub(crate) request_headers: Option<BTreeMap<String, String>>,
    pub(crate) outcome: AttemptOutcome,
    pub(crate) test: bool,
}

/// Deliveries of the caller's tenant by state, and its queue's oldest wait.
#[derive(Serialize, ToSchema)]
pub(crate) struct Stats {
    pub(crate) deliveries: DeliveryCounts,
    pub(crate) queue: QueueFigures,
}

/// The caller's tenant's deliveries waiting to be sent.
#[derive(Serialize, ToSchema)]
pub(crate) struct QueueFigures {
    /// Seconds since the oldest delivery waiting to be sent (pending or
    /// retrying, of an active webhook) was queued; `null` when none waits.
    /// Scheduled deliveries and those held by a paused or disabled webhook
    /// do not count.
    pub(crate) oldest_pending_age_seconds: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryCounts {
    pub(crate) pending: u64,
    pub(crate) delivering: u64,
    pub(crate) retrying: u64,
    pub(crate) delivered: u64,
    pub(crate) failed: u64,
    pub(crate) skipped: u64,
    pub(crate) total: u64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Providers {
    pub(crate) data: Vec<ProviderEntry>,
}

/// A provider of the catalog, and whether this server has it switched on.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProviderEntry {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) info: ProviderInfo,
    pub(crate) enabled: bool,
    /// What it sends for the example event `training.complete`:
    /// `{"method", "url", "body"}`, or `{"subject", "text", "html"}` for
    /// email, or the event itself for the plain webhook.
    pub(crate) example: Value,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntry {
    pub(crate) id: String,
    /// `admin`, or the id of the API key that made the change.
    pub(crate) actor: String,
    /// `webhook.created`, `webhook.updated`, `tenant.deleted`, `key.revoked`, …
    pub(crate) action: String,
    pub(crate) resource_type: String,
    pub(crate) resource_id: String,
    /// The resource before the change (secrets masked).
    pub(crate) before: Option<Value>,
    pub(crate) after: Option<Value>,
    pub(crate) created_at: Time,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) name: String,
    /// How strictly ingest holds events to their type's schema: `off`,
    /// `warn` (accept, record the errors on the event) or `reject` (422).
    #[schema(value_type = String, pattern = "^(off|warn|reject)$")]
    pub(crate) schema_validation: String,
    pub(crate) created_at: Time,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Tenants {
    pub(crate) data: Vec<Tenant>,
}

/// A tenant just created, with its first API key (shown only here).
#[derive(Serialize, ToSchema)]
pub(crate) struct TenantCreated {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) tenant: Tenant,
    /// `hrld_…`: send as `Authorization: Bearer …`.
    pub(crate) api_key: String,
    pub(crate) api_key_id: String,
}

/// A tenant with its API keys (ids only).
#[derive(Serialize, ToSchema)]
pub(crate) struct TenantDetail {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) tenant: Tenant,
    pub(crate) keys: Vec<ApiKey>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ApiKey {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) created_at: Time,
}

/// A key just issued; its text is shown only here.
#[derive(Serialize, ToSchema)]
pub(crate) struct ApiKeyCreated {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) key: ApiKey,
    pub(crate) api_key: String,
}

/// A section of the console a portal session may be limited to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsoleFeature {
    Webhooks,
    Deliveries,
    Events,
    EventTypes,
    Schedules,
    Audit,
}

/// A tenant portal link; its address is shown only here.
#[derive(Serialize, ToSchema)]
pub(crate) struct PortalLink {
    /// The full address, from the `Host` the request used (and a proxy's
    /// `X-Forwarded-Proto`); `null` when the request named no host.
    pub(crate) url: Option<String>,
    /// The address's path, for a client that knows Herald's public URL.
    pub(crate) path: String,
    pub(crate) tenant_id: String,
    pub(crate) read_only: bool,
    /// The console sections the session may open; `null`: all of them.
    pub(crate) features: Option<Vec<String>>,
    /// The link must be opened before this; it works once.
    pub(crate) expires_at: Time,
    /// How long the session it opens lasts.
    pub(crate) session_seconds: u64,
}

/// A webhook's delivery figures over the last `period_days` days.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookReport {
    pub(crate) webhook_id: String,
    pub(crate) period_days: u32,
    pub(crate) start: Time,
    pub(crate) end: Time,
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) figures: Figures,
    pub(crate) daily: Vec<DailyFigures>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DailyFigures {
    /// `2026-01-31`.
    pub(crate) date: String,
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) figures: Figures,
}

/// Figures of a period; rates and times are `null` without attempts.
#[derive(Serialize, ToSchema)]
pub(crate) struct Figures {
    pub(crate) total_events: u64,
    pub(crate) total_attempts: u64,
    pub(crate) successful_deliveries: u64,
    pub(crate) failed_deliveries: u64,
    pub(crate) success_rate: Option<f64>,
    pub(crate) retry_count: u64,
    pub(crate) avg_response_time_ms: Option<f64>,
    pub(crate) min_response_time_ms: Option<f64>,
    pub(crate) max_response_time_ms: Option<f64>,
    pub(crate) p50_response_time_ms: Option<f64>,
    pub(crate) p95_response_time_ms: Option<f64>,
    pub(crate) p99_response_time_ms: Option<f64>,
    /// Failed attempts answered with a 4xx.
    pub(crate) http_4xx_errors: u64,
    pub(crate) http_5xx_errors: u64,
    pub(crate) timeout_errors: u64,
    /// Connect, DNS and TLS failures: the destination was not reached.
    pub(crate) network_errors: u64,
}

/// Attempt figures over a range, by time bucket and chosen dimensions.
#[derive(Serialize, ToSchema)]
pub(crate) struct AnalyticsRange {
    pub(crate) data: Vec<AnalyticsRow>,
    pub(crate) meta: AnalyticsMeta,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AnalyticsRow {
    /// The bucket's start; `null` when grouped rows span the range.
    pub(crate) time_bucket: Option<Time>,
    /// The values of the `group_by` dimensions (`status_code` a number).
    #[schema(value_type = Object)]
    pub(crate) dimensions: Value,
    pub(crate) metrics: AnalyticsMetrics,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AnalyticsMetrics {
    pub(crate) count: u64,
    pub(crate) success: u64,
    pub(crate) failed: u64,
    pub(crate) error_rate: Option<f64>,
    pub(crate) avg_ms: Option<f64>,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p95_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AnalyticsMeta {
    pub(crate) start: Time,
    pub(crate) end: Time,
    pub(crate) granularity: String,
    pub(crate) group_by: Vec<String>,
    /// The filters applied, by dimension.
    pub(crate) filters: BTreeMap<String, Vec<String>>,
}

/// The tenant at a glance: webhooks by status and the last 24 hours.
#[derive(Serialize, ToSchema)]
pub(crate) struct Summary {
    pub(crate) webhooks: WebhookCounts,
    pub(crate) last_24h: Last24h,
    pub(crate) per_webhook: Vec<WebhookSummary>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookCounts {
    pub(crate) total: u64,
    pub(crate) active: u64,
    pub(crate) paused: u64,
    pub(crate) disabled: u64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Last24h {
    pub(crate) attempts: u64,
    pub(crate) successful_attempts: u64,
    pub(crate) delivered: u64,
    pub(crate) failed: u64,
    pub(crate) success_rate: Option<f64>,
    pub(crate) p95_response_time_ms: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookSummary {
    pub(crate) webhook_id: String,
    pub(crate) name: String,
    pub(crate) provider: String,
    pub(crate) status: WebhookStatus,
    pub(crate) last_triggered_at: Option<Time>,
    pub(crate) attempts_24h: u64,
    pub(crate) success_rate_24h: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Tags {
    pub(crate) data: Vec<TagCount>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TagCount {
    pub(crate) tag: String,
    /// Webhooks carrying it.
    pub(crate) webhooks: u64,
}

/// The body of `POST /webhooks`: the webhook's settings and, optionally,
/// its signing secret.
#[derive(Serialize, ToSchema)]
pub(crate) struct NewWebhook {
    #[schema(inline)]
    #[serde(flatten)]
    pub(crate) spec: WebhookSpec,
    /// A `whsec_…` secret of your own; generated when absent.
    #[schema(schema_with = herald_core::signing::secret_schema)]
    pub(crate) secret: Option<String>,
}
