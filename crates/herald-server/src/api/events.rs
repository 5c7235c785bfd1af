//! `/api/v1/events`: ingest (single and batch) and reads.

use std::collections::BTreeSet;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use herald_core::ValidationError;
use herald_core::event::{EventType, parse_event_id, webhook_body};
use herald_core::filter::LazyEvent;
use herald_core::ids;
use herald_store::prelude::*;
use herald_store::{Ingest, Ingested, NewEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use super::pagination::{self, encode_seq, page};
use super::views;
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult, SchemaViolation};
use crate::schemas::{Mode, TenantTypes, Violation};
use herald_core::trace::TraceParent;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventInput {
    #[serde(rename = "type")]
    /// `training.complete`: letters, digits and `_ . : -`.
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: String,
    /// Any JSON, `{}` when absent; at most the configured size.
    #[schema(value_type = Option<Object>)]
    data: Option<Box<RawValue>>,
    /// Your own id for the event (deduplicated); generated when absent.
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    id: Option<String>,
    /// Where the event comes from.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    source: Option<String>,
    /// Deliver at this time (RFC 3339, at most 90 days ahead) instead of
    /// at once: the deliveries wait as `scheduled` and the event can be
    /// cancelled until then. A time already past delivers at once. Not
    /// with `delay_ms`.
    #[schema(value_type = Option<String>, format = DateTime)]
    deliver_at: Option<String>,
    /// Deliver this many milliseconds from now (at most 90 days), as
    /// `deliver_at` would. Not with `deliver_at`.
    #[schema(minimum = 0, maximum = 7_776_000_000_u64)]
    #[serde(default, deserialize_with = "whole_millis")]
    delay_ms: Option<u64>,
}

/// `delay_ms` as JSON Schema counts integers: `1500`, and `1500.0` too.
fn whole_millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(f))
                .map(|f| f as u64)
        })
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!("must be a whole number of milliseconds (got {n})"))
        })
}

/// How far ahead an event may be scheduled.
const MAX_SCHEDULE_AHEAD_MS: i64 = 90 * 24 * 3600 * 1000;

/// When an event posted at `now_ms` is to be delivered, if later than at
/// once.
fn deliver_at_ms(
    prefix: &str,
    deliver_at: Option<&str>,
    delay_ms: Option<u64>,
    now_ms: i64,
) -> Result<Option<i64>, ValidationError> {
    let at = match (deliver_at, delay_ms) {
        (Some(_), Some(_)) => {
            return Err(ValidationError::new(
                format!("{prefix}delay_ms"),
                "give deliver_at or delay_ms, not both",
            ));
        }
        (None, None) => return Ok(None),
        (Some(text), None) => {
            let field = format!("{prefix}deliver_at");
            let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
                ValidationError::new(
                    &field,
                    format!("must be an RFC 3339 time such as 2026-12-24T09:00:00Z ({e})"),
                )
            })?;
            let at = at.timestamp_millis();
            if at - now_ms > MAX_SCHEDULE_AHEAD_MS {
                return Err(ValidationError::new(field, "must be at most 90 days ahead"));
            }
            at
        }
        (None, Some(delay)) => {
            if delay > MAX_SCHEDULE_AHEAD_MS as u64 {
                return Err(ValidationError::new(
                    format!("{prefix}delay_ms"),
                    "must be at most 7776000000 (90 days)",
                ));
            }
            now_ms + delay as i64
        }
    };
    Ok((at > now_ms).then_some(at))
}

