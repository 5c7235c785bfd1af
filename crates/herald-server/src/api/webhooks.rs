//! `/api/v1/webhooks`: create, list, read, update, delete, secret and its
//! rotation, test send.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use herald_core::event::{EventType, webhook_body};
use herald_core::ids;
use herald_core::retry::RetryPolicy;
use herald_core::retry::schedule::RetrySchedule;
use herald_core::rotation::GracePeriod;
use herald_core::signing::SigningSecret;
use herald_core::webhook::{Webhook, WebhookSpec, WebhookStatus};
use herald_providers::{Provider, ProviderKind, Transform};
use herald_store::prelude::*;
use herald_store::{NewEvent, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::event_types::{first_example, refuse_archived};
use super::extract::{JsonBody, QueryParams, from_value, optional_json};
use super::pagination::{self, page};
use super::views;
use super::{AppState, Caller};
use crate::analytics::health;
use crate::dispatch::{ChangeError, Changed, Edit};
use crate::error::{ApiError, ApiResult};

/// Splits `secret` off a create body and parses the rest as a spec.
fn parse_spec(
    mut body: Map<String, Value>,
    state: &AppState,
) -> ApiResult<(WebhookSpec, Option<SigningSecret>)> {
    let secret = match body.remove("secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(SigningSecret::parse(&s)?),
        Some(_) => return Err(ApiError::validation("secret", "secret must be a string")),
    };
    let spec: WebhookSpec = from_value(Value::Object(body))?;
    spec.validate(state.url_policy())?;
    check_provider(&spec, state)?;
    Ok((spec, secret))
}

/// The provider's own rules: its URL, its settings, templates that compile
/// (the transform's too),
/// and for email a mail server and sender this server can use.
fn check_provider(spec: &WebhookSpec, state: &AppState) -> ApiResult<()> {
    let kind = ProviderKind::parse(&spec.provider).ok_or_else(|| {
        let known: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::validation(
            "provider",
            format!(
                "unknown provider `{}` (known: {})",
                spec.provider,
                known.join(", ")
            ),
        )
    })?;
    let provider = Provider::parse(
        kind,
        spec.url.as_deref(),
        &spec.settings,
        state.url_policy(),
    )?;
    if spec.batch.is_some() {
        kind.check_batch()?;
    }
    if let Some(transform) = &spec.transform {
        Transform::compile(transform)?;
    }
    if let Some(own) = provider.own_mail_settings()
        && let Some((field, message)) = state
            .dispatcher()
            .missing_mail_setting(own.smtp_host, own.from)
    {
        return Err(ApiError::validation(field, message));
    }
    Ok(())
}

/// Create a webhook.
#[utoipa::path(post, path = "/webhooks", operation_id = "createWebhook", tag = "webhooks", request_body = crate::api::openapi::bodies::NewWebhook, responses((status = 201, description = "The webhook, with its signing secret", body = crate::api::openapi::bodies::WebhookCreated)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    refuse_disabled(&body)?;
    let (spec, secret) = parse_spec(body, &state)?;
    let named: Vec<(String, String)> = spec
        .event_types
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("event_types[{i}]"), t.clone()))
        .collect();
    refuse_archived(&state, &caller.tenant_id, &named).await?;
    let now = Utc::now();
    let webhook = Webhook::new(
        ids::new_id(ids::WEBHOOK),
        caller.tenant_id.clone(),
        spec,
        secret.unwrap_or_else(SigningSecret::generate),
        now,
    );
    let audit = caller.audit(
        "webhook.created",
        ("webhook", &webhook.id),
        None,
        Some(views::webhook(&webhook, false)),
    );
    let webhook = state.dispatcher().create_webhook(webhook, audit).await?;
    Ok((StatusCode::CREATED, Json(views::webhook(&webhook, true))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only webhooks in this status.
    status: Option<WebhookStatus>,
    /// Only webhooks carrying this tag.
    #[param(pattern = "^[^\\u0000]*$")]
    tag: Option<String>,
    /// Only webhooks subscribed to this event type.
    #[param(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: Option<String>,
    /// Only webhooks in this health state.
    #[param(value_type = Option<crate::api::openapi::bodies::HealthState>)]
    health: Option<String>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^wh_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    cursor: Option<String>,
}

/// List webhooks.
#[utoipa::path(get, path = "/webhooks", operation_id = "listWebhooks", tag = "webhooks", params(ListQuery), responses((status = 200, description = "A page of webhooks", body = crate::api::openapi::bodies::WebhookPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = pagination::limit(q.limit)?;
    if q.cursor
        .as_deref()
        .is_some_and(|c| !ids::has_prefix(c, ids::WEBHOOK))
    {
        return Err(ApiError::validation(
            "cursor",
            "cursor is not one Herald issued",
        ));
    }
    if let Some(t) = &q.event_type {
        EventType::parse("event_type", t)?;
    }
    let health_filter = q
        .health
        .as_deref()
        .map(|h| {
            health::State::parse(h).ok_or_else(|| {
                ApiError::validation(
                    "health",
                    "health must be one of healthy, degraded, failing, disabled, paused, unknown",
                )
            })
        })
        .transpose()?;
    // Webhooks are few per tenant; filtering in memory keeps the filters
    // (tag lists, pattern matching, health) in one place.
    let rows: Vec<Webhook> = state
        .store()
        .list_webhooks(&caller.tenant_id, q.cursor)
        .await?
        .into_iter()
        .filter(|w| q.status.is_none_or(|s| w.spec.status == s))
        .filter(|w| q.tag.as_ref().is_none_or(|t| w.spec.tags.contains(t)))
        .filter(|w| {
            q.event_type.as_ref().is_none_or(|t| {
                state
                    .registry()
                    .get(&w.id)
                    .is_some_and(|r| r.subscribes_to(t))
            })
        })
        .collect();
    // Health is read for the whole filtered list only when it filters;
    // otherwise for the page alone.
    let rows: Vec<Webhook> = match health_filter {
        None => rows.into_iter().take(limit + 1).collect(),
        Some(_) => rows,
    };
    let refs: Vec<&Webhook> = rows.iter().collect();
    let healths = Healths::read(&state, &caller.tenant_id, &refs).await?;
    let rows: Vec<(Webhook, Value)> = rows
        .into_iter()
        .filter_map(|w| {
            let (state_now, health) = healths.of(&w);
            health_filter
                .is_none_or(|wanted| wanted == state_now)
                .then_some((w, health))
        })
        .take(limit + 1)
        .collect();
    let p = page(
        rows,
        limit,
        |(w, _)| w.id.clone(),
        |(w, health)| with_health(views::webhook(&w, false), health),
    );
    Ok(Json(json!(p)))
}

