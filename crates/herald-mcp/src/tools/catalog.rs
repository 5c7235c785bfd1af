//! The reading tools around the resources: the provider catalog,
//! analytics, queue stats and the audit log.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answer::{clip, field, list_summary};
use crate::server::{ApiRequest, HeraldMcp};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArguments {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookAnalytics {
    /// The webhook's id (`wh_…`).
    webhook_id: String,
    /// The last this many UTC days, today included (1–730, default 7).
    #[serde(default)]
    period_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
enum Granularity {
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

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Dimension {
    WebhookId,
    Provider,
    EventType,
    Outcome,
    StatusCode,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyticsQuery {
    /// Start (RFC 3339; default 24 hours ago).
    #[serde(default)]
    start: Option<String>,
    /// End (RFC 3339; default now).
    #[serde(default)]
    end: Option<String>,
    /// Bucket width (default `1h`).
    #[serde(default)]
    granularity: Option<Granularity>,
    /// Split each bucket by these dimensions.
    #[serde(default)]
    group_by: Option<Vec<Dimension>>,
    /// Only these webhooks (`wh_…`).
    #[serde(default)]
    webhook_id: Option<Vec<String>>,
    /// Only these providers (`slack`, `webhook`, …).
    #[serde(default)]
    provider: Option<Vec<String>>,
    /// Only these event types.
    #[serde(default)]
    event_type: Option<Vec<String>>,
    /// Only these outcomes: `success` or an error category (`timeout`,
    /// `http_5xx`, …).
    #[serde(default)]
    outcome: Option<Vec<String>>,
    /// Only these HTTP status codes (0: no answer).
    #[serde(default)]
    status_code: Option<Vec<u16>>,
}

impl AnalyticsQuery {
    /// The query string: lists as the API takes them, comma-separated.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        fn join<T: Serialize>(values: &[T]) -> String {
            values
                .iter()
                .map(|v| match serde_json::to_value(v).expect("serialises") {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        }
        let mut pairs = Vec::new();
        let mut push = |name, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        };
        push("start", self.start.clone());
        push("end", self.end.clone());
        push("granularity", self.granularity.map(|g| join(&[g])));
        push("group_by", self.group_by.as_deref().map(join));
        push("webhook_id", self.webhook_id.as_deref().map(join));
        push("provider", self.provider.as_deref().map(join));
        push("event_type", self.event_type.as_deref().map(join));
        push("outcome", self.outcome.as_deref().map(join));
        push("status_code", self.status_code.as_deref().map(join));
        pairs
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListAudit {
    /// Only changes to this webhook, tenant or key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    /// Page size, 1–250 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

fn rate(value: &Value) -> String {
    value
        .as_f64()
        .map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

#[tool_router(router = catalog_tools, vis = "pub(crate)")]
impl HeraldMcp {
    #[tool(
        name = "providers.list",
        description = "List the providers a webhook can use (webhook, slack, teams, email, …) \
                       with their settings, limits, default rate and whether this server has \
                       them switched on.",
        annotations(
            title = "List providers",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn providers_list(
        &self,
        Parameters(NoArguments {}): Parameters<NoArguments>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let request = ApiRequest::get(&["providers"]);
        self.run(&context, "providers.list", request, |a| {
            list_summary(("provider", "providers"), a, 50, |p| {
                let settings: Vec<String> = p["settings"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .map(|s| field(s, "name"))
                    .collect();
                format!(
                    "{} ({}){}: settings {}",
                    field(p, "name"),
                    field(p, "title"),
                    if p["enabled"] == false {
                        " [switched off]"
                    } else {
                        ""
                    },
                    if settings.is_empty() {
                        "none".to_string()
                    } else {
                        settings.join(", ")
                    }
                )
            })
        })
        .await
    }

    #[tool(
        name = "analytics.get",
        description = "One webhook's delivery report over the last days: success rate, \
                       response time percentiles, errors by kind (4xx, 5xx, timeouts, network) \
                       and a row per day.",
        annotations(
            title = "Webhook analytics",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn analytics_get(
        &self,
        Parameters(query): Parameters<WebhookAnalytics>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let path = ["webhooks", query.webhook_id.as_str(), "analytics"];
        let days: Vec<(&str, u32)> = query
            .period_days
            .map(|d| ("period_days", d))
            .into_iter()
            .collect();
        let request = ApiRequest::get_with(&path, &days);
        self.run(&context, "analytics.get", request, |r| {
            format!(
                "Webhook {} over {} day(s): {} events, {} attempts, success rate {}, {} \
                 failed deliveries, {} retries; p50 {} ms, p95 {} ms, p99 {} ms; errors: {} \
                 4xx, {} 5xx, {} timeouts, {} network.",
                field(r, "webhook_id"),
                field(r, "period_days"),
                field(r, "total_events"),
                field(r, "total_attempts"),
                rate(&r["success_rate"]),
                field(r, "failed_deliveries"),
                field(r, "retry_count"),
                field(r, "p50_response_time_ms"),
                field(r, "p95_response_time_ms"),
                field(r, "p99_response_time_ms"),
                field(r, "http_4xx_errors"),
                field(r, "http_5xx_errors"),
                field(r, "timeout_errors"),
                field(r, "network_errors"),
            )
        })
        .await
    }

    #[tool(
        name = "analytics.query",
        description = "Delivery figures of the tenant over a time range in buckets (1m to 1d), \
                       optionally split by webhook, provider, event type, outcome or status \
                       code and filtered on the same: attempts, success rate, latency.",
        annotations(
            title = "Analytics over time",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn analytics_query(
        &self,
        Parameters(query): Parameters<AnalyticsQuery>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let pairs = query.pairs();
        let request = ApiRequest::get_with(&["analytics"], &pairs);
        self.run(&context, "analytics.query", request, |a| {
            list_summary(("bucket", "buckets"), a, 24, |b| {
                let m = &b["metrics"];
                format!(
                    "{} {} attempts={} success={} failed={} error_rate={} p95={} ms",
                    field(b, "time_bucket"),
                    b["dimensions"],
                    field(m, "count"),
                    field(m, "success"),
                    field(m, "failed"),
                    rate(&m["error_rate"]),
                    field(m, "p95_ms"),
                )
            })
        })
        .await
    }

    #[tool(
        name = "stats.get",
        description = "How many deliveries are pending, delivering, retrying, delivered and \
                       failed right now.",
        annotations(title = "Queue stats", read_only_hint = true, open_world_hint = false)
    )]
    async fn stats_get(
        &self,
        Parameters(NoArguments {}): Parameters<NoArguments>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let request = ApiRequest::get(&["stats"]);
        self.run(&context, "stats.get", request, |s| {
            let d = &s["deliveries"];
            format!(
                "Deliveries: {} pending, {} delivering, {} retrying, {} delivered, {} failed \
                 ({} in all).",
                field(d, "pending"),
                field(d, "delivering"),
                field(d, "retrying"),
                field(d, "delivered"),
                field(d, "failed"),
                field(d, "total"),
            )
        })
        .await
    }

    #[tool(
        name = "audit.list",
        description = "The audit log of the tenant, newest first: who (admin, a key id, \
                       mcp:<key id> for changes made through MCP, or system) changed what, \
                       with the resource before and after (secrets masked).",
        annotations(title = "Audit log", read_only_hint = true, open_world_hint = false)
    )]
    async fn audit_list(
        &self,
        Parameters(query): Parameters<ListAudit>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let request = ApiRequest::get_with(&["audit"], &query);
        self.run(&context, "audit.list", request, |a| {
            list_summary(("audit entry", "audit entries"), a, 25, |e| {
                format!(
                    "{} {} {} {} {}",
                    field(e, "created_at"),
                    field(e, "actor"),
                    field(e, "action"),
                    field(e, "resource_type"),
                    clip(&field(e, "resource_id"), 60),
                )
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytics_lists_are_comma_separated() {
        let query: AnalyticsQuery = serde_json::from_value(serde_json::json!({
            "granularity": "5m", "group_by": ["webhook_id", "outcome"], "status_code": [500, 0]
        }))
        .unwrap();
        assert_eq!(
            query.pairs(),
            [
                ("granularity", "5m".to_string()),
                ("group_by", "webhook_id,outcome".to_string()),
                ("status_code", "500,0".to_string()),
            ]
        );
    }
}
