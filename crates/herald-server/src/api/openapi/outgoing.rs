//! What Herald sends: the plain `webhook` provider's body, a batch of them,
//! and Herald's own `herald.*` operational events, for the spec's
//! `webhooks` section (OpenAPI 3.1), which utoipa does not model: the
//! section is built here from utoipa's path items and added to the
//! document as JSON.
#![allow(dead_code)]

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{ContentBuilder, PathItem, Ref, Required, ResponseBuilder};

/// The body of every request a plain `webhook` sends (Standard Webhooks),
/// signed as sent: `{"id", "type", "timestamp", "data"}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookPayload {
    /// The event's id; with `webhook-id`, what receivers deduplicate on.
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    /// When the event was accepted, RFC 3339.
    pub(crate) timestamp: String,
    /// The event's `data` as posted.
    pub(crate) data: Value,
}

/// `herald.webhook.disabled`: the circuit breaker disabled a webhook.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookDisabledData {
    pub(crate) webhook_id: String,
    pub(crate) reason: String,
    pub(crate) consecutive_failures: u64,
}

/// `herald.webhook.enabled`: a disabled webhook was enabled again.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookEnabledData {
    pub(crate) webhook_id: String,
    pub(crate) discarded_held: u64,
}

/// `herald.delivery.failed`: a delivery failed for good (dead letter).
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryFailedData {
    pub(crate) webhook_id: String,
    pub(crate) delivery_id: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
}

/// `herald.webhook.degraded` (`severity: warning`) and
/// `herald.webhook.recovered` (`severity: success`, the same `dedup_key`).
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookHealthData {
    pub(crate) title: String,
    pub(crate) message: String,
    /// `warning` when degraded, `success` when recovered.
    pub(crate) severity: String,
    pub(crate) webhook_id: String,
    pub(crate) webhook_name: String,
    pub(crate) success_rate: Option<f64>,
    pub(crate) attempts: u64,
    pub(crate) successes: u64,
    pub(crate) window_minutes: u32,
    pub(crate) success_rate_below: f64,
    pub(crate) min_attempts: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) dedup_key: String,
}

/// `herald.queue.backlog` (`state: firing`) and `herald.queue.recovered`
/// (`state: resolved`), to the default tenant's webhooks.
#[derive(Serialize, ToSchema)]
pub(crate) struct QueueData {
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) severity: String,
    /// `firing` or `resolved`.
    pub(crate) state: String,
    pub(crate) pending: u64,
    pub(crate) retrying: u64,
    pub(crate) oldest_pending_age_seconds: u64,
    pub(crate) pending_limit: Option<u64>,
    pub(crate) oldest_age_limit_seconds: u64,
    pub(crate) dedup_key: String,
}

/// The operational events, with the schema of their `data`.
const OPERATIONAL: [(&str, &str, &str); 7] = [
    (
        "herald.webhook.disabled",
        "WebhookDisabledData",
        "The circuit breaker disabled a webhook.",
    ),
    (
        "herald.webhook.enabled",
        "WebhookEnabledData",
        "A disabled webhook was enabled again.",
    ),
    (
        "herald.delivery.failed",
        "DeliveryFailedData",
        "A delivery failed for good (dead letter).",
    ),
    (
        "herald.webhook.degraded",
        "WebhookHealthData",
        "A webhook's success rate over its alert window fell below its threshold.",
    ),
    (
        "herald.webhook.recovered",
        "WebhookHealthData",
        "A degraded webhook is no longer degraded and its last attempt succeeded.",
    ),
    (
        "herald.queue.backlog",
        "QueueData",
        "More deliveries wait than the backlog limits allow.",
    ),
    (
        "herald.queue.recovered",
        "QueueData",
        "The queue is back under both backlog limits.",
    ),
];

const RECEIVER_ANSWERS: &str = "Any 2xx: delivered. Redirects are not followed (a \
    failure); 408, 429, 5xx and connection errors are retried on the webhook's \
    schedule (`Retry-After` honoured), other 4xx fail the delivery unless the \
    webhook's `retry.retry_on_status` lists them.";

const SIGNING: &str = "Signed per the webhook's `signature.scheme`: Standard Webhooks \
    (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of \
    \"{id}.{timestamp}.{body}\">`, or `v1a,<base64 Ed25519>` for `ed25519`), \
    `X-Webhook-Signature: sha256=<hex>` for `hmac_sha256_hex`, or none.";

fn header(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String),
        ))
        .build()
}

fn post(
    summary: &str,
    description: &str,
    body: utoipa::openapi::RefOr<utoipa::openapi::Schema>,
) -> PathItem {
    let operation = OperationBuilder::new()
        .summary(Some(summary))
        .description(Some(format!("{description}\n\n{SIGNING}")))
        .tag("outgoing webhooks")
        .parameter(header(
            "webhook-id",
            "`msg_…` for a batch, else the event's id; stable across retries",
        ))
        .parameter(header("webhook-timestamp", "Unix seconds of this attempt"))
        .parameter(header(
            "webhook-signature",
            "Space-separated signatures (several during a secret rotation)",
        ))
        .parameter(header(
            "X-Webhook-Signature",
            "`sha256=<hex HMAC-SHA256 of the body>` (`hmac_sha256_hex` scheme)",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body)).build(),
                )
                .build(),
        ))
        .response("2XX", ResponseBuilder::new().description(RECEIVER_ANSWERS))
        .build();
    PathItem::new(HttpMethod::Post, operation)
}

fn schema_ref(name: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    Ref::from_schema_name(name).into()
}

/// The body of an operational event: a [`WebhookPayload`] whose `type` is
/// fixed and whose `data` has the event's own schema.
fn operational_body(event_type: &str, data: &str) -> Value {
    json!({
        "allOf": [{"$ref": "#/components/schemas/WebhookPayload"}],
        "type": "object",
        "properties": {
            "type": {"const": event_type},
            "data": {"$ref": format!("#/components/schemas/{data}")},
        },
    })
}

/// The spec's `webhooks` section.
pub(crate) fn webhooks() -> Map<String, Value> {
    let mut section = Map::new();
    let mut add = |name: &str, item: PathItem| {
        let value = serde_json::to_value(item).expect("a path item serializes");
        section.insert(name.to_string(), value);
    };
    add(
        "event",
        post(
            "An event, to a plain `webhook`",
            "One event per request, to every webhook of provider `webhook` \
             subscribed to its type. Integrations (Slack, Teams, …) get their \
             service's own format instead; see the provider catalog.",
            schema_ref("WebhookPayload"),
        ),
    );
    add(
        "batch",
        post(
            "A batch of events, to a plain `webhook` with `batch` set",
            "Up to `batch.max_events` events as one JSON array of the usual \
             bodies, signed as one body with its own `webhook-id` (`msg_…`).",
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(schema_ref("WebhookPayload"))
                .build()
                .into(),
        ),
    );
    let mut items = Vec::new();
    for (event_type, data, description) in OPERATIONAL {
        let mut item = post(
            &format!("`{event_type}`"),
            &format!(
                "{description} Herald's own event (`source: herald`), sent only to \
                 webhooks that name it (`herald.*`, a prefix, or the exact type)."
            ),
            schema_ref("WebhookPayload"),
        );
        item.post.as_mut().expect("built with post").operation_id = None;
        items.push((event_type, data, item));
    }
    for (event_type, data, item) in items {
        let mut value = serde_json::to_value(item).expect("a path item serializes");
        value["post"]["requestBody"]["content"]["application/json"]["schema"] =
            operational_body(event_type, data);
        section.insert(event_type.to_string(), value);
    }
    section
}