/// The health of some of a tenant's webhooks, read at once (see
/// [`health`]).
struct Healths<'a> {
    state: &'a AppState,
    loaded: health::Loaded,
    now_ms: i64,
}

impl<'a> Healths<'a> {
    async fn read(
        state: &'a AppState,
        tenant_id: &str,
        webhooks: &[&Webhook],
    ) -> ApiResult<Healths<'a>> {
        let now_ms = herald_store::now_ms();
        let defaults = state.dispatcher().alert_defaults();
        let loaded =
            health::Loaded::read(state.store(), tenant_id, webhooks, defaults, now_ms).await?;
        Ok(Healths {
            state,
            loaded,
            now_ms,
        })
    }

    fn of(&self, webhook: &Webhook) -> (health::State, Value) {
        let dispatcher = self.state.dispatcher();
        self.loaded.health_of(
            webhook,
            dispatcher.alert_defaults(),
            dispatcher.throttled_until(&webhook.id),
            self.now_ms,
        )
    }
}

fn with_health(mut view: Value, health: Value) -> Value {
    view["health"] = health;
    view
}

/// The caller's webhook `id`, or a 404.
pub(super) async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Webhook> {
    state
        .store()
        .get_webhook(&caller.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook", id))
}

/// Read a webhook.
#[utoipa::path(get, path = "/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), responses((status = 200, description = "The webhook with its health", body = crate::api::openapi::bodies::WebhookWithHealth)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let webhook = find(&state, &caller, &id).await?;
    let healths = Healths::read(&state, &caller.tenant_id, &[&webhook]).await?;
    let (_, health) = healths.of(&webhook);
    Ok(Json(with_health(views::webhook(&webhook, false), health)))
}

/// What the webhook's retry policy means in time.
///
/// Each attempt's wait and when it starts after the first try (jitter gives
/// a range; the middle is the figure without a range), the total, and the
/// worst case counting a timeout per attempt. A destination's `Retry-After`
/// can lengthen a wait beyond this.
#[utoipa::path(get, path = "/webhooks/{id}/retry-schedule", operation_id = "getWebhookRetrySchedule", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), responses((status = 200, description = "The schedule of a delivery that keeps failing", body = RetryScheduleView)))]
pub(crate) async fn retry_schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<RetryScheduleView>> {
    let webhook = find(&state, &caller, &id).await?;
    let schedule = webhook.spec.retry.schedule(webhook.spec.timeout_ms);
    Ok(Json(RetryScheduleView {
        webhook_id: webhook.id,
        retry: webhook.spec.retry,
        schedule,
    }))
}

