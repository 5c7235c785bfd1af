//! `/api/v1/event-types`: the tenant's event type registry (a name with a
//! description, a JSON Schema for the events' `data`, examples, and the
//! deprecated and archived flags), and who receives each type.
//!
//! A schema is compiled when it is saved (an invalid one, or one that
//! refers outside itself, is a 422 naming `schema`), and examples must
//! pass it. Every change is audited and marks the tenant's compiled
//! registry stale, so the next event is checked against what was saved.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_core::event::{EventType, format_time, from_millis};
use herald_core::validation::check_len;
use herald_store::prelude::*;
use herald_store::{EventTypeFilter, EventTypeRow, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{JsonBody, QueryParams, from_value};
use super::pagination::{self, page};
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};
use crate::schemas::{Compiled, MAX_SCHEMA_BYTES};

/// The most examples a type keeps.
const MAX_EXAMPLES: usize = 10;
/// The most bytes of JSON the examples take together.
const MAX_EXAMPLES_BYTES: usize = 64 * 1024;
/// The longest description, in characters.
const MAX_DESCRIPTION: usize = 1000;

/// What a create (or a patch merged onto the stored type) says.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventTypeInput {
    /// The event type, as events name it in `type`: letters, digits and
    /// `_ . : -`. Fixed once created.
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    name: String,
    /// What the event means, for the people who subscribe to it.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
    description: String,
    /// A JSON Schema (any draft; `$schema` picks it, 2020-12 otherwise)
    /// for the events' `data`, at most 64 KiB. It may refer only to
    /// itself: a remote or file `$ref` is refused.
    #[schema(value_type = Option<Object>)]
    schema: Option<Value>,
    /// Up to 10 examples of `data` (each must pass `schema`); a test send
    /// of this type without data sends the first.
    #[serde(default)]
    #[schema(value_type = Vec<Object>, max_items = 10)]
    examples: Vec<Value>,
    /// Still delivered, but marked for subscribers to move off.
    #[serde(default)]
    deprecated: bool,
    /// Hidden from lists (unless asked for) and no longer open to new
    /// subscriptions; events of it are still accepted.
    #[serde(default)]
    archived: bool,
}

/// An input checked: the row's text and the compiled schema.
struct Checked {
    name: String,
    description: String,
    schema: Option<(String, Compiled)>,
    examples: String,
    deprecated: bool,
    archived: bool,
}

impl EventTypeInput {
    fn check(self) -> ApiResult<Checked> {
        let name = EventType::parse("name", &self.name)?.to_string();
        check_len("description", &self.description, 0, MAX_DESCRIPTION)?;
        let schema = match self.schema {
            None | Some(Value::Null) => None,
            Some(schema) => {
                let text = schema.to_string();
                if text.len() > MAX_SCHEMA_BYTES {
                    return Err(ApiError::validation(
                        "schema",
                        format!("schema must be at most {MAX_SCHEMA_BYTES} bytes of JSON"),
                    ));
                }
                let compiled = Compiled::new(&schema).map_err(|e| {
                    let at = if e.pointer.is_empty() {
                        String::new()
                    } else {
                        format!(" (at `{}`)", e.pointer)
                    };
                    ApiError::validation("schema", format!("schema is invalid{at}: {}", e.message))
                })?;
                Some((text, compiled))
            }
        };
        if self.examples.len() > MAX_EXAMPLES {
            return Err(ApiError::validation(
                "examples",
                format!("examples must hold at most {MAX_EXAMPLES} examples"),
            ));
        }
        if let Some((_, compiled)) = &schema {
            for (i, example) in self.examples.iter().enumerate() {
                if let Some(first) = compiled.check(example).first() {
                    let field = format!("examples[{i}]");
                    return Err(ApiError::validation(
                        &field,
                        format!(
                            "{field} does not match the schema at `{}`: {}",
                            first.pointer, first.message
                        ),
                    ));
                }
            }
        }
        let examples = Value::Array(self.examples).to_string();
        if examples.len() > MAX_EXAMPLES_BYTES {
            return Err(ApiError::validation(
                "examples",
                format!("examples must be at most {MAX_EXAMPLES_BYTES} bytes of JSON together"),
            ));
        }
        Ok(Checked {
            name,
            description: self.description,
            schema,
            examples,
            deprecated: self.deprecated,
            archived: self.archived,
        })
    }
}

fn parse_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// An event type as the API shows it.
pub(crate) fn view(row: &EventTypeRow) -> Value {
    json!({
        "name": row.name,
        "description": row.description,
        "schema": row.schema.as_deref().map(parse_text),
        "examples": parse_text(&row.examples),
        "deprecated": row.deprecated,
        "archived": row.archived,
        "version": row.version,
        "created_at": format_time(from_millis(row.created_at_ms)),
        "updated_at": format_time(from_millis(row.updated_at_ms)),
    })
}

