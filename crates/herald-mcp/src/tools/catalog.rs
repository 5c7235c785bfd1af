//! The reading tools around the resources: the provider catalog,
//! analytics, queue stats and the audit log.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{text_of, time};
use crate::answer::{self, clip, field, list_summary};
use crate::server::HeraldMcp;

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
    /// The client's query; times are checked here, the rest by the API.
    fn to_query(&self) -> Result<herald_client::AnalyticsQuery, String> {
        let texts = |values: &Option<Vec<String>>| values.clone().unwrap_or_default();
        Ok(herald_client::AnalyticsQuery {
            start: time("start", self.start.as_deref())?,
            end: time("end", self.end.as_deref())?,
            granularity: self
                .granularity
                .map(|g| herald_client::Granularity::parse(&text_of(&g))),
            group_by: self.group_by.iter().flatten().map(text_of).collect(),
            webhook_id: texts(&self.webhook_id),
            provider: texts(&self.provider),
            event_type: texts(&self.event_type),
            outcome: texts(&self.outcome),
            status_code: self.status_code.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListAudit {
    /// Only changes to this webhook, tenant or key.
    #[serde(default)]
    resource_id: Option<String>,
    /// Page size, 1–250 (default 50).
    #[serde(default)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
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
        self.run(
            &context,
            "providers.list",
            |api| api.providers(),
            |a| {
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
            },
        )
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
        let (id, days) = (&query.webhook_id, query.period_days);
        self.run(
            &context,
            "analytics.get",
            |api| api.webhook_analytics(id, days),
            |r| {
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
            },
        )
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
        const TOOL: &str = "analytics.query";
        let query = match query.to_query() {
            Ok(query) => query,
            Err(why) => return answer::not_sent(TOOL, &why),
        };
        self.run(
            &context,
            TOOL,
            |api| api.analytics(&query),
            |a| {
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
            },
        )
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
        self.run(
            &context,
            "stats.get",
            |api| api.stats(),
            |s| {
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
            },
        )
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
        let filter = herald_client::AuditFilter {
            resource_id: query.resource_id,
            limit: query.limit,
            cursor: query.cursor,
        };
        self.run(
            &context,
            "audit.list",
            |api| api.audit(&filter),
            |a| {
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
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytics_arguments_become_the_clients_query() {
        let query: AnalyticsQuery = serde_json::from_value(serde_json::json!({
            "granularity": "5m", "group_by": ["webhook_id", "outcome"], "status_code": [500, 0],
            "start": "2026-11-23T10:00:00Z"
        }))
        .unwrap();
        let query = query.to_query().unwrap();
        assert_eq!(
            query.granularity,
            Some(herald_client::Granularity::FiveMinutes)
        );
        assert_eq!(query.group_by, ["webhook_id", "outcome"]);
        assert_eq!(query.status_code, [500, 0]);
        assert!(query.start.is_some());
        let bad: AnalyticsQuery =
            serde_json::from_value(serde_json::json!({"end": "yesterday"})).unwrap();
        assert!(bad.to_query().unwrap_err().contains("`end`"));
    }
}
