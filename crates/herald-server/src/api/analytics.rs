//! Delivery analytics: `GET /api/v1/webhooks/{id}/analytics` (a webhook's
//! last days, with a row per UTC day), `GET /api/v1/analytics` (any range,
//! bucketed, grouped and filtered by dimension), `GET /api/v1/stats/summary`
//! and `GET /api/v1/tags`. Everything is read from the rollups, per tenant:
//! a week costs a few rows per day, not a scan of every attempt.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use chrono::DateTime;
use herald_core::event::format_time;
use herald_core::webhook::{Webhook, WebhookStatus};
use herald_store::now_ms;
use herald_store::prelude::*;
use herald_store::rollups::{AnalyticsQuery, Dimension, Granularity, RollupFigures};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{QueryParams, query_time};
use super::{AppState, Caller};
use crate::analytics::{Breakdown, figures_json, metrics_json, success_rate};
use crate::error::{ApiError, ApiResult};

const DAY: i64 = 86_400_000;
/// The most days a webhook's report covers (day rollups are kept for two
/// years).
const MAX_PERIOD_DAYS: i64 = 730;
/// The most buckets one `/analytics` answer holds.
const MAX_BUCKETS: i64 = 10_000;
/// The most values one filter takes (each is a bound parameter).
const MAX_FILTER_VALUES: usize = 100;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookQuery {
    /// Days back from the end of today, 1–730 (default 7).
    #[param(minimum = 1, maximum = 730)]
    period_days: Option<i64>,
}

fn time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(String::new, format_time)
}

/// A webhook's figures by day.
///
/// The last `period_days` UTC days (today included) of one webhook.
#[utoipa::path(get, path = "/webhooks/{id}/analytics", operation_id = "getWebhookAnalytics", tag = "analytics", params(("id" = String, Path, description = "The webhook's id"), WebhookQuery), responses((status = 200, description = "The webhook's figures by day", body = crate::api::openapi::bodies::WebhookReport)))]
pub(crate) async fn webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<WebhookQuery>,
) -> ApiResult<Json<Value>> {
    let days = q.period_days.unwrap_or(7);
    if !(1..=MAX_PERIOD_DAYS).contains(&days) {
        return Err(ApiError::validation(
            "period_days",
            format!("period_days must be between 1 and {MAX_PERIOD_DAYS}"),
        ));
    }
    state
        .store()
        .get_webhook(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let now = now_ms();
    let end = Granularity::Day.bucket_start(now) + DAY;
    let start = end - days * DAY;
    let rows = state
        .store()
        .analytics(AnalyticsQuery {
            tenant_id: caller.tenant_id.clone(),
            granularity: Granularity::Day,
            bucket_ms: Some(DAY),
            start_ms: start,
            end_ms: end,
            group_by: vec![Dimension::Outcome],
            filters: vec![(Dimension::WebhookId, vec![id.clone()])],
        })
        .await?;
    let mut by_day: BTreeMap<i64, (RollupFigures, Breakdown)> = (0..days)
        .map(|i| (start + i * DAY, Default::default()))
        .collect();
    let mut total = (RollupFigures::default(), Breakdown::default());
    for row in rows {
        let Some(day) = row.bucket_start_ms else {
            continue;
        };
        let outcome = row.dimensions.first().map_or("", String::as_str);
        let entry = by_day.entry(day).or_default();
        entry.0.merge(&row.figures);
        entry.1.add(outcome, row.figures.attempts);
        total.0.merge(&row.figures);
        total.1.add(outcome, row.figures.attempts);
    }
    let daily: Vec<Value> = by_day
        .iter()
        .map(|(day, (figures, errors))| {
            let mut v = figures_json(figures, errors);
            v["date"] = json!(time(*day)[..10]);
            v
        })
        .collect();
    let mut report = figures_json(&total.0, &total.1);
    report["webhook_id"] = json!(id);
    report["period_days"] = json!(days);
    report["start"] = json!(time(start));
    report["end"] = json!(time(end));
    report["daily"] = json!(daily);
    Ok(Json(report))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RangeQuery {
    /// RFC 3339; a day before `end` when absent.
    #[param(format = DateTime)]
    start: Option<String>,
    /// RFC 3339; now when absent.
    #[param(format = DateTime)]
    end: Option<String>,
    /// The width of a time bucket (default `1h`).
    #[param(value_type = Option<crate::api::openapi::bodies::Granularity>)]
    granularity: Option<String>,
    /// Comma-separated dimensions to group by: `webhook_id`, `provider`,
    /// `event_type`, `outcome`, `status_code`.
    #[param(
        pattern = "^(webhook_id|provider|event_type|outcome|status_code)(,(webhook_id|provider|event_type|outcome|status_code)){0,4}$"
    )]
    group_by: Option<String>,
    /// Comma-separated webhook ids, at most 100.
    #[param(pattern = "^[^,\\u0000]+(,[^,\\u0000]+){0,99}$")]
    webhook_id: Option<String>,
    /// Comma-separated providers, at most 100.
    #[param(pattern = "^[^,\\u0000]+(,[^,\\u0000]+){0,99}$")]
    provider: Option<String>,
    /// Comma-separated event types, at most 100.
    #[param(pattern = "^[^,\\u0000]+(,[^,\\u0000]+){0,99}$")]
    event_type: Option<String>,
    /// Comma-separated outcomes, at most 100.
    #[param(pattern = "^[^,\\u0000]+(,[^,\\u0000]+){0,99}$")]
    outcome: Option<String>,
    /// Comma-separated statuses (0: no answer), at most 100.
    #[param(pattern = "^[0-9]{1,4}(,[0-9]{1,4}){0,99}$")]
    status_code: Option<String>,
}

