//! `/api/v1/schedules`: recurring events on a cron pattern. These routes
//! keep the schedules and say when each runs next; [`ticker`] emits the
//! ticks, through the same ingest path as `POST /events`.

mod ticker;

pub(crate) use ticker::{Scheduler, run_forever};

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use herald_core::event::{EventType, format_time, from_millis};
use herald_core::ids;
use herald_core::schedule::CronPattern;
use herald_core::validation::check_len;
use herald_store::prelude::*;
use herald_store::{ScheduleRow, StoreError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::extract::JsonBody;
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};

/// How many schedules one tenant may keep.
const MAX_SCHEDULES_PER_TENANT: usize = 1_000;

/// How many coming ticks a schedule's view lists.
const NEXT_RUNS_SHOWN: usize = 5;

/// The event a schedule emits at each tick.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduledEvent {
    /// The event type, as for `POST /events`.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: String,
    /// The event's data, `{}` when absent.
    #[schema(value_type = Option<Object>)]
    data: Option<Box<RawValue>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSchedule {
    /// Unique within the tenant.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    name: String,
    /// 5 fields (`minute hour day month weekday`) or 6 (seconds first);
    /// `@hourly`, `@daily`, … and `L`, `#`, `W` as croner reads them.
    #[schema(min_length = 1, max_length = 128, example = "0 9 * * MON")]
    cron: String,
    /// The IANA time zone the pattern is read in (default `UTC`).
    #[schema(example = "Europe/Berlin")]
    timezone: Option<String>,
    event: ScheduledEvent,
    /// Start paused (default false).
    paused: Option<bool>,
}

/// Any field of a schedule; what is absent stays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SchedulePatch {
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    name: Option<String>,
    #[schema(min_length = 1, max_length = 128)]
    cron: Option<String>,
    timezone: Option<String>,
    event: Option<ScheduledEvent>,
    paused: Option<bool>,
}

/// A schedule as the API shows it, with its next runs.
pub(crate) fn view(row: &ScheduleRow) -> Value {
    let next_runs: Vec<String> = match (&row.paused, row.next_run_at_ms) {
        (false, Some(next)) => CronPattern::parse("cron", &row.cron, "timezone", &row.timezone)
            .map(|p| {
                std::iter::once(next)
                    .chain(p.next_ticks(next, NEXT_RUNS_SHOWN - 1))
                    .map(|ms| format_time(from_millis(ms)))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    json!({
        "id": row.id,
        "name": row.name,
        "cron": row.cron,
        "timezone": row.timezone,
        "event": {
            "type": row.event_type,
            "data": serde_json::from_str::<Value>(&row.event_data).unwrap_or(Value::Null),
        },
        "paused": row.paused,
        "next_runs": next_runs,
        "last_run_at": row.last_run_at_ms.map(|ms| format_time(from_millis(ms))),
        "runs": row.runs,
        "skipped": row.skipped,
        "created_at": format_time(from_millis(row.created_at_ms)),
        "updated_at": format_time(from_millis(row.updated_at_ms)),
    })
}

/// Checks the event a schedule emits; answers its type and data as text.
fn check_event(state: &AppState, event: ScheduledEvent) -> ApiResult<(String, String)> {
    let event_type = EventType::parse("event.type", &event.event_type)?;
    let data = event
        .data
        .map_or_else(|| "{}".to_string(), |d| d.get().to_string());
    let max = state.max_event_data_bytes();
    if data.len() > max {
        return Err(ApiError::validation(
            "event.data",
            format!("must be at most {max} bytes of JSON"),
        ));
    }
    Ok((event_type.to_string(), data))
}

/// The first tick after now of a pattern that was just checked.
fn first_tick(pattern: &CronPattern) -> Option<i64> {
    pattern.next_after(Utc::now().timestamp_millis())
}

fn name_taken(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "name_taken",
        format!("a schedule named `{name}` exists already"),
    )
    .with_field("name")
}

/// Stores a row, answering a duplicate name as a 409 on `name`.
fn unique_name(result: Result<(), StoreError>, name: &str) -> ApiResult<()> {
    match result {
        Err(StoreError::UniqueViolation(_)) => Err(name_taken(name)),
        other => Ok(other?),
    }
}

/// Create a schedule.
#[utoipa::path(post, path = "/schedules", operation_id = "createSchedule", tag = "schedules", request_body = NewSchedule, responses((status = 201, description = "Stored; it emits its event at each tick", body = crate::api::openapi::bodies::Schedule), (status = 409, description = "The name is taken", body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(input): JsonBody<NewSchedule>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_len("name", &input.name, 1, 255)?;
    let timezone = input.timezone.unwrap_or_else(|| "UTC".to_string());
    let pattern = CronPattern::parse("cron", &input.cron, "timezone", &timezone)?;
    let (event_type, event_data) = check_event(&state, input.event)?;
    let store = state.store();
    if store.list_schedules(&caller.tenant_id).await?.len() >= MAX_SCHEDULES_PER_TENANT {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_schedules",
            format!("a tenant keeps at most {MAX_SCHEDULES_PER_TENANT} schedules"),
        ));
    }
    let now = Utc::now().timestamp_millis();
    let row = ScheduleRow {
        id: ids::new_id(ids::SCHEDULE),
        tenant_id: caller.tenant_id.clone(),
        name: input.name,
        cron: input.cron.trim().to_string(),
        timezone,
        event_type,
        event_data,
        paused: input.paused.unwrap_or(false),
        next_run_at_ms: first_tick(&pattern),
        last_run_at_ms: None,
        runs: 0,
        skipped: 0,
        created_at_ms: now,
        updated_at_ms: now,
    };
    unique_name(store.insert_schedule(row.clone()).await, &row.name)?;
    state.scheduler().changed();
    Ok((StatusCode::CREATED, Json(view(&row))))
}