/// A webhook's retry policy and the schedule it gives.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct RetryScheduleView {
    webhook_id: String,
    retry: RetryPolicy,
    #[serde(flatten)]
    schedule: RetrySchedule,
}

/// Change a webhook.
///
/// Each field sent replaces the stored one; `null` resets it to its default.
/// The patch is applied to the webhook as stored when it is written: when
/// another change (the circuit breaker, a rotation, another node) lands
/// meanwhile, it is applied again to that.
#[utoipa::path(patch, path = "/webhooks/{id}", operation_id = "updateWebhook", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), request_body(content = inline(crate::api::openapi::WebhookPatch), description = "The fields to change; `null` resets one to its default"), responses((status = 200, description = "The webhook as stored", body = crate::api::openapi::bodies::Webhook), (status = 409, description = "Other changes kept landing meanwhile", body = crate::error::ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    if patch.contains_key("secret") {
        return Err(ApiError::validation(
            "secret",
            "secret cannot be changed by PATCH; use POST /api/v1/webhooks/{id}/secret/rotate",
        ));
    }
    refuse_disabled(&patch)?;
    // Types it does not have yet must not be archived; those it has stay.
    if let Some(Value::Array(types)) = patch.get("event_types") {
        let current = find(&state, &caller, &id).await?;
        let added: Vec<(String, String)> = types
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, t.as_str()?)))
            .filter(|(_, t)| !current.spec.event_types.iter().any(|c| c == t))
            .map(|(i, t)| (format!("event_types[{i}]"), t.to_string()))
            .collect();
        refuse_archived(&state, &caller.tenant_id, &added).await?;
    }
    let apply = |current: Webhook| -> ApiResult<Edit> {
        let mut merged = match serde_json::to_value(&current.spec) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::internal()),
        };
        for (key, value) in &patch {
            if value.is_null() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let (spec, _) = parse_spec(merged, &state)?;
        if current.spec.status == WebhookStatus::Disabled && spec.status != WebhookStatus::Disabled
        {
            // Leaving `disabled` (to active or paused) is enabling it again.
            return Ok(enable_edit(&caller, current, spec, false));
        }
        let before = views::webhook(&current, false);
        let mut webhook = Webhook {
            spec,
            updated_at: Utc::now(),
            ..current
        };
        webhook.ensure_key_pair();
        let audit = caller.audit(
            "webhook.updated",
            ("webhook", &webhook.id),
            Some(before),
            Some(views::webhook(&webhook, false)),
        );
        Ok(Edit::Replace { webhook, audit })
    };
    let changed = change(&state, &caller, &id, apply).await?;
    Ok(Json(views::webhook(&changed.webhook, false)))
}

/// Changes the caller's webhook `id` by `apply` (applied again when another
/// writer got there first); answers the webhook as stored, or the error to
/// answer.
pub(super) async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    apply: impl FnMut(Webhook) -> ApiResult<Edit>,
) -> ApiResult<Changed> {
    let result = state
        .dispatcher()
        .change_webhook(&caller.tenant_id, id, apply)
        .await;
    match result {
        Ok(Some(changed)) => Ok(changed),
        Ok(None) => Err(ApiError::not_found("webhook", id)),
        Err(ChangeError::Refused(e)) => Err(e),
        Err(ChangeError::Store(StoreError::Conflict(_))) => Err(ApiError::conflict("webhook")),
        Err(ChangeError::Store(e)) => Err(e.into()),
    }
}

/// `disabled` is the circuit breaker's to set, not a client's.
fn refuse_disabled(body: &Map<String, Value>) -> ApiResult<()> {
    if body.get("status").and_then(Value::as_str) == Some("disabled") {
        return Err(ApiError::validation(
            "status",
            "`disabled` is set by the circuit breaker; use `paused` to stop a webhook",
        ));
    }
    Ok(())
}