/// The type as stored, as the body a patch is merged onto.
fn as_input(row: &EventTypeRow) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(row.name));
    m.insert("description".into(), json!(row.description));
    if let Some(s) = &row.schema {
        m.insert("schema".into(), parse_text(s));
    }
    m.insert("examples".into(), parse_text(&row.examples));
    m.insert("deprecated".into(), json!(row.deprecated));
    m.insert("archived".into(), json!(row.archived));
    m
}

/// The event type named in a path: a name that cannot be one names none.
async fn find(state: &AppState, caller: &Caller, name: &str) -> ApiResult<EventTypeRow> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no event type named `{name}`"),
        )
        .with_field("name")
    };
    if EventType::parse("name", name).is_err() {
        return Err(not_found());
    }
    state
        .store()
        .get_event_type(&caller.tenant_id, name)
        .await?
        .ok_or_else(not_found)
}

/// Register an event type.
#[utoipa::path(post, path = "/event-types", operation_id = "createEventType", tag = "event-types", request_body = EventTypeInput, responses((status = 201, description = "The event type as stored", body = crate::api::openapi::bodies::EventTypeView), (status = 409, description = "The tenant has an event type of that name", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid (an invalid schema names `schema`)", body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(input): JsonBody<EventTypeInput>,
) -> ApiResult<Response> {
    let checked = input.check()?;
    let now = herald_store::now_ms();
    let (schema_text, compiled) = checked.schema.unzip();
    let row = EventTypeRow {
        tenant_id: caller.tenant_id.clone(),
        name: checked.name,
        description: checked.description,
        schema: schema_text,
        examples: checked.examples,
        deprecated: checked.deprecated,
        archived: checked.archived,
        version: 1,
        created_at_ms: now,
        updated_at_ms: now,
    };
    let view = view(&row);
    let audit = caller.audit(
        "event_type.created",
        ("event_type", &row.name),
        None,
        Some(view.clone()),
    );
    match state.store().insert_event_type(row.clone(), audit).await {
        Ok(()) => {}
        Err(StoreError::UniqueViolation(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("an event type named `{}` exists already", row.name),
            )
            .with_field("name"));
        }
        Err(e) => return Err(e.into()),
    }
    state
        .schemas()
        .saved(&caller.tenant_id, &row.name, row.version, compiled);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Include archived types (default false).
    include_archived: Option<bool>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    cursor: Option<String>,
}

/// List event types.
///
/// By name; archived types only with `include_archived=true`.
#[utoipa::path(get, path = "/event-types", operation_id = "listEventTypes", tag = "event-types", params(ListQuery), responses((status = 200, description = "A page of event types", body = crate::api::openapi::bodies::EventTypePage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = pagination::limit(q.limit)?;
    if let Some(c) = &q.cursor {
        EventType::parse("cursor", c)
            .map_err(|_| ApiError::validation("cursor", "cursor is not one Herald issued"))?;
    }
    let rows = state
        .store()
        .list_event_types(EventTypeFilter {
            tenant_id: caller.tenant_id.clone(),
            after_name: q.cursor,
            include_archived: q.include_archived.unwrap_or(false),
            limit: limit + 1,
        })
        .await?;
    let p = page(rows, limit, |r| r.name.clone(), |r| view(&r));
    Ok(Json(json!(p)))
}

/// Read an event type.
#[utoipa::path(get, path = "/event-types/{name}", operation_id = "getEventType", tag = "event-types", params(("name" = String, Path, description = "The event type's name")), responses((status = 200, description = "The event type", body = crate::api::openapi::bodies::EventTypeView), (status = 404, description = "No such event type", body = crate::error::ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view(&find(&state, &caller, &name).await?)))
}

/// How often a patch is applied again when another write lands first.
const MAX_PATCH_TRIES: usize = 5;

/// Change an event type.
///
/// Each field sent replaces the stored one; `null` resets it (no schema,
/// no examples, an empty description, not deprecated or archived). The
/// name cannot change.
#[utoipa::path(patch, path = "/event-types/{name}", operation_id = "updateEventType", tag = "event-types", params(("name" = String, Path, description = "The event type's name")), request_body(content = inline(crate::api::openapi::bodies::EventTypePatch), description = "The fields to change; `null` resets one"), responses((status = 200, description = "The event type as stored", body = crate::api::openapi::bodies::EventTypeView), (status = 404, description = "No such event type", body = crate::error::ErrorBody), (status = 409, description = "Other changes kept landing meanwhile", body = crate::error::ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    // No such type is a 404 whatever the body says.
    find(&state, &caller, &name).await?;
    const FIELDS: [&str; 6] = [
        "name",
        "description",
        "schema",
        "examples",
        "deprecated",
        "archived",
    ];
    if let Some(unknown) = patch.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::validation(
            unknown.clone(),
            format!("{unknown} is not a known field"),
        ));
    }
    if let Some(n) = patch.get("name")
        && n.as_str() != Some(name.as_str())
    {
        return Err(ApiError::validation(
            "name",
            "name cannot be changed; create a new event type and archive this one",
        ));
    }
    for _ in 0..MAX_PATCH_TRIES {
        let current = find(&state, &caller, &name).await?;
        let mut merged = as_input(&current);
        for (key, value) in &patch {
            if value.is_null() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let input: EventTypeInput = from_value(Value::Object(merged))?;
        let checked = input.check()?;
        let (schema_text, compiled) = checked.schema.unzip();
        let row = EventTypeRow {
            description: checked.description,
            schema: schema_text,
            examples: checked.examples,
            deprecated: checked.deprecated,
            archived: checked.archived,
            version: current.version + 1,
            updated_at_ms: herald_store::now_ms(),
            ..current.clone()
        };
        let after = view(&row);
        let audit = caller.audit(
            "event_type.updated",
            ("event_type", &row.name),
            Some(view(&current)),
            Some(after.clone()),
        );
        if state.store().update_event_type(row.clone(), audit).await? {
            state
                .schemas()
                .saved(&caller.tenant_id, &row.name, row.version, compiled);
            return Ok(Json(after));
        }
    }
    Err(ApiError::conflict("event type"))
}

