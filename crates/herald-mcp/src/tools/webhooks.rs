//! `webhooks.*`: list, read, create, change, pause, resume, test, delete a
//! webhook, and re-queue its failed deliveries.

use std::collections::BTreeMap;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{convert, text_of, time};
use crate::answer::{self, clip, field, list_summary};
use crate::server::HeraldMcp;

/// One webhook in a line: id, name, state, health, provider and where it
/// delivers (as the API shows it: credential URLs are masked).
pub(crate) fn webhook_line(w: &Value) -> String {
    let health = w["health"]["state"].as_str().unwrap_or("-");
    format!(
        "{} \"{}\" status={} health={} provider={} url={} events={}",
        field(w, "id"),
        clip(&field(w, "name"), 60),
        field(w, "status"),
        health,
        w["provider"].as_str().unwrap_or("webhook"),
        clip(&field(w, "url"), 80),
        w["event_types"],
    )
}

/// A webhook's state and recent record, for answers about one webhook.
pub(crate) fn webhook_detail(verb: &str, w: &Value) -> String {
    let h = &w["health"];
    let mut out = format!("{verb} webhook {}", webhook_line(w));
    if !h.is_null() {
        out.push_str(&format!(
            "\nHealth: {} (success rate 1h {}, 24h {}; {} consecutive failures; last error: {})",
            field(h, "state"),
            field(h, "success_rate_1h"),
            field(h, "success_rate_24h"),
            field(h, "consecutive_failures"),
            clip(&field(h, "last_error"), 200),
        ));
    }
    if let Some(reason) = w["disabled_reason"].as_str() {
        out.push_str(&format!("\nDisabled: {}", clip(reason, 300)));
    }
    out
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListWebhooks {
    /// Only webhooks in this state.
    #[serde(default)]
    status: Option<WebhookStatus>,
    /// Only webhooks that have this tag.
    #[serde(default)]
    tag: Option<String>,
    /// Only webhooks that would receive an event of this type (e.g.
    /// `training.complete`).
    #[serde(default)]
    event_type: Option<String>,
    /// Only webhooks in this health state.
    #[serde(default)]
    health: Option<HealthState>,
    /// Page size, 1–250 (default 50).
    #[serde(default)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum WebhookStatus {
    Active,
    Paused,
    /// Switched off by the circuit breaker after repeated failures.
    Disabled,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum HealthState {
    Healthy,
    Degraded,
    Failing,
    Unknown,
    Paused,
    Disabled,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookId {
    /// The webhook's id (`wh_…`).
    id: String,
}

/// The fields of a webhook an agent sets most, as the API takes them.
/// Anything else of the API's webhook body (`auth`, `signature`, `alerts`,
/// …) may be given too and is passed on as is; the API checks every field
/// and names the one at fault.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct WebhookFields {
    /// Where deliveries go. For `webhook`: an absolute `https://` URL. For
    /// an integration: the service's hook URL (Slack, Teams, Discord, …) or
    /// site/API base (Jira, GitHub, …); none for email.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// `webhook` (signed JSON, the default) or an integration: `slack`,
    /// `teams`, `discord`, `mattermost`, `google_chat`, `email`,
    /// `pagerduty`, `jira`, `github`, `datadog`, `zapier` (see
    /// `providers.list` for each one's settings).
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    /// Free text, at most 1,000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Event types to receive: exact (`training.complete`), `*` (all), or
    /// a prefix (`hpo.*`). 1–100 patterns; default `["*"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    event_types: Option<Vec<String>>,
    /// Only events whose content matches, on top of `event_types`:
    /// `{"match": {"data": {"severity": {"$in": ["high", "critical"]}}}}`
    /// (a JSON match document: plain values are equality; `$eq $neq $gt
    /// $gte $lt $lte $in $nin $exist $regex $startsWith $endsWith
    /// $contains $and $or $not`; dot paths) and/or `{"expr": "event.data.
    /// severity == 'high'"}` (CEL).
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<Map<String, Value>>,
    /// Labels to find the webhook by (at most 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    /// The provider's options (see `providers.list`), e.g. Slack's
    /// `{"mention_on_failure": true}` or email's `{"to": ["a@b.c"]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<Map<String, Value>>,
    /// Extra request headers (at most 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
    /// Retry policy: `{"strategy": "exponential"|"linear"|"fixed"|"none",
    /// "max_retries": 0–20, "initial_delay_ms", "multiplier",
    /// "max_delay_ms", "jitter", "retry_on_status": [...]}`; fields left
    /// out take their defaults (5 exponential retries from 1 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry: Option<Map<String, Value>>,
    /// Milliseconds to wait for the destination, 1,000–300,000 (default
    /// 30,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<u64>,
    /// Concurrent deliveries to this webhook, 1–1,000 (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    max_in_flight: Option<u32>,
    /// `{"per_second"|"per_minute"|"per_hour": n}`: the most requests sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<Map<String, Value>>,
    /// `fifo` delivers one at a time in event order; `none` (default) in
    /// parallel.
    #[serde(skip_serializing_if = "Option::is_none")]
    ordering: Option<Ordering>,
    /// Consecutive failed deliveries after which Herald disables the
    /// webhook (0 never; default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_disable_after: Option<u32>,
    /// While disabled, probe the destination and enable the webhook again
    /// on the first success.
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_recover: Option<bool>,
    /// Any JSON kept with the webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Ordering {
    None,
    Fifo,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct CreateWebhook {
    /// A name people recognise, 1–255 characters.
    name: String,
    #[serde(flatten)]
    fields: WebhookFields,
    /// Other fields of the API's webhook body, passed on as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    more: Map<String, Value>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct UpdateWebhook {
    /// The webhook's id (`wh_…`).
    id: String,
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Only the fields given change; each replaces the stored one whole
    /// (`retry: {"max_retries": 2}` resets the other retry settings).
    #[serde(flatten)]
    fields: WebhookFields,
    #[serde(flatten)]
    #[schemars(skip)]
    more: Map<String, Value>,
}

/// What `webhooks.update` sends: its arguments less the id.
#[derive(Serialize)]
struct ChangedFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(flatten)]
    fields: WebhookFields,
    #[serde(flatten)]
    more: Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestWebhook {
    /// The webhook's id (`wh_…`).
    id: String,
    /// Event type of the test request (default `herald.test`).
    #[serde(default)]
    event_type: Option<String>,
    /// Event data of the test request (default: a small sample).
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayFailed {
    /// The webhook's id (`wh_…`).
    id: String,
    /// Re-queue deliveries that failed within this many hours (above 0, at
    /// most 8,784). Give this, or `since`.
    #[serde(default)]
    max_age_hours: Option<f64>,
    /// Start of the window (RFC 3339, e.g. `2026-11-23T10:00:00Z`).
    #[serde(default)]
    since: Option<String>,
    /// End of the window (RFC 3339; default now).
    #[serde(default)]
    until: Option<String>,
}

impl ListWebhooks {
    fn filter(&self) -> herald_client::WebhookFilter {
        herald_client::WebhookFilter {
            status: self
                .status
                .map(|s| herald_client::WebhookStatus::parse(&text_of(&s))),
            tag: self.tag.clone(),
            event_type: self.event_type.clone(),
            health: self
                .health
                .map(|h| herald_client::HealthState::parse(&text_of(&h))),
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

#[tool_router(router = webhook_tools, vis = "pub(crate)")]
impl HeraldMcp {
    #[tool(
        name = "webhooks.list",
        description = "List webhooks (oldest first) with their status, health, provider, \
                       destination and event types; filter by status, tag, event type or \
                       health.",
        annotations(
            title = "List webhooks",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn webhooks_list(
        &self,
        Parameters(query): Parameters<ListWebhooks>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let filter = query.filter();
        self.run(
            &context,
            "webhooks.list",
            |api| api.list_webhooks(&filter),
            |answer| list_summary(("webhook", "webhooks"), answer, 25, webhook_line),
        )
        .await
    }

    #[tool(
        name = "webhooks.get",
        description = "Read one webhook: its whole configuration (credentials masked) and its \
                       health (success rates, consecutive failures, last error).",
        annotations(
            title = "Read a webhook",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn webhooks_get(
        &self,
        Parameters(WebhookId { id }): Parameters<WebhookId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "webhooks.get",
            |api| api.get_webhook(&id),
            |w| webhook_detail("The", w),
        )
        .await
    }

    #[tool(
        name = "webhooks.create",
        description = "Create a webhook: a destination (a signed HTTPS endpoint, or an \
                       integration such as Slack, Teams or email) subscribed to event types. \
                       The answer shows the signing secret once.",
        annotations(
            title = "Create a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn webhooks_create(
        &self,
        Parameters(create): Parameters<CreateWebhook>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        const TOOL: &str = "webhooks.create";
        let webhook: herald_client::NewWebhook = match convert(&create) {
            Ok(webhook) => webhook,
            Err(why) => return answer::not_sent(TOOL, &why),
        };
        self.run(
            &context,
            TOOL,
            |api| api.create_webhook(&webhook),
            |w| {
                format!(
                    "Created webhook {}\nThe signing secret is in `secret`; it is shown only now.",
                    webhook_line(w)
                )
            },
        )
        .await
    }

    #[tool(
        name = "webhooks.update",
        description = "Change a webhook: only the fields given change, each replaced whole. \
                       To pause or resume use webhooks.pause / webhooks.resume.",
        annotations(
            title = "Change a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn webhooks_update(
        &self,
        Parameters(update): Parameters<UpdateWebhook>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        const TOOL: &str = "webhooks.update";
        let UpdateWebhook {
            id,
            name,
            fields,
            more,
        } = update;
        // The id names the webhook in the path; the body holds the changes.
        let changes = ChangedFields { name, fields, more };
        let patch: herald_client::WebhookPatch = match convert(&changes) {
            Ok(patch) => patch,
            Err(why) => return answer::not_sent(TOOL, &why),
        };
        self.run(
            &context,
            TOOL,
            |api| api.update_webhook(&id, &patch),
            |w| webhook_detail("Updated", w),
        )
        .await
    }

    #[tool(
        name = "webhooks.delete",
        description = "Delete a webhook with its delivery log (events stay). Cannot be undone.",
        annotations(
            title = "Delete a webhook",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn webhooks_delete(
        &self,
        Parameters(WebhookId { id }): Parameters<WebhookId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "webhooks.delete",
            |api| api.delete_webhook(&id),
            |_| format!("Deleted webhook {id} and its delivery log."),
        )
        .await
    }

    #[tool(
        name = "webhooks.pause",
        description = "Pause a webhook: it keeps collecting deliveries and holds them until \
                       resumed.",
        annotations(
            title = "Pause a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn webhooks_pause(
        &self,
        Parameters(WebhookId { id }): Parameters<WebhookId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "webhooks.pause",
            |api| api.pause_webhook(&id),
            |w| webhook_detail("Paused", w),
        )
        .await
    }

    #[tool(
        name = "webhooks.resume",
        description = "Resume a paused webhook, or enable one the circuit breaker disabled: \
                       the deliveries it held go out, oldest first.",
        annotations(
            title = "Resume a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn webhooks_resume(
        &self,
        Parameters(WebhookId { id }): Parameters<WebhookId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "webhooks.resume",
            |api| api.resume_webhook(&id),
            |w| webhook_detail("Resumed", w),
        )
        .await
    }

    #[tool(
        name = "webhooks.test",
        description = "Send one signed test request to a webhook now (no retries) and report \
                       the destination's answer: status code, duration, body or error.",
        annotations(
            title = "Test a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn webhooks_test(
        &self,
        Parameters(test): Parameters<TestWebhook>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let request = herald_client::TestRequest {
            event_type: test.event_type,
            data: test.data,
        };
        self.run(
            &context,
            "webhooks.test",
            |api| api.test_webhook(&test.id, &request),
            |t| {
                let outcome = if t["success"] == true {
                    "succeeded"
                } else {
                    "failed"
                };
                format!(
                    "The test request {outcome}: status {}, {} ms, error {}, answer {:?} \
                     (delivery {}).",
                    field(t, "status_code"),
                    field(t, "duration_ms"),
                    field(t, "error"),
                    clip(&field(t, "response_body"), 300),
                    field(t, "delivery_id"),
                )
            },
        )
        .await
    }

    #[tool(
        name = "webhooks.replay_failed",
        description = "Re-queue a webhook's failed deliveries (its dead letters) that failed \
                       within a window, each with a fresh retry schedule. Give max_age_hours, \
                       or since (and optionally until).",
        annotations(
            title = "Replay failed deliveries",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn webhooks_replay_failed(
        &self,
        Parameters(replay): Parameters<ReplayFailed>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        const TOOL: &str = "webhooks.replay_failed";
        let window = match (
            time("since", replay.since.as_deref()),
            time("until", replay.until.as_deref()),
        ) {
            (Ok(since), Ok(until)) => herald_client::RetryWindow {
                since,
                until,
                max_age_hours: replay.max_age_hours,
            },
            (Err(why), _) | (_, Err(why)) => return answer::not_sent(TOOL, &why),
        };
        self.run(
            &context,
            TOOL,
            |api| api.retry_failed(&replay.id, &window),
            |a| {
                format!(
                    "Re-queued {} failed deliveries of webhook {}.",
                    field(a, "requeued"),
                    replay.id
                )
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn create_and_update_become_the_clients_bodies_with_only_what_was_given() {
        let create: CreateWebhook = serde_json::from_value(json!({
            "name": "ci", "url": "https://example.com/h", "auth": {"type": "bearer", "token": "t"},
            "alerts": {"min_attempts": 5}
        }))
        .unwrap();
        let webhook: herald_client::NewWebhook = convert(&create).unwrap();
        assert_eq!(webhook.name.as_deref(), Some("ci"));
        assert_eq!(
            serde_json::to_value(&webhook).unwrap(),
            json!({"name": "ci", "url": "https://example.com/h",
                   "auth": {"type": "bearer", "token": "t"}, "alerts": {"min_attempts": 5}})
        );
        let update: UpdateWebhook =
            serde_json::from_value(json!({"id": "wh_1", "event_types": ["a.*"]})).unwrap();
        let changes = ChangedFields {
            name: update.name,
            fields: update.fields,
            more: update.more,
        };
        let patch: herald_client::WebhookPatch = convert(&changes).unwrap();
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({"event_types": ["a.*"]})
        );
    }

    #[test]
    fn the_schemas_describe_the_fields() {
        let schema = serde_json::to_value(schemars::schema_for!(CreateWebhook)).unwrap();
        assert_eq!(schema["required"], json!(["name"]));
        assert!(schema["properties"]["event_types"]["description"].is_string());
        assert!(schema["properties"]["provider"].is_object());
        let filter = serde_json::from_value::<ListWebhooks>(json!({"status": "paused"}))
            .unwrap()
            .filter();
        assert_eq!(filter.status, Some(herald_client::WebhookStatus::Paused));
    }
}