/// `current` enabled again with `spec`, audited as the caller's doing.
fn enable_edit(caller: &Caller, current: Webhook, spec: WebhookSpec, discard_held: bool) -> Edit {
    let before = views::webhook(&current, false);
    let webhook = crate::dispatch::enabled(current, spec);
    let mut after = views::webhook(&webhook, false);
    after["discard_held"] = json!(discard_held);
    let audit = caller.audit(
        "webhook.enabled",
        ("webhook", &webhook.id),
        Some(before),
        Some(after),
    );
    Edit::Enable {
        webhook,
        discard_held,
        audit,
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnableQuery {
    #[serde(default)]
    /// Drop the deliveries held while disabled instead of sending them.
    discard_held: bool,
}

/// Enable a webhook the circuit breaker disabled.
///
/// `POST /webhooks/{id}/enable`: re-enables a webhook the circuit breaker
/// disabled.
#[utoipa::path(post, path = "/webhooks/{id}/enable", operation_id = "enableWebhook", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id"), EnableQuery), responses((status = 200, description = "The webhook, enabled", body = crate::api::openapi::bodies::WebhookEnabled), (status = 409, description = "The webhook is not disabled (`invalid_state`), or kept changing (`conflict`)", body = crate::error::ErrorBody)))]
pub(crate) async fn enable_route(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<EnableQuery>,
) -> ApiResult<Json<Value>> {
    let apply = |current: Webhook| -> ApiResult<Edit> {
        if current.spec.status != WebhookStatus::Disabled {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "invalid_state",
                format!(
                    "only a disabled webhook can be enabled; this one is {}",
                    current.spec.status.as_str()
                ),
            )
            .with_field("status"));
        }
        let mut spec = current.spec.clone();
        spec.status = WebhookStatus::Active;
        Ok(enable_edit(&caller, current, spec, q.discard_held))
    };
    let Changed {
        webhook: enabled,
        discarded,
    } = change(&state, &caller, &id, apply).await?;
    let mut answer = views::webhook(&enabled, false);
    answer["discarded_held"] = json!(discarded);
    Ok(Json(answer))
}

