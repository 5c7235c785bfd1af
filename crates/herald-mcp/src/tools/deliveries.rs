//! `deliveries.*`: the delivery log (one event to one webhook, with every
//! attempt), and re-queueing a failed delivery.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::text_of;
use crate::answer::{clip, field, list_summary};
use crate::server::HeraldMcp;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum DeliveryStatus {
    Pending,
    Delivering,
    Retrying,
    Delivered,
    /// Out of retries: a dead letter (deliveries.retry re-queues it).
    Failed,
    Skipped,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListDeliveries {
    /// Only deliveries in this state.
    #[serde(default)]
    status: Option<DeliveryStatus>,
    /// Only deliveries to this webhook (`wh_…`).
    #[serde(default)]
    webhook_id: Option<String>,
    /// Only deliveries of this event.
    #[serde(default)]
    event_id: Option<String>,
    /// Page size, 1–250 (default 50).
    #[serde(default)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryId {
    /// The delivery's id (`dlv_…`).
    id: String,
}

pub(crate) fn delivery_line(d: &Value) -> String {
    format!(
        "{} event={} ({}) webhook={} status={} attempts={} last_status={} last_error={}",
        field(d, "id"),
        field(d, "event_id"),
        field(d, "event_type"),
        field(d, "webhook_id"),
        field(d, "status"),
        field(d, "attempt_count"),
        field(d, "last_status_code"),
        clip(&field(d, "last_error"), 160),
    )
}

fn attempt_line(a: &Value) -> String {
    let mut line = format!(
        "attempt {} at {}: {} in {} ms, status {}",
        field(a, "number"),
        field(a, "started_at"),
        field(a, "outcome"),
        field(a, "duration_ms"),
        field(a, "status_code"),
    );
    if !a["error_category"].is_null() {
        line.push_str(&format!(
            ", error {}: {}",
            field(a, "error_category"),
            clip(&field(a, "error_message"), 200)
        ));
    }
    if let Some(body) = a["response_body"].as_str().filter(|b| !b.is_empty()) {
        line.push_str(&format!(", answered {:?}", clip(body, 200)));
    }
    line
}

#[tool_router(router = delivery_tools, vis = "pub(crate)")]
impl HeraldMcp {
    #[tool(
        name = "deliveries.list",
        description = "List deliveries (one event to one webhook), newest first; filter by \
                       status (e.g. failed), webhook_id or event_id.",
        annotations(
            title = "List deliveries",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn deliveries_list(
        &self,
        Parameters(query): Parameters<ListDeliveries>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let filter = herald_client::DeliveryFilter {
            status: query
                .status
                .map(|s| herald_client::DeliveryStatus::parse(&text_of(&s))),
            webhook_id: query.webhook_id,
            event_id: query.event_id,
            limit: query.limit,
            cursor: query.cursor,
            ..Default::default()
        };
        self.run(
            &context,
            "deliveries.list",
            |api| api.list_deliveries(&filter),
            |a| list_summary(("delivery", "deliveries"), a, 25, delivery_line),
        )
        .await
    }

    #[tool(
        name = "deliveries.get",
        description = "Read one delivery with every attempt: when, how long, the status code, \
                       the error category and message, the destination's answer, and the \
                       request headers sent (secrets masked).",
        annotations(
            title = "Read a delivery",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn deliveries_get(
        &self,
        Parameters(DeliveryId { id }): Parameters<DeliveryId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "deliveries.get",
            |api| api.get_delivery(&id),
            |d| {
                let mut out = format!("Delivery {}", delivery_line(d));
                if let Some(next) = d["next_attempt_at"].as_str() {
                    out.push_str(&format!("\nNext attempt at {next}."));
                }
                for a in d["attempts"].as_array().map_or(&[][..], Vec::as_slice) {
                    out.push_str("\n- ");
                    out.push_str(&attempt_line(a));
                }
                out
            },
        )
        .await
    }

    #[tool(
        name = "deliveries.retry",
        description = "Re-queue one failed delivery (a dead letter) with a fresh retry \
                       schedule. Deliveries in any other state cannot be retried.",
        annotations(
            title = "Retry a delivery",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn deliveries_retry(
        &self,
        Parameters(DeliveryId { id }): Parameters<DeliveryId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "deliveries.retry",
            |api| api.retry_delivery(&id),
            |d| format!("Re-queued delivery {}", delivery_line(d)),
        )
        .await
    }
}