/// `granularity` → the rollups read and the bucket width.
fn granularity(value: Option<&str>) -> ApiResult<(Granularity, i64, &'static str)> {
    Ok(match value.unwrap_or("1h") {
        "1m" => (Granularity::Minute, 60_000, "1m"),
        "5m" => (Granularity::FiveMinutes, 300_000, "5m"),
        "15m" => (Granularity::FiveMinutes, 900_000, "15m"),
        "1h" => (Granularity::Hour, 3_600_000, "1h"),
        "6h" => (Granularity::Hour, 21_600_000, "6h"),
        "1d" => (Granularity::Day, DAY, "1d"),
        _ => {
            return Err(ApiError::validation(
                "granularity",
                "granularity must be one of 1m, 5m, 15m, 1h, 6h, 1d",
            ));
        }
    })
}

fn instant(field: &str, value: Option<&str>, default: i64) -> ApiResult<i64> {
    Ok(query_time(field, value)?.unwrap_or(default))
}

fn list(value: &Option<String>) -> Option<Vec<String>> {
    value.as_ref().map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    })
}

/// Attempt figures over a range.
///
/// Any range of the tenant's attempts, in buckets, grouped and filtered.
#[utoipa::path(get, path = "/analytics", operation_id = "getAnalytics", tag = "analytics", params(RangeQuery), responses((status = 200, description = "Attempt figures by time bucket and dimension", body = crate::api::openapi::bodies::AnalyticsRange)))]
pub(crate) async fn range(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<RangeQuery>,
) -> ApiResult<Json<Value>> {
    let (granularity, width, name) = granularity(q.granularity.as_deref())?;
    let now = now_ms();
    let end = instant("end", q.end.as_deref(), now)?;
    let start = instant("start", q.start.as_deref(), end - DAY)?;
    if start >= end {
        return Err(ApiError::validation("start", "start must be before end"));
    }
    // Buckets start at multiples of their width since the epoch (days at
    // UTC midnight); the range widens to whole buckets.
    let start = start.div_euclid(width) * width;
    let end = (end + width - 1).div_euclid(width) * width;
    if (end - start) / width > MAX_BUCKETS {
        return Err(ApiError::validation(
            "granularity",
            format!(
                "the range holds more than {MAX_BUCKETS} buckets of {name}: choose a coarser granularity or a shorter range"
            ),
        ));
    }
    let mut group_by = Vec::new();
    for d in list(&q.group_by).unwrap_or_default() {
        let dimension: Dimension = d.parse().map_err(|_| {
            ApiError::validation(
                "group_by",
                format!(
                    "unknown dimension {d:?}: group_by takes webhook_id, provider, event_type, outcome, status_code"
                ),
            )
        })?;
        if !group_by.contains(&dimension) {
            group_by.push(dimension);
        }
    }
    let mut filters = Vec::new();
    for (dimension, value) in [
        (Dimension::WebhookId, &q.webhook_id),
        (Dimension::Provider, &q.provider),
        (Dimension::EventType, &q.event_type),
        (Dimension::Outcome, &q.outcome),
        (Dimension::StatusCode, &q.status_code),
    ] {
        if let Some(values) = list(value) {
            if values.len() > MAX_FILTER_VALUES {
                return Err(ApiError::validation(
                    dimension.as_str(),
                    format!("takes at most {MAX_FILTER_VALUES} values"),
                ));
            }
            if dimension == Dimension::StatusCode
                && let Some(bad) = values.iter().find(|v| v.parse::<u16>().is_err())
            {
                return Err(ApiError::validation(
                    "status_code",
                    format!("{bad:?} is not an HTTP status code (0: no answer)"),
                ));
            }
            filters.push((dimension, values));
        }
    }
    let rows = state
        .store()
        .analytics(AnalyticsQuery {
            tenant_id: caller.tenant_id.clone(),
            granularity,
            bucket_ms: Some(width),
            start_ms: start,
            end_ms: end,
            group_by: group_by.clone(),
            filters: filters.clone(),
        })
        .await?;
    let dimensions_of = |values: &[String]| -> Map<String, Value> {
        group_by
            .iter()
            .zip(values)
            .map(|(d, v)| {
                let value = match d {
                    Dimension::StatusCode => json!(v.parse::<u16>().unwrap_or(0)),
                    _ => json!(v),
                };
                (d.as_str().to_string(), value)
            })
            .collect()
    };
    let mut data: Vec<Value> = Vec::new();
    if group_by.is_empty() {
        // Every bucket, empty ones too, so a chart has no gaps.
        let mut by_bucket: BTreeMap<i64, RollupFigures> = BTreeMap::new();
        for row in rows {
            if let Some(b) = row.bucket_start_ms {
                by_bucket.entry(b).or_default().merge(&row.figures);
            }
        }
        let mut bucket = start;
        while bucket < end {
            let figures = by_bucket.remove(&bucket).unwrap_or_default();
            data.push(json!({
                "time_bucket": time(bucket),
                "dimensions": {},
                "metrics": metrics_json(&figures),
            }));
            bucket += width;
        }
    } else {
        for row in rows {
            data.push(json!({
                "time_bucket": row.bucket_start_ms.map(time),
                "dimensions": dimensions_of(&row.dimensions),
                "metrics": metrics_json(&row.figures),
            }));
        }
    }
    let filters: Map<String, Value> = filters
        .into_iter()
        .map(|(d, v)| (d.as_str().to_string(), json!(v)))
        .collect();
    Ok(Json(json!({
        "data": data,
        "meta": {
            "start": time(start),
            "end": time(end),
            "granularity": name,
            "group_by": group_by.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            "filters": filters,
        },
    })))
}