impl EventInput {
    /// Validates and prepares an event for the store, matching it to its
    /// subscribers. `prefix` locates it in a batch (`events[3].`).
    fn prepare(
        self,
        prefix: &str,
        idempotency_key: Option<String>,
        traceparent: Option<String>,
        state: &AppState,
        tenant_id: &str,
        (types, mode): (&TenantTypes, Mode),
    ) -> ApiResult<Prepared> {
        let event_type = EventType::parse(&format!("{prefix}type"), &self.event_type)?;
        let id = match self.id {
            Some(id) => parse_event_id(&format!("{prefix}id"), &id)?,
            None => ids::new_id(ids::EVENT),
        };
        if let Some(source) = &self.source {
            herald_core::validation::check_len(&format!("{prefix}source"), source, 1, 255)?;
        }
        let now = Utc::now();
        let deliver_at = deliver_at_ms(
            prefix,
            self.deliver_at.as_deref(),
            self.delay_ms,
            now.timestamp_millis(),
        )?;
        let empty;
        let data: &RawValue = match &self.data {
            Some(d) => d,
            None => {
                empty = RawValue::from_string("{}".to_string()).expect("valid JSON");
                &empty
            }
        };
        let max_data = state.max_event_data_bytes();
        if data.get().len() > max_data {
            return Err(ValidationError::new(
                format!("{prefix}data"),
                format!("must be at most {max_data} bytes of JSON"),
            )
            .into());
        }
        let checked = check_schema(prefix, event_type.as_str(), data, types, mode)?;
        let body = webhook_body(&id, event_type.as_str(), now, data);
        let lazy = LazyEvent::new(&body, self.source.as_deref());
        let webhook_ids = state
            .registry()
            .subscribers(tenant_id, event_type.as_str(), &lazy);
        // A scheduled event is not ordered with its key's others: it
        // would hold every later event of the key back until its time.
        let ordering_keys = match deliver_at {
            Some(_) => Vec::new(),
            None => state.registry().ordering_keys(&webhook_ids, &body),
        };
        let digest_at_ms = state
            .registry()
            .digest_ticks(&webhook_ids, deliver_at.unwrap_or(now.timestamp_millis()));
        let schema_errors = match &checked.errors {
            Some(errors) => Some(serde_json::to_string(errors).map_err(|_| ApiError::internal())?),
            None => None,
        };
        let event = NewEvent {
            ordering_keys,
            digest_at_ms,
            deliver_at_ms: deliver_at,
            body,
            webhook_ids,
            id,
            event_type: event_type.to_string(),
            source: self.source,
            idempotency_key,
            created_at_ms: now.timestamp_millis(),
            traceparent,
            schema_errors,
        };
        Ok(Prepared { event, checked })
    }
}

/// An event ready for the store, with what its answer says of its type.
struct Prepared {
    event: NewEvent,
    checked: Checked,
}

/// What the event type registry says of one event.
#[derive(Default)]
struct Checked {
    /// Its type is deprecated.
    deprecated: bool,
    /// How its data fails its type's schema, when accepted anyway (`warn`).
    errors: Option<Vec<Violation>>,
}

impl Checked {
    /// Adds what the registry said to an event's answer.
    fn annotate(self, answer: &mut Value) {
        if self.deprecated {
            answer["deprecated"] = json!(true);
        }
        if let Some(errors) = self.errors {
            answer["schema_errors"] = json!(errors);
        }
    }
}

/// Holds `data` to its type's schema when the tenant validates: in
/// `reject` mode a failure is a 422 naming the pointer into the data, in
/// `warn` mode it is recorded with the event. Types without a schema, and
/// types not registered, accept anything.
fn check_schema(
    prefix: &str,
    event_type: &str,
    data: &RawValue,
    types: &TenantTypes,
    mode: Mode,
) -> ApiResult<Checked> {
    let mut checked = Checked {
        deprecated: types.get(event_type).is_some_and(|t| t.deprecated),
        errors: None,
    };
    let Some(schema) = types
        .schema_to_check(event_type)
        .filter(|_| mode != Mode::Off)
    else {
        return Ok(checked);
    };
    // Parsed again only for a type with a schema; the raw text stays what
    // is delivered.
    let value: Value = serde_json::from_str(data.get())
        .map_err(|e| ApiError::validation(format!("{prefix}data"), format!("is not JSON: {e}")))?;
    let violations = schema.check(&value);
    let Some(first) = violations.first() else {
        return Ok(checked);
    };
    if mode == Mode::Reject {
        let field = format!("{prefix}data");
        let at = if first.pointer.is_empty() {
            "at its root".to_string()
        } else {
            format!("at `{}`", first.pointer)
        };
        let message = format!(
            "{field} does not match the schema of event type `{event_type}` {at}: {}",
            first.message
        );
        let errors = violations
            .iter()
            .map(|v| SchemaViolation {
                pointer: v.pointer.clone(),
                message: v.message.clone(),
            })
            .collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "schema_validation_failed",
            message,
        )
        .with_field(field)
        .with_schema_errors(first.pointer.clone(), errors));
    }
    checked.errors = Some(violations);
    Ok(checked)
}