/// List schedules.
#[utoipa::path(get, path = "/schedules", operation_id = "listSchedules", tag = "schedules", responses((status = 200, description = "The tenant's schedules, by name", body = crate::api::openapi::bodies::ScheduleList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let rows = state.store().list_schedules(&caller.tenant_id).await?;
    Ok(Json(
        json!({"data": rows.iter().map(view).collect::<Vec<_>>()}),
    ))
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ScheduleRow> {
    state
        .store()
        .get_schedule(&caller.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("schedule", id))
}

/// Read a schedule and its next five runs.
#[utoipa::path(get, path = "/schedules/{id}", operation_id = "getSchedule", tag = "schedules", params(("id" = String, Path, description = "The schedule's id")), responses((status = 200, description = "The schedule", body = crate::api::openapi::bodies::Schedule), (status = 404, description = "No such schedule", body = crate::error::ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view(&find(&state, &caller, &id).await?)))
}

/// Writes an edited schedule. A new pattern, zone or a resume starts
/// from the next tick after now: ticks missed while paused are not
/// emitted.
async fn save(
    state: &AppState,
    mut row: ScheduleRow,
    restart: bool,
    pattern: &CronPattern,
) -> ApiResult<Json<Value>> {
    if restart {
        row.next_run_at_ms = first_tick(pattern);
    }
    row.updated_at_ms = Utc::now().timestamp_millis();
    let name = row.name.clone();
    match state.store().update_schedule(row.clone()).await {
        Err(StoreError::UniqueViolation(_)) => return Err(name_taken(&name)),
        Ok(false) => return Err(ApiError::not_found("schedule", &row.id)),
        other => other?,
    };
    state.scheduler().changed();
    Ok(Json(view(&row)))
}

/// Change a schedule.
#[utoipa::path(patch, path = "/schedules/{id}", operation_id = "updateSchedule", tag = "schedules", params(("id" = String, Path, description = "The schedule's id")), request_body = SchedulePatch, responses((status = 200, description = "The schedule as changed", body = crate::api::openapi::bodies::Schedule), (status = 404, description = "No such schedule", body = crate::error::ErrorBody), (status = 409, description = "The name is taken", body = crate::error::ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<SchedulePatch>,
) -> ApiResult<Json<Value>> {
    let mut row = find(&state, &caller, &id).await?;
    if let Some(name) = patch.name {
        check_len("name", &name, 1, 255)?;
        row.name = name;
    }
    let retimed = patch.cron.is_some() || patch.timezone.is_some();
    if let Some(cron) = patch.cron {
        row.cron = cron.trim().to_string();
    }
    if let Some(timezone) = patch.timezone {
        row.timezone = timezone;
    }
    let pattern = CronPattern::parse("cron", &row.cron, "timezone", &row.timezone)?;
    if let Some(event) = patch.event {
        (row.event_type, row.event_data) = check_event(&state, event)?;
    }
    let resumed = row.paused && patch.paused == Some(false);
    if let Some(paused) = patch.paused {
        row.paused = paused;
    }
    save(&state, row, retimed || resumed, &pattern).await
}

async fn set_paused(
    state: &AppState,
    caller: &Caller,
    id: &str,
    paused: bool,
) -> ApiResult<Json<Value>> {
    let mut row = find(state, caller, id).await?;
    let pattern = CronPattern::parse("cron", &row.cron, "timezone", &row.timezone)?;
    let resumed = row.paused && !paused;
    row.paused = paused;
    save(state, row, resumed, &pattern).await
}

/// Pause a schedule: no tick is emitted until it is resumed.
#[utoipa::path(post, path = "/schedules/{id}/pause", operation_id = "pauseSchedule", tag = "schedules", params(("id" = String, Path, description = "The schedule's id")), responses((status = 200, description = "Paused", body = crate::api::openapi::bodies::Schedule), (status = 404, description = "No such schedule", body = crate::error::ErrorBody)))]
pub(crate) async fn pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_paused(&state, &caller, &id, true).await
}

/// Resume a schedule from its next tick after now.
#[utoipa::path(post, path = "/schedules/{id}/resume", operation_id = "resumeSchedule", tag = "schedules", params(("id" = String, Path, description = "The schedule's id")), responses((status = 200, description = "Running again", body = crate::api::openapi::bodies::Schedule), (status = 404, description = "No such schedule", body = crate::error::ErrorBody)))]
pub(crate) async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_paused(&state, &caller, &id, false).await
}

/// Delete a schedule.
#[utoipa::path(delete, path = "/schedules/{id}", operation_id = "deleteSchedule", tag = "schedules", params(("id" = String, Path, description = "The schedule's id")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such schedule", body = crate::error::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state
        .store()
        .delete_schedule(&caller.tenant_id, &id)
        .await?
    {
        return Err(ApiError::not_found("schedule", &id));
    }
    Ok(StatusCode::NO_CONTENT)
}
