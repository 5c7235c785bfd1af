//! `/api/v1/webhooks/{id}/subscriptions`: a webhook's event types one at a
//! time, the way an integration is "subscribed to an event". Each change
//! is an edit of the webhook's `event_types` through the same path as
//! `PATCH /webhooks/{id}` (checked, audited, routed at once).

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use herald_core::event::EventTypePattern;
use herald_core::webhook::Webhook;
use serde_json::{Value, json};

use super::event_types::{deprecated_among, refuse_archived};
use super::webhooks::{change, find};
use super::{AppState, Caller, views};
use crate::dispatch::Edit;
use crate::error::{ApiError, ApiResult};

/// The webhook's event types, with those registered as deprecated named.
async fn view(state: &AppState, webhook: &Webhook) -> ApiResult<Value> {
    let types = &webhook.spec.event_types;
    let deprecated = deprecated_among(state, &webhook.tenant_id, types).await?;
    Ok(json!({"webhook_id": webhook.id, "event_types": types, "deprecated": deprecated}))
}

/// List a webhook's subscriptions.
#[utoipa::path(get, path = "/webhooks/{id}/subscriptions", operation_id = "listSubscriptions", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), responses((status = 200, description = "The event types it receives", body = crate::api::openapi::bodies::Subscriptions)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        view(&state, &find(&state, &caller, &id).await?).await?,
    ))
}

/// Applies `edit` to the webhook's event types, as `PATCH` would.
async fn edit_types(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &'static str,
    edit: impl Fn(&mut Vec<String>) -> ApiResult<()>,
) -> ApiResult<Json<Value>> {
    let apply = |current: Webhook| -> ApiResult<Edit> {
        let mut spec = current.spec.clone();
        edit(&mut spec.event_types)?;
        spec.validate(state.url_policy())?;
        let before = views::webhook(&current, false);
        let webhook = Webhook {
            spec,
            updated_at: Utc::now(),
            ..current
        };
        let audit = caller.audit(
            action,
            ("webhook", &webhook.id),
            Some(before),
            Some(views::webhook(&webhook, false)),
        );
        Ok(Edit::Replace { webhook, audit })
    };
    let changed = change(state, caller, id, apply).await?;
    Ok(Json(view(state, &changed.webhook).await?))
}

/// Subscribe a webhook to an event type.
///
/// Adds one event type (or pattern: `training.*`, `*`); subscribing to one
/// it has already changes nothing. An event type registered as archived is
/// refused (422 `event_type_archived`); patterns never are.
#[utoipa::path(post, path = "/webhooks/{id}/subscriptions/{event_type}", operation_id = "subscribe", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id"), ("event_type" = String, Path, pattern = "^(\\*|[A-Za-z0-9_.:-]{1,255}(\\.\\*)?)$", description = "An event type or pattern, as in `event_types`")), responses((status = 200, description = "The event types it receives now", body = crate::api::openapi::bodies::Subscriptions), (status = 422, description = "The event type is archived (`event_type_archived`), or not a valid type or pattern", body = crate::error::ErrorBody)))]
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, event_type)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    EventTypePattern::parse("event_type", &event_type)?;
    refuse_archived(
        &state,
        &caller.tenant_id,
        &[("event_type".to_string(), event_type.clone())],
    )
    .await?;
    edit_types(&state, &caller, &id, "webhook.subscribed", |types| {
        if !types.contains(&event_type) {
            types.push(event_type.clone());
        }
        Ok(())
    })
    .await
}

/// Unsubscribe a webhook from an event type.
///
/// A webhook receives at least one event type: removing the last is
/// refused (pause or delete the webhook instead).
#[utoipa::path(delete, path = "/webhooks/{id}/subscriptions/{event_type}", operation_id = "unsubscribe", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id"), ("event_type" = String, Path, description = "One of its `event_types`, as written there")), responses((status = 200, description = "The event types it receives now", body = crate::api::openapi::bodies::Subscriptions), (status = 404, description = "No such webhook, or it is not subscribed to that type", body = crate::error::ErrorBody), (status = 409, description = "It is the webhook's last event type", body = crate::error::ErrorBody)))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, event_type)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    edit_types(&state, &caller, &id, "webhook.unsubscribed", |types| {
        let Some(at) = types.iter().position(|t| *t == event_type) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("the webhook is not subscribed to `{event_type}`"),
            ));
        };
        if types.len() == 1 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "last_subscription",
                format!(
                    "`{event_type}` is the webhook's only event type; pause or delete the \
                     webhook instead"
                ),
            ));
        }
        types.remove(at);
        Ok(())
    })
    .await
}