/// The W3C `traceparent` the request carries, if it is a valid one: the
/// events' deliveries continue its trace. An invalid one is ignored, as
/// the recommendation says (the deliveries then start their own trace).
fn traceparent(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    TraceParent::parse(value).map(|t| t.to_string())
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::validation(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}

/// How many times events are matched again against a reloaded routing
/// table before the client is asked to retry.
const MAX_REMATCHES: usize = 5;

/// Stores events matched against the routing table at `registry_version`,
/// then wakes the worker of every webhook that got a new delivery. Only the
/// subscriber lists are kept aside, not the bodies. When webhooks changed
/// since that version (on another node, say), the store keeps nothing: the
/// table is loaded again and the events matched again.
async fn ingest(
    state: &AppState,
    tenant_id: &str,
    registry_version: i64,
    events: Vec<NewEvent>,
) -> ApiResult<Vec<Ingested>> {
    let mut subscribers: Vec<Vec<String>> = events.iter().map(|e| e.webhook_ids.clone()).collect();
    let mut answer = state
        .store()
        .ingest(tenant_id, registry_version, events)
        .await?;
    let mut rematched = 0;
    let answers = loop {
        match answer {
            Ingest::Stored(answers) => break answers,
            Ingest::Stale { .. } if rematched == MAX_REMATCHES => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "webhooks_changing",
                    "webhooks are changing faster than events can be matched to them; \
                     try again",
                )
                .with_retry_after(1));
            }
            Ingest::Stale { mut events, .. } => {
                rematched += 1;
                let version = state.dispatcher().reload_webhooks().await?;
                for event in &mut events {
                    state.registry().rematch(tenant_id, event, |_| true);
                }
                subscribers = events.iter().map(|e| e.webhook_ids.clone()).collect();
                answer = state.store().ingest(tenant_id, version, events).await?;
            }
        }
    };
    let duplicates = answers.iter().filter(|a| a.replayed).count() as u64;
    state
        .metrics()
        .ingested(answers.len() as u64 - duplicates, duplicates);
    let woken: BTreeSet<&str> = subscribers
        .iter()
        .zip(&answers)
        .filter(|(_, a)| !a.replayed)
        .flat_map(|(ids, _)| ids.iter().map(String::as_str))
        .collect();
    for webhook_id in woken {
        state.dispatcher().wake(webhook_id);
    }
    Ok(answers)
}

/// Emits one event of a tenant as if it had been posted (matched, stored,
/// its webhooks woken, taken from the tenant's ingest budget): the
/// scheduler's path. `data` is JSON text, checked when the schedule
/// was saved. The id and idempotency key, both made of the schedule and
/// the tick, make emitting the same tick twice (on two nodes, or again
/// after a crash) store it once.
pub(crate) async fn emit(
    state: &AppState,
    tenant_id: &str,
    event_type: &str,
    data: &str,
    source: &str,
    id: String,
    idempotency_key: String,
) -> ApiResult<Ingested> {
    let input = EventInput {
        event_type: event_type.to_string(),
        data: Some(
            RawValue::from_string(data.to_string())
                .map_err(|e| ApiError::validation("event.data", format!("is not JSON: {e}")))?,
        ),
        id: Some(id),
        source: Some(source.to_string()),
        deliver_at: None,
        delay_ms: None,
    };
    let types = state.schemas().tenant(tenant_id).await?;
    let version = state.registry().version();
    let prepared = input.prepare(
        "event.",
        Some(idempotency_key),
        None,
        state,
        tenant_id,
        // A schedule's data was accepted when it was saved, and a refused
        // tick would be tried again forever: it is recorded, not refused.
        (&types, types.mode.min(Mode::Warn)),
    )?;
    state.admit_events(tenant_id, 1)?;
    let mut answers = ingest(state, tenant_id, version, vec![prepared.event]).await?;
    Ok(answers.remove(0))
}

/// Send an event.
#[utoipa::path(post, path = "/events", operation_id = "sendEvent", tag = "events", params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]*[!-~])?$", description = "1–255 characters; the same key within 24 hours answers the first event again, with `idempotent-replayed: true`"), ("traceparent" = Option<String>, Header, description = "W3C trace context, passed on to the deliveries")), request_body = EventInput, responses((status = 202, description = "Stored: on disk before this answer", body = crate::api::openapi::bodies::Accepted), (status = 429, description = "The tenant's events-per-second budget is spent; see `Retry-After`", body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<EventInput>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let types = state.schemas().tenant(&caller.tenant_id).await?;
    let version = state.registry().version();
    let Prepared { event, checked } = input.prepare(
        "",
        key,
        traceparent(&headers),
        &state,
        &caller.tenant_id,
        (&types, types.mode),
    )?;
    state.admit_events(&caller.tenant_id, 1)?;
    let answers = ingest(&state, &caller.tenant_id, version, vec![event]).await?;
    let answer = &answers[0];
    let mut body = json!({"id": answer.id, "deliveries": answer.deliveries});
    // A replay answers as the first time: what this request's data did
    // is not what was stored.
    if !answer.replayed {
        checked.annotate(&mut body);
    }
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchInput {
    /// 1 to 1000 events.
    #[schema(min_items = 1, max_items = 1000)]
    events: Vec<EventInput>,
}

