//! Sending again what already went (or failed): a webhook's dead letters in
//! a time window, and one event to all or some of its webhooks. A single
//! delivery is re-queued by `POST /deliveries/{id}/retry`.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_core::filter::LazyEvent;
use herald_store::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::extract::{JsonBody, optional_json};
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};

/// The window of `POST /webhooks/{id}/retry`: `since` (and optionally
/// `until`), or `max_age_hours` back from now.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetryWindow {
    /// Failed deliveries created from this time on (with `until`)…
    since: Option<DateTime<Utc>>,
    /// …up to this time (now when absent); not with `max_age_hours`.
    until: Option<DateTime<Utc>>,
    /// Or: failed deliveries created in the last this many hours.
    #[schema(exclusive_minimum = 0, maximum = 8784)]
    max_age_hours: Option<f64>,
}

impl RetryWindow {
    /// The window in milliseconds, checked.
    fn bounds(&self, now: DateTime<Utc>) -> ApiResult<(i64, i64)> {
        let until = self.until.unwrap_or(now);
        let since = match (self.since, self.max_age_hours) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "max_age_hours",
                    "give either since/until or max_age_hours, not both",
                ));
            }
            (Some(since), None) => since,
            (None, Some(hours)) if hours.is_finite() && hours > 0.0 && hours <= 24.0 * 366.0 => {
                if self.until.is_some() {
                    return Err(ApiError::validation(
                        "until",
                        "until goes with since, not with max_age_hours",
                    ));
                }
                now - chrono::Duration::milliseconds((hours * 3_600_000.0) as i64)
            }
            (None, Some(_)) => {
                return Err(ApiError::validation(
                    "max_age_hours",
                    "must be a number of hours above 0 and at most 8784",
                ));
            }
            (None, None) => {
                return Err(ApiError::validation(
                    "since",
                    "give since (and optionally until) or max_age_hours",
                ));
            }
        };
        if since > until {
            return Err(ApiError::validation("until", "must not be before since"));
        }
        Ok((since.timestamp_millis(), until.timestamp_millis()))
    }
}

/// Retry a webhook's failed deliveries.
///
/// Re-queues the webhook's failed deliveries that failed within the window.
#[utoipa::path(post, path = "/webhooks/{id}/retry", operation_id = "retryFailedDeliveries", tag = "deliveries", params(("id" = String, Path, description = "The webhook's id")), request_body = RetryWindow, responses((status = 202, description = "Failed deliveries in the window, queued again", body = crate::api::openapi::bodies::Requeued)))]
pub(crate) async fn retry_failed(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(window): JsonBody<RetryWindow>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let now = Utc::now();
    let (since, until) = window.bounds(now)?;
    state
        .store()
        .get_webhook(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let requeued = state
        .store()
        .requeue_failed_between(&caller.tenant_id, &id, since, until, now.timestamp_millis())
        .await?;
    state.dispatcher().wake(&id);
    Ok((StatusCode::ACCEPTED, Json(json!({ "requeued": requeued }))))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// 1 to 1000 of the tenant's webhooks; the event's current subscribers
    /// when absent.
    #[schema(min_items = 1, max_items = 1000)]
    webhook_ids: Option<Vec<String>>,
}

/// Send an event again.
///
/// Sends an event again: to the webhooks now subscribed to its type whose
/// filters pass it, or to the ones listed (whatever their filters say).
#[utoipa::path(post, path = "/events/{id}/replay", operation_id = "replayEvent", tag = "events", params(("id" = String, Path, description = "The event's id")), request_body(content = Option<ReplayRequest>, description = "Optional; the event's current subscribers when empty"), responses((status = 202, description = "New deliveries of the event", body = crate::api::openapi::bodies::Replayed)))]
pub(crate) async fn replay_event(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    // The body is optional: none replays to the current subscribers.
    let request: ReplayRequest = optional_json(&state, request).await?;
    let event = state
        .store()
        .get_event(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event", &id))?;
    let webhook_ids = match request.webhook_ids {
        None => state.registry().subscribers(
            &caller.tenant_id,
            &event.event_type,
            &LazyEvent::new(&event.body, event.source.as_deref()),
        ),
        Some(ids) => {
            if ids.is_empty() || ids.len() > 1000 {
                return Err(ApiError::validation(
                    "webhook_ids",
                    "must list 1 to 1000 webhook ids",
                ));
            }
            for (i, webhook_id) in ids.iter().enumerate() {
                let known = state
                    .registry()
                    .get(webhook_id)
                    .is_some_and(|r| r.webhook.tenant_id == caller.tenant_id);
                if !known {
                    return Err(ApiError::validation(
                        format!("webhook_ids[{i}]"),
                        format!("no webhook `{webhook_id}`"),
                    ));
                }
            }
            let mut ids = ids;
            ids.sort();
            ids.dedup();
            ids
        }
    };
    let keys = state.registry().ordering_keys(&webhook_ids, &event.body);
    let targets = webhook_ids
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), keys.get(i).cloned().flatten()))
        .collect();
    let count = state
        .store()
        .replay_event(
            &caller.tenant_id,
            &id,
            targets,
            Utc::now().timestamp_millis(),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("event", &id))?;
    for webhook_id in &webhook_ids {
        state.dispatcher().wake(webhook_id);
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "event_id": id, "deliveries": count, "webhook_ids": webhook_ids })),
    ))
}
