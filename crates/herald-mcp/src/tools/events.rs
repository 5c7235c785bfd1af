//! `events.*`: send an event (now or later), read one (with where it
//! went), list them, send one again, cancel a scheduled one.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::answer::{field, list_summary};
use crate::server::HeraldMcp;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendEvent {
    /// The event type, e.g. `training.complete` (1–255 characters of
    /// `A-Za-z0-9_.:-`). Webhooks subscribed to it receive the event.
    #[serde(rename = "type")]
    event_type: String,
    /// The event's data: any JSON (default `{}`).
    #[serde(default)]
    data: Option<Value>,
    /// Your own id for the event (default a generated `evt_…`). Sending
    /// the same id again delivers nothing twice.
    #[serde(default)]
    id: Option<String>,
    /// Where the event comes from (at most 255 characters).
    #[serde(default)]
    source: Option<String>,
    /// Deliver at this RFC 3339 time (at most 90 days ahead) instead of at
    /// once, e.g. a reminder; `events.cancel` until then.
    #[serde(default)]
    deliver_at: Option<String>,
    /// Deliver this many milliseconds from now instead of at once.
    #[serde(default)]
    delay_ms: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventId {
    /// The event's id.
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListEvents {
    /// Only events of this type.
    #[serde(default, rename = "type")]
    event_type: Option<String>,
    /// Page size, 1–250 (default 50).
    #[serde(default)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayEvent {
    /// The event's id.
    id: String,
    /// Send it to these webhooks (`wh_…`) only; default every webhook now
    /// subscribed to its type.
    #[serde(default)]
    webhook_ids: Option<Vec<String>>,
}

fn event_line(e: &Value) -> String {
    format!(
        "{} type={} source={} created_at={}",
        field(e, "id"),
        field(e, "type"),
        field(e, "source"),
        field(e, "created_at")
    )
}

#[tool_router(router = event_tools, vis = "pub(crate)")]
impl HeraldMcp {
    #[tool(
        name = "events.send",
        description = "Send an event: Herald stores it, then delivers it to every webhook \
                       subscribed to its type, retrying as each webhook's policy says. Answers \
                       the event id and how many webhooks it goes to.",
        annotations(
            title = "Send an event",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn events_send(
        &self,
        Parameters(event): Parameters<SendEvent>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let deliver_at = match super::time("deliver_at", event.deliver_at.as_deref()) {
            Ok(at) => at,
            Err(why) => return crate::answer::not_sent("events.send", &why),
        };
        let new_event = herald_client::NewEvent {
            event_type: event.event_type.clone(),
            data: event.data,
            id: event.id,
            source: event.source,
            deliver_at,
            delay_ms: event.delay_ms,
        };
        self.run(
            &context,
            "events.send",
            |api| api.send_event(&new_event),
            |a| {
                format!(
                    "Accepted event {} ({}): going to {} webhook(s). events.get shows where it \
                 went; deliveries.list with event_id lists its deliveries.",
                    field(a, "id"),
                    event.event_type,
                    field(a, "deliveries"),
                )
            },
        )
        .await
    }

    #[tool(
        name = "events.get",
        description = "Read one event: its type, data and, per webhook, its delivery's status, \
                       attempt count and last status code.",
        annotations(
            title = "Read an event",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn events_get(
        &self,
        Parameters(EventId { id }): Parameters<EventId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "events.get",
            |api| api.get_event(&id),
            |e| {
                let mut out = format!("Event {}", event_line(e));
                let deliveries = e["deliveries"].as_array().map_or(&[][..], Vec::as_slice);
                if deliveries.is_empty() {
                    out.push_str("\nNo deliveries: no webhook was subscribed to its type.");
                }
                for d in deliveries {
                    out.push_str(&format!(
                        "\n- delivery {} to webhook {}: {} after {} attempt(s), last status {}",
                        field(d, "delivery_id"),
                        field(d, "webhook_id"),
                        field(d, "status"),
                        field(d, "attempt_count"),
                        field(d, "last_status_code"),
                    ));
                }
                out
            },
        )
        .await
    }

    #[tool(
        name = "events.list",
        description = "List events, newest first; filter by type.",
        annotations(title = "List events", read_only_hint = true, open_world_hint = false)
    )]
    async fn events_list(
        &self,
        Parameters(query): Parameters<ListEvents>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let filter = herald_client::EventFilter {
            event_type: query.event_type,
            limit: query.limit,
            cursor: query.cursor,
        };
        self.run(
            &context,
            "events.list",
            |api| api.list_events(&filter),
            |a| list_summary(("event", "events"), a, 25, event_line),
        )
        .await
    }

    #[tool(
        name = "events.replay",
        description = "Send a stored event again: one new delivery to each webhook subscribed \
                       to its type now, or to the webhooks named.",
        annotations(
            title = "Replay an event",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn events_replay(
        &self,
        Parameters(replay): Parameters<ReplayEvent>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let to = replay.webhook_ids.as_deref();
        self.run(
            &context,
            "events.replay",
            |api| api.replay_event(&replay.id, to),
            |a| {
                format!(
                    "Event {} is going out again: {} new delivery(ies), to {}.",
                    field(a, "event_id"),
                    field(a, "deliveries"),
                    a["webhook_ids"]
                )
            },
        )
        .await
    }

    #[tool(
        name = "events.cancel",
        description = "Cancel an event sent with deliver_at or delay_ms before its time: its \
                       deliveries still waiting are cancelled and never sent.",
        annotations(
            title = "Cancel a scheduled event",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn events_cancel(
        &self,
        Parameters(EventId { id }): Parameters<EventId>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(
            &context,
            "events.cancel",
            |api| api.cancel_event(&id),
            |c| {
                format!(
                    "Cancelled {} scheduled delivery(ies) of event {}.",
                    field(c, "cancelled"),
                    field(c, "id")
                )
            },
        )
        .await
    }
}