/// Delete an event type.
///
/// Its events, and webhooks subscribed to it, stay; its events are no
/// longer checked against its schema.
#[utoipa::path(delete, path = "/event-types/{name}", operation_id = "deleteEventType", tag = "event-types", params(("name" = String, Path, description = "The event type's name")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such event type", body = crate::error::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let current = find(&state, &caller, &name).await?;
    let audit = caller.audit(
        "event_type.deleted",
        ("event_type", &name),
        Some(view(&current)),
        None,
    );
    if !state
        .store()
        .delete_event_type(&caller.tenant_id, &name, audit)
        .await?
    {
        return Err(ApiError::not_found("event type", &name).with_field("name"));
    }
    state.schemas().changed(&caller.tenant_id);
    Ok(StatusCode::NO_CONTENT)
}

/// List the webhooks that receive an event type.
///
/// The tenant's webhooks (whatever their status) with an `event_types`
/// entry that matches the name, exactly or as a pattern, and which ones.
/// Any valid event type name may be asked about, registered or not.
#[utoipa::path(get, path = "/event-types/{name}/webhooks", operation_id = "listEventTypeWebhooks", tag = "event-types", params(("name" = String, Path, description = "An event type's name")), responses((status = 200, description = "Who receives it", body = crate::api::openapi::bodies::EventTypeWebhooks), (status = 404, description = "Not a valid event type name", body = crate::error::ErrorBody)))]
pub(crate) async fn webhooks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if EventType::parse("name", &name).is_err() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("`{name}` is not an event type name"),
        )
        .with_field("name"));
    }
    let mut routes: Vec<_> = state
        .registry()
        .all()
        .into_iter()
        .filter(|r| r.webhook.tenant_id == caller.tenant_id && r.subscribes_to(&name))
        .collect();
    routes.sort_by(|a, b| a.webhook.id.cmp(&b.webhook.id));
    let data: Vec<Value> = routes
        .iter()
        .map(|r| {
            let w = &r.webhook;
            let matched: Vec<&str> = r
                .patterns
                .iter()
                .zip(&w.spec.event_types)
                .filter(|(p, _)| p.matches(&name))
                .map(|(_, text)| text.as_str())
                .collect();
            json!({
                "id": w.id,
                "name": w.spec.name,
                "provider": w.spec.provider,
                "status": w.spec.status,
                "matched_by": matched,
            })
        })
        .collect();
    Ok(Json(json!({"event_type": name, "data": data})))
}

/// Refuses subscribing to an archived event type: `types` are the
/// event types (or patterns) being added, `field` names where they are.
/// A pattern is never refused; only an exact name that is archived.
pub(crate) async fn refuse_archived(
    state: &AppState,
    tenant_id: &str,
    added: &[(String, String)],
) -> ApiResult<()> {
    if added.is_empty() {
        return Ok(());
    }
    let types = state.schemas().tenant(tenant_id).await?;
    for (field, name) in added {
        if types.get(name).is_some_and(|t| t.archived) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "event_type_archived",
                format!("{field} names event type `{name}`, which is archived: it takes no new subscriptions"),
            )
            .with_field(field.clone()));
        }
    }
    Ok(())
}

/// The event types among `names` that are deprecated, for the answers
/// that show a webhook's subscriptions.
pub(crate) async fn deprecated_among(
    state: &AppState,
    tenant_id: &str,
    names: &[String],
) -> ApiResult<Vec<String>> {
    let types = state.schemas().tenant(tenant_id).await?;
    Ok(names
        .iter()
        .filter(|n| types.get(n).is_some_and(|t| t.deprecated))
        .cloned()
        .collect())
}

/// The first example of a registered event type, for a test send.
pub(crate) async fn first_example(
    state: &AppState,
    tenant_id: &str,
    name: &str,
) -> ApiResult<Option<Value>> {
    let Some(row) = state.store().get_event_type(tenant_id, name).await? else {
        return Ok(None);
    };
    Ok(match parse_text(&row.examples) {
        Value::Array(mut items) if !items.is_empty() => Some(items.swap_remove(0)),
        _ => None,
    })
}
