//! `POST /api/v1/webhooks/{id}/filter/test`: whether a webhook would receive
//! an event, and why, judged by the same `event_types` and filter routing
//! uses, without storing or sending anything.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use herald_core::event::{EventType, format_time};
use herald_core::filter::{Decision, FilterEvent, FilterSpec};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::extract::JsonBody;
use super::{AppState, Caller};
use crate::error::ApiResult;

/// An event to judge, shaped as it is posted to `/events`; every field is
/// optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestEvent {
    /// The event type; when absent, `event_types` are not judged and the
    /// filter sees no `type`.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: Option<String>,
    /// The event's data; `{}` when absent.
    #[schema(value_type = Option<Object>)]
    data: Option<Value>,
    #[schema(max_length = 255)]
    source: Option<String>,
    #[schema(max_length = 255)]
    id: Option<String>,
    /// RFC 3339; now when absent.
    #[schema(max_length = 64)]
    timestamp: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterTest {
    event: TestEvent,
    /// A filter to try instead of the webhook's own; nothing is saved.
    #[serde(default)]
    filter: Option<FilterSpec>,
}

/// Test a webhook's filter against an event.
///
/// Answers whether the webhook would get a delivery of the event (its
/// `event_types`, then its filter, or the `filter` given here) and the
/// reason: the first condition that failed, such as `match:
/// data.severity: "low" is not in ["high","critical"]`.
#[utoipa::path(post, path = "/webhooks/{id}/filter/test", operation_id = "testWebhookFilter", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), request_body = FilterTest, responses((status = 200, description = "Whether the webhook would receive the event, and why", body = Decision)))]
pub(crate) async fn test(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FilterTest>,
) -> ApiResult<Json<Decision>> {
    let webhook = super::webhooks::find(&state, &caller, &id).await?;
    let spec = match body.filter {
        Some(given) => Some(given),
        None => webhook.spec.filter.clone(),
    };
    let filter = spec
        .as_ref()
        .map(FilterSpec::compile)
        .transpose()
        .map_err(|e| e.within("filter"))?;
    let (event, event_type) = event_json(body.event)?;
    if let Some(t) = &event_type
        && !state
            .registry()
            .get(&id)
            .is_some_and(|route| route.subscribes_to(t))
    {
        return Ok(Json(Decision {
            matches: false,
            reason: format!(
                "type `{t}` is not among the webhook's event_types ({})",
                webhook.spec.event_types.join(", ")
            ),
        }));
    }
    let decision = match filter {
        Some(filter) => filter.explain(&FilterEvent::new(event)),
        None => Decision {
            matches: true,
            reason: "the webhook has no filter: every event of its event_types is delivered"
                .to_string(),
        },
    };
    Ok(Json(decision))
}

/// The event as filters see it, and its type if given.
fn event_json(event: TestEvent) -> ApiResult<(Value, Option<String>)> {
    let mut json = Map::new();
    let event_type = match &event.event_type {
        Some(t) => Some(EventType::parse("event.type", t)?.to_string()),
        None => None,
    };
    if let Some(t) = &event_type {
        json.insert("type".to_string(), Value::String(t.clone()));
    }
    for (field, value, max) in [
        ("source", &event.source, 255),
        ("id", &event.id, 255),
        ("timestamp", &event.timestamp, 64),
    ] {
        if let Some(v) = value {
            herald_core::validation::check_len(&format!("event.{field}"), v, 1, max)?;
        }
    }
    json.insert(
        "id".to_string(),
        Value::String(event.id.unwrap_or_else(|| "evt_test".to_string())),
    );
    json.insert(
        "timestamp".to_string(),
        Value::String(event.timestamp.unwrap_or_else(|| format_time(Utc::now()))),
    );
    json.insert(
        "source".to_string(),
        event.source.map_or(Value::Null, Value::String),
    );
    json.insert(
        "data".to_string(),
        event.data.unwrap_or_else(|| Value::Object(Map::new())),
    );
    Ok((Value::Object(json), event_type))
}