/// Summarise the last 24 hours.
///
/// Totals over the last 24 hours, webhooks by status, and when each
/// webhook was last sent to.
#[utoipa::path(get, path = "/stats/summary", operation_id = "getSummary", tag = "analytics", responses((status = 200, description = "Webhooks by status and the last 24 hours", body = crate::api::openapi::bodies::Summary)))]
pub(crate) async fn summary(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let webhooks = all_webhooks(&state, &caller.tenant_id).await?;
    let now = now_ms();
    let rows = state
        .store()
        .analytics(AnalyticsQuery {
            tenant_id: caller.tenant_id.clone(),
            granularity: Granularity::Hour,
            bucket_ms: None,
            start_ms: now - DAY,
            end_ms: now + 1,
            group_by: vec![Dimension::WebhookId],
            filters: vec![],
        })
        .await?;
    let mut total = RollupFigures::default();
    let mut per_webhook: BTreeMap<String, RollupFigures> = BTreeMap::new();
    for row in rows {
        total.merge(&row.figures);
        if let Some(id) = row.dimensions.into_iter().next() {
            per_webhook.entry(id).or_default().merge(&row.figures);
        }
    }
    let ids: Vec<String> = webhooks.iter().map(|w| w.id.clone()).collect();
    let stats: BTreeMap<String, _> = state
        .store()
        .webhook_stats(&caller.tenant_id, ids)
        .await?
        .into_iter()
        .map(|s| (s.webhook_id.clone(), s))
        .collect();
    let mut by_status: BTreeMap<&str, u64> = [("active", 0), ("paused", 0), ("disabled", 0)].into();
    let list: Vec<Value> = webhooks
        .iter()
        .map(|w| {
            let status = match w.spec.status {
                WebhookStatus::Active => "active",
                WebhookStatus::Paused => "paused",
                WebhookStatus::Disabled => "disabled",
            };
            *by_status.entry(status).or_default() += 1;
            let day = per_webhook.get(&w.id).cloned().unwrap_or_default();
            let last = stats.get(&w.id).and_then(|s| s.last_attempt_at_ms);
            json!({
                "webhook_id": w.id,
                "name": w.spec.name,
                "provider": w.spec.provider,
                "status": status,
                "last_triggered_at": last.map(time),
                "attempts_24h": day.attempts,
                "success_rate_24h": success_rate(&day),
            })
        })
        .collect();
    Ok(Json(json!({
        "webhooks": {
            "total": webhooks.len(),
            "active": by_status["active"],
            "paused": by_status["paused"],
            "disabled": by_status["disabled"],
        },
        "last_24h": {
            "attempts": total.attempts,
            "successful_attempts": total.successes,
            "delivered": total.delivered,
            "failed": total.failed,
            "success_rate": success_rate(&total),
            "p95_response_time_ms": total.histogram.quantile(0.95).map(crate::analytics::round_ms),
        },
        "per_webhook": list,
    })))
}

/// List webhook tags.
///
/// Every tag on the tenant's webhooks, with how many carry it.
#[utoipa::path(get, path = "/tags", operation_id = "listTags", tag = "webhooks", responses((status = 200, description = "Every tag with how many webhooks carry it", body = crate::api::openapi::bodies::Tags)))]
pub(crate) async fn tags(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for w in all_webhooks(&state, &caller.tenant_id).await? {
        for tag in &w.spec.tags {
            *counts.entry(tag.clone()).or_default() += 1;
        }
    }
    let data: Vec<Value> = counts
        .into_iter()
        .map(|(tag, webhooks)| json!({"tag": tag, "webhooks": webhooks}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// Every webhook of a tenant, following the store's pages.
pub(crate) async fn all_webhooks(state: &AppState, tenant_id: &str) -> ApiResult<Vec<Webhook>> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = state.store().list_webhooks(tenant_id, cursor).await?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id.clone());
        all.extend(page);
    }
    Ok(all)
}