/// Send a batch of events.
#[utoipa::path(post, path = "/events/batch", operation_id = "sendEvents", tag = "events", params(("traceparent" = Option<String>, Header, description = "W3C trace context, passed on to the deliveries")), request_body = BatchInput, responses((status = 202, description = "Stored: on disk before this answer", body = crate::api::openapi::bodies::BatchAccepted), (status = 429, description = "The tenant's events-per-second budget is spent; see `Retry-After`", body = crate::error::ErrorBody)))]
pub(crate) async fn create_batch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<BatchInput>,
) -> ApiResult<Response> {
    let trace = traceparent(&headers);
    if input.events.is_empty() || input.events.len() > 1000 {
        return Err(ApiError::validation(
            "events",
            "events must hold 1 to 1000 events",
        ));
    }
    let types = state.schemas().tenant(&caller.tenant_id).await?;
    let version = state.registry().version();
    // The first event refused (a schema in `reject` mode, say) refuses
    // the whole batch: nothing of it is stored.
    let (events, checks): (Vec<_>, Vec<_>) = input
        .events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            e.prepare(
                &format!("events[{i}]."),
                None,
                trace.clone(),
                &state,
                &caller.tenant_id,
                (&types, types.mode),
            )
            .map(|p| (p.event, p.checked))
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    state.admit_events(&caller.tenant_id, events.len())?;
    let answers = ingest(&state, &caller.tenant_id, version, events).await?;
    let data: Vec<Value> = answers
        .iter()
        .zip(checks)
        .map(|(a, checked)| {
            let mut body = json!({"id": a.id, "deliveries": a.deliveries});
            if !a.replayed {
                checked.annotate(&mut body);
            }
            body
        })
        .collect();
    Ok((StatusCode::ACCEPTED, Json(json!({"data": data}))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(rename = "type")]
    /// Only events of this type.
    #[param(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: Option<String>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^s[1-9][0-9]{0,17}$")]
    cursor: Option<String>,
}

/// List events.
#[utoipa::path(get, path = "/events", operation_id = "listEvents", tag = "events", params(ListQuery), responses((status = 200, description = "A page of events", body = crate::api::openapi::bodies::EventPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::seq_cursor(q.cursor.as_deref())?;
    if let Some(t) = &q.event_type {
        EventType::parse("type", t)?;
    }
    let rows = state
        .store()
        .list_events(&caller.tenant_id, q.event_type, before, limit + 1)
        .await?;
    let p = page(rows, limit, |e| encode_seq(e.seq), |e| views::event(&e));
    Ok(Json(json!(p)))
}

/// Read an event with its deliveries.
#[utoipa::path(get, path = "/events/{id}", operation_id = "getEvent", tag = "events", params(("id" = String, Path, description = "The event's id")), responses((status = 200, description = "The event with its deliveries", body = crate::api::openapi::bodies::EventDetail)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let event = state
        .store()
        .get_event(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event", &id))?;
    let deliveries = state.store().event_deliveries(event.seq).await?;
    let mut body = views::event(&event);
    body["deliveries"] = deliveries.iter().map(views::delivery_summary).collect();
    Ok(Json(body))
}

/// Cancel a scheduled event.
#[utoipa::path(post, path = "/events/{id}/cancel", operation_id = "cancelEvent", tag = "events", params(("id" = String, Path, description = "The event's id")), responses((status = 200, description = "Its scheduled deliveries are cancelled", body = crate::api::openapi::bodies::Cancelled), (status = 404, description = "No such event", body = crate::error::ErrorBody), (status = 409, description = "Nothing of the event is still scheduled: it was not scheduled, or is due, sent or cancelled already", body = crate::error::ErrorBody)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now().timestamp_millis();
    let cancelled = state
        .store()
        .cancel_event(&caller.tenant_id, &id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("event", &id))?;
    // An event scheduled for later that matched no webhook has nothing to
    // cancel, but is not "too late" either.
    let ahead_without_deliveries = || async {
        let Some(event) = state.store().get_event(&caller.tenant_id, &id).await? else {
            return Ok::<_, ApiError>(false);
        };
        Ok(event.deliver_at_ms.is_some_and(|at| at > now)
            && state.store().event_deliveries(event.seq).await?.is_empty())
    };
    if cancelled == 0 && !ahead_without_deliveries().await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_scheduled",
            format!(
                "event `{id}` has no scheduled delivery left to cancel: it was not scheduled, \
                 or its deliveries are due, sent or cancelled already"
            ),
        ));
    }
    Ok(Json(json!({"id": id, "cancelled": cancelled})))
}
