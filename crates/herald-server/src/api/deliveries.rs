//! `/api/v1/deliveries` and a webhook's delivery log.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_core::delivery::DeliveryStatus;
use herald_core::event::EventType;
use herald_store::prelude::*;
use herald_store::{DeliveryFilter, Requeue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{QueryParams, query_time};
use super::pagination::{self, encode_seq, page};
use super::views;
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    status: Option<DeliveryStatus>,
    #[param(pattern = "^[^\\u0000]*$")]
    webhook_id: Option<String>,
    #[param(pattern = "^[^\\u0000]*$")]
    event_id: Option<String>,
    /// Only deliveries of events of exactly this type.
    #[param(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: Option<String>,
    /// RFC 3339: only deliveries created at this time or later.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339: only deliveries created before this time (after `since`).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^s[1-9][0-9]{0,17}$")]
    cursor: Option<String>,
}

async fn list_page(
    state: &AppState,
    filter: DeliveryFilter,
    limit: usize,
) -> ApiResult<Json<Value>> {
    let rows = state.store().list_deliveries(filter).await?;
    let p = page(rows, limit, |d| encode_seq(d.seq), |d| views::delivery(&d));
    Ok(Json(json!(p)))
}

fn filter(caller: &Caller, q: ListQuery) -> ApiResult<(DeliveryFilter, usize)> {
    let limit = pagination::limit(q.limit)?;
    if let Some(t) = &q.event_type {
        EventType::parse("event_type", t)?;
    }
    let since = query_time("since", q.since.as_deref())?;
    let until = query_time("until", q.until.as_deref())?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(ApiError::validation("until", "until must be after since"));
    }
    Ok((
        DeliveryFilter {
            tenant_id: caller.tenant_id.clone(),
            webhook_id: q.webhook_id,
            event_id: q.event_id,
            status: q.status,
            event_type: q.event_type,
            created_from_ms: since,
            created_before_ms: until,
            before_seq: pagination::seq_cursor(q.cursor.as_deref())?,
            limit: limit + 1,
        },
        limit,
    ))
}

/// List deliveries.
#[utoipa::path(get, path = "/deliveries", operation_id = "listDeliveries", tag = "deliveries", params(ListQuery), responses((status = 200, description = "A page of deliveries", body = crate::api::openapi::bodies::DeliveryPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let (filter, limit) = filter(&caller, q)?;
    list_page(&state, filter, limit).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookListQuery {
    status: Option<DeliveryStatus>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^s[1-9][0-9]{0,17}$")]
    cursor: Option<String>,
}

/// List a webhook's deliveries.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries", tag = "deliveries", params(("id" = String, Path, description = "The webhook's id"), WebhookListQuery), responses((status = 200, description = "A page of the webhook's deliveries", body = crate::api::openapi::bodies::DeliveryPage)))]
pub(crate) async fn list_for_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<WebhookListQuery>,
) -> ApiResult<Json<Value>> {
    if state
        .store()
        .get_webhook(&caller.tenant_id, &id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("webhook", &id));
    }
    let (filter, limit) = filter(
        &caller,
        ListQuery {
            status: q.status,
            webhook_id: Some(id),
            event_id: None,
            event_type: None,
            since: None,
            until: None,
            limit: q.limit,
            cursor: q.cursor,
        },
    )?;
    list_page(&state, filter, limit).await
}

/// Read a delivery with its attempts.
#[utoipa::path(get, path = "/deliveries/{id}", operation_id = "getDelivery", tag = "deliveries", params(("id" = String, Path, description = "The delivery's id")), responses((status = 200, description = "The delivery with every attempt", body = crate::api::openapi::bodies::DeliveryDetail)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (delivery, attempts) = state
        .store()
        .get_delivery(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let mut body = views::delivery(&delivery);
    body["attempts"] = attempts
        .iter()
        .map(|a| views::attempt(a, delivery.test))
        .collect();
    Ok(Json(body))
}

/// Retry a failed delivery.
#[utoipa::path(post, path = "/deliveries/{id}/retry", operation_id = "retryDelivery", tag = "deliveries", params(("id" = String, Path, description = "The delivery's id")), responses((status = 202, description = "The delivery, queued again", body = crate::api::openapi::bodies::Delivery), (status = 409, description = "The delivery is not `failed`", body = crate::error::ErrorBody)))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let now = herald_store::now_ms();
    match state
        .store()
        .requeue_failed(&caller.tenant_id, &id, now)
        .await?
    {
        Requeue::NotFound => Err(ApiError::not_found("delivery", &id)),
        Requeue::NotFailed(status) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!("only a failed delivery can be retried; this one is {status}"),
        )
        .with_field("id")),
        Requeue::Requeued { webhook_id } => {
            state.dispatcher().wake(&webhook_id);
            let (delivery, _) = state
                .store()
                .get_delivery(&caller.tenant_id, &id)
                .await?
                .ok_or_else(|| ApiError::not_found("delivery", &id))?;
            Ok((StatusCode::ACCEPTED, Json(views::delivery(&delivery))).into_response())
        }
    }
}
