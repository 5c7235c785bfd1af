//! Figures: delivery counts, the dashboard summary, per-webhook reports,
//! analytics over a time range, and tags in use.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::open_enum::open_enum;
use crate::{Call, Client, List, Time, WebhookStatus};

open_enum! {
    /// The width of an analytics bucket.
    pub enum Granularity {
        OneMinute = "1m",
        FiveMinutes = "5m",
        FifteenMinutes = "15m",
        OneHour = "1h",
        SixHours = "6h",
        OneDay = "1d",
    }
}

/// `GET /stats`: deliveries by status, and the queue's oldest wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub deliveries: DeliveryCounts,
    #[serde(default)]
    pub queue: QueueFigures,
}

/// The tenant's deliveries waiting to be sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueFigures {
    /// Seconds since the oldest delivery waiting to be sent was queued
    /// (pending or retrying, of an active webhook); `None` when none waits.
    pub oldest_pending_age_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryCounts {
    pub pending: u64,
    pub delivering: u64,
    pub retrying: u64,
    pub delivered: u64,
    pub failed: u64,
    pub skipped: u64,
    pub total: u64,
}

/// `GET /stats/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub webhooks: WebhookCounts,
    pub last_24h: Last24h,
    #[serde(default)]
    pub per_webhook: Vec<WebhookSummary>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookCounts {
    pub total: u64,
    pub active: u64,
    pub paused: u64,
    pub disabled: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Last24h {
    pub attempts: u64,
    pub successful_attempts: u64,
    pub delivered: u64,
    pub failed: u64,
    pub success_rate: Option<f64>,
    pub p95_response_time_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSummary {
    pub webhook_id: String,
    pub name: String,
    #[serde(default)]
    pub provider: String,
    pub status: WebhookStatus,
    #[serde(default)]
    pub last_triggered_at: Option<Time>,
    #[serde(default)]
    pub attempts_24h: u64,
    #[serde(default)]
    pub success_rate_24h: Option<f64>,
}

/// A period's figures; rates and durations are `None` without attempts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Figures {
    pub total_events: u64,
    pub total_attempts: u64,
    pub successful_deliveries: u64,
    pub failed_deliveries: u64,
    pub success_rate: Option<f64>,
    pub retry_count: u64,
    pub avg_response_time_ms: Option<f64>,
    pub min_response_time_ms: Option<f64>,
    pub max_response_time_ms: Option<f64>,
    pub p50_response_time_ms: Option<f64>,
    pub p95_response_time_ms: Option<f64>,
    pub p99_response_time_ms: Option<f64>,
    pub http_4xx_errors: u64,
    pub http_5xx_errors: u64,
    pub timeout_errors: u64,
    pub network_errors: u64,
}

/// `GET /webhooks/{id}/analytics`: the last `period_days` UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookReport {
    pub webhook_id: String,
    pub period_days: u32,
    pub start: Time,
    pub end: Time,
    #[serde(flatten)]
    pub figures: Figures,
    #[serde(default)]
    pub daily: Vec<DailyFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyFigures {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// `GET /analytics`: what to count and how to group it. Empty takes the
/// last 24 hours by hour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalyticsQuery {
    pub start: Option<Time>,
    pub end: Option<Time>,
    pub granularity: Option<Granularity>,
    /// Any of `webhook_id`, `provider`, `event_type`, `outcome`,
    /// `status_code`.
    pub group_by: Vec<String>,
    pub webhook_id: Vec<String>,
    pub provider: Vec<String>,
    pub event_type: Vec<String>,
    /// `success` or an error category.
    pub outcome: Vec<String>,
    /// 0 is an attempt without an answer.
    pub status_code: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsRange {
    pub data: Vec<AnalyticsRow>,
    pub meta: AnalyticsMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsRow {
    /// The bucket's start; `None` when grouped rows span the range.
    #[serde(default)]
    pub time_bucket: Option<Time>,
    #[serde(default)]
    pub dimensions: BTreeMap<String, Value>,
    pub metrics: AnalyticsMetrics,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyticsMetrics {
    pub count: u64,
    pub success: u64,
    pub failed: u64,
    pub error_rate: Option<f64>,
    pub avg_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsMeta {
    pub start: Time,
    pub end: Time,
    pub granularity: Granularity,
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub filters: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagCount {
    pub tag: String,
    pub webhooks: u64,
}

fn comma_list(values: &[impl ToString]) -> Option<String> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Times as the API reads them (RFC 3339, UTC, milliseconds).
pub(crate) fn rfc3339(time: &Time) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Client {
    /// `GET /stats`.
    pub fn stats(&self) -> Call<Stats> {
        self.api(Method::GET, &["stats"])
    }

    /// `GET /stats/summary`.
    pub fn summary(&self) -> Call<Summary> {
        self.api(Method::GET, &["stats", "summary"])
    }

    /// `GET /webhooks/{id}/analytics` (1–730 days, default 7).
    pub fn webhook_analytics(&self, id: &str, period_days: Option<u32>) -> Call<WebhookReport> {
        self.api(Method::GET, &["webhooks", id, "analytics"])
            .query_opt("period_days", period_days)
    }

    /// `GET /analytics`.
    pub fn analytics(&self, query: &AnalyticsQuery) -> Call<AnalyticsRange> {
        self.api(Method::GET, &["analytics"])
            .query_opt("start", query.start.as_ref().map(rfc3339))
            .query_opt("end", query.end.as_ref().map(rfc3339))
            .query_opt("granularity", query.granularity.as_ref())
            .query_opt("group_by", comma_list(&query.group_by))
            .query_opt("webhook_id", comma_list(&query.webhook_id))
            .query_opt("provider", comma_list(&query.provider))
            .query_opt("event_type", comma_list(&query.event_type))
            .query_opt("outcome", comma_list(&query.outcome))
            .query_opt("status_code", comma_list(&query.status_code))
    }

    /// `GET /tags`: every tag in use, with how many webhooks carry it.
    pub fn tags(&self) -> Call<List<TagCount>> {
        self.api(Method::GET, &["tags"])
    }
}