/// Delete a webhook.
#[utoipa::path(delete, path = "/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), responses((status = 204, description = "Deleted, with its delivery log")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let deleted = delete_many(&state, &caller, std::slice::from_ref(&id)).await?;
    if deleted.is_empty() {
        return Err(ApiError::not_found("webhook", &id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the caller's webhooks among `ids`, recording each in the audit
/// log with what it was; returns the ids that existed.
async fn delete_many(state: &AppState, caller: &Caller, ids: &[String]) -> ApiResult<Vec<String>> {
    let mut audits = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(webhook) = state.store().get_webhook(&caller.tenant_id, id).await? {
            let before = views::webhook(&webhook, false);
            audits.push(caller.audit("webhook.deleted", ("webhook", id), Some(before), None));
        }
    }
    Ok(state
        .dispatcher()
        .delete_webhooks(&caller.tenant_id, audits)
        .await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkDelete {
    /// 1 to 1000 webhook ids.
    #[schema(min_items = 1, max_items = 1000)]
    ids: Vec<String>,
}

/// Delete several webhooks.
#[utoipa::path(post, path = "/webhooks/bulk-delete", operation_id = "bulkDeleteWebhooks", tag = "webhooks", request_body = BulkDelete, responses((status = 200, description = "Which ids were deleted and which were not found", body = crate::api::openapi::bodies::BulkDeleted)))]
pub(crate) async fn bulk_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<BulkDelete>,
) -> ApiResult<Json<Value>> {
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(ApiError::validation(
            "ids",
            "ids must list 1 to 1000 webhook ids",
        ));
    }
    let deleted = delete_many(&state, &caller, &body.ids).await?;
    let not_found: Vec<&String> = body.ids.iter().filter(|id| !deleted.contains(id)).collect();
    Ok(Json(json!({"deleted": deleted, "not_found": not_found})))
}

/// Read what signs a webhook's requests.
#[utoipa::path(get, path = "/webhooks/{id}/secret", operation_id = "getWebhookSecret", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), responses((status = 200, description = "What signs the webhook's requests now", body = crate::api::openapi::bodies::Signing)))]
pub(crate) async fn secret(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let webhook = find(&state, &caller, &id).await?;
    Ok(Json(views::signing(&webhook, Utc::now())))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    /// The new `whsec_…` secret; generated when absent.
    #[serde(default)]
    #[schema(schema_with = herald_core::signing::secret_schema)]
    secret: Option<String>,
    /// How long the replaced secret keeps signing; 24 when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 720)]
    grace_period_hours: Option<f64>,
}

/// Rotate a webhook's signing secret.
///
/// `POST /webhooks/{id}/secret/rotate`: a new signing secret (and a new key
/// pair for `ed25519`), while the replaced ones keep signing for the grace
/// period. Answers like `GET …/secret`.
#[utoipa::path(post, path = "/webhooks/{id}/secret/rotate", operation_id = "rotateWebhookSecret", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), request_body(content = Option<RotateRequest>, description = "Optional; an empty body generates a secret"), responses((status = 200, description = "What signs the webhook's requests now", body = crate::api::openapi::bodies::Signing), (status = 409, description = "Other changes kept landing meanwhile", body = crate::error::ErrorBody)))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<Value>> {
    let body: RotateRequest = optional_json(&state, request).await?;
    let grace = GracePeriod::from_hours(body.grace_period_hours)?;
    let secret = match &body.secret {
        Some(text) => SigningSecret::parse(text)?,
        None => SigningSecret::generate(),
    };
    let now = Utc::now();
    let rotate = |mut webhook: Webhook| -> ApiResult<Edit> {
        if secret == webhook.secret {
            return Err(ApiError::validation(
                "secret",
                "secret must differ from the current secret",
            ));
        }
        webhook.rotate_signing(secret.clone(), grace, now);
        webhook.updated_at = now;
        // The audit entry says that and how it was rotated, never with what.
        let audit = caller.audit(
            "webhook.secret_rotated",
            ("webhook", &webhook.id),
            None,
            Some(json!({
                "grace_period_hours": body.grace_period_hours.unwrap_or(24.0),
                "previous_still_signing": webhook.previous_signing.len(),
                "public_key": views::webhook(&webhook, false)["public_key"],
            })),
        );
        Ok(Edit::Replace { webhook, audit })
    };
    let Changed { webhook, .. } = change(&state, &caller, &id, rotate).await?;
    tracing::info!(
        webhook_id = %webhook.id,
        grace_period_hours = body.grace_period_hours,
        still_signing = webhook.previous_signing.len(),
        "signing secret rotated"
    );
    Ok(Json(views::signing(&webhook, now)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TestRequest {
    /// The event type sent; `herald.test` when absent.
    #[schema(min_length = 1, max_length = 255, pattern = "^[A-Za-z0-9_.:-]+$")]
    event_type: Option<String>,
    /// The event's data; when absent, the first example of the event type
    /// if it is registered with one, else a sample.
    #[schema(value_type = Option<Object>)]
    data: Option<Box<serde_json::value::RawValue>>,
}

/// Send a test event now.
///
/// Sends one signed request now, without retries, and reports the result.
#[utoipa::path(post, path = "/webhooks/{id}/test", operation_id = "testWebhook", tag = "webhooks", params(("id" = String, Path, description = "The webhook's id")), request_body(content = Option<TestRequest>, description = "Optional; a `herald.test` sample when empty"), responses((status = 200, description = "What the destination answered", body = crate::api::openapi::bodies::TestResult)))]
pub(crate) async fn test_send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<Value>> {
    let body: TestRequest = optional_json(&state, request).await?;
    find(&state, &caller, &id).await?;
    let route = state
        .registry()
        .get(&id)
        .ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let event_type = match &body.event_type {
        Some(t) => EventType::parse("event_type", t)?.to_string(),
        None => "herald.test".to_string(),
    };
    let sample =
        json!({"message": "This is a test event from Herald.", "webhook_id": id}).to_string();
    // A registered type's first example stands in for missing data.
    let example = match (&body.data, &body.event_type) {
        (None, Some(_)) => first_example(&state, &caller.tenant_id, &event_type).await?,
        _ => None,
    };
    let data = match (body.data, example) {
        (Some(d), _) => d,
        (None, Some(example)) => serde_json::value::RawValue::from_string(example.to_string())
            .map_err(|_| ApiError::internal())?,
        (None, None) => {
            serde_json::value::RawValue::from_string(sample).map_err(|_| ApiError::internal())?
        }
    };
    let now = Utc::now();
    let event_id = ids::new_id(ids::EVENT);
    let event = NewEvent {
        body: webhook_body(&event_id, &event_type, now, &data),
        id: event_id,
        event_type,
        source: Some("herald.test".to_string()),
        idempotency_key: None,
        created_at_ms: now.timestamp_millis(),
        ordering_keys: Vec::new(),
        traceparent: None,
        deliver_at_ms: None,
        digest_at_ms: Vec::new(),
        schema_errors: None,
        webhook_ids: vec![id.clone()],
    };
    let claimed = state
        .store()
        .insert_test_delivery(&caller.tenant_id, event, &id)
        .await?;
    let (delivery_id, event_id) = (claimed.id.clone(), claimed.event_id.clone());
    let report = state.dispatcher().send_now(route, claimed).await?;
    Ok(Json(json!({
        "success": report.success,
        "status_code": report.status_code,
        "duration_ms": report.duration_ms,
        "response_body": report.response_body,
        "error": report.error,
        "delivery_id": delivery_id,
        "event_id": event_id,
    })))
}
