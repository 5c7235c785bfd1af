//! `/api/v1/tenants`: the operator's routes (admin token only) to create
//! and delete tenants and to issue and revoke their API keys.
//!
//! Tenant changes are recorded in the operator's own audit log (the default
//! tenant's, which outlives any tenant) and in the tenant's; key changes in
//! the tenant's.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_core::event::{format_time, from_millis};
use herald_core::ids::{self, DEFAULT_TENANT};
use herald_core::validation::check_len;
use herald_store::prelude::*;
use herald_store::{ApiKeyRow, TenantRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::new_api_key;
use super::extract::JsonBody;
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};
use crate::schemas::Mode;

fn tenant_view(t: &TenantRow, mode: Mode) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "schema_validation": mode,
        "created_at": format_time(from_millis(t.created_at_ms)),
    })
}

/// The tenant's schema validation mode as stored (`off` when unreadable
/// as one, which the API never writes).
async fn mode_of(state: &AppState, id: &str) -> ApiResult<Mode> {
    Ok(state
        .store()
        .schema_validation(id)
        .await?
        .and_then(|m| Mode::parse(&m))
        .unwrap_or_default())
}

fn key_view(k: &ApiKeyRow) -> Value {
    json!({"id": k.id, "tenant_id": k.tenant_id, "created_at": format_time(from_millis(k.created_at_ms))})
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenant {
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    name: String,
}

/// Create a tenant.
///
/// `POST /tenants`: the answer carries the first API key, shown only here.
#[utoipa::path(post, path = "/tenants", operation_id = "createTenant", tag = "tenants", request_body = NewTenant, responses((status = 201, description = "The tenant with its first API key", body = crate::api::openapi::bodies::TenantCreated)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewTenant>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    check_len("name", body.name.trim(), 1, 255)?;
    let tenant = TenantRow {
        id: ids::new_id(ids::TENANT),
        name: body.name.trim().to_string(),
        created_at_ms: herald_store::now_ms(),
    };
    let (key, key_text) = new_api_key(&tenant.id);
    let view = tenant_view(&tenant, Mode::Off);
    let resource = ("tenant", tenant.id.as_str());
    // Recorded in the operator's log and the tenant's own.
    let mut audits: Vec<_> = [DEFAULT_TENANT, tenant.id.as_str()]
        .into_iter()
        .map(|log| caller.audit_in(log, "tenant.created", resource, None, Some(view.clone())))
        .collect();
    audits.push(caller.audit_in(
        &tenant.id,
        "key.created",
        ("api_key", &key.id),
        None,
        Some(key_view(&key)),
    ));
    state
        .store()
        .create_tenant(tenant.clone(), key.clone(), audits)
        .await?;
    tracing::info!(tenant_id = %tenant.id, "tenant created");
    let mut answer = view;
    answer["api_key"] = json!(key_text);
    answer["api_key_id"] = json!(key.id);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// List tenants.
#[utoipa::path(get, path = "/tenants", operation_id = "listTenants", tag = "tenants", responses((status = 200, description = "Every tenant", body = crate::api::openapi::bodies::Tenants)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let tenants = state.store().list_tenants().await?;
    let mut data = Vec::with_capacity(tenants.len());
    for t in &tenants {
        data.push(tenant_view(t, mode_of(&state, &t.id).await?));
    }
    Ok(Json(json!({"data": data})))
}

async fn find(state: &AppState, id: &str) -> ApiResult<TenantRow> {
    state
        .store()
        .get_tenant(id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant", id))
}

/// Read a tenant.
///
/// `GET /tenants/{id}`: the tenant with its keys (ids only).
#[utoipa::path(get, path = "/tenants/{id}", operation_id = "getTenant", tag = "tenants", params(("id" = String, Path, description = "The tenant's id")), responses((status = 200, description = "The tenant with its keys", body = crate::api::openapi::bodies::TenantDetail)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let tenant = find(&state, &id).await?;
    let keys = state.store().api_keys(&id).await?;
    let mut view = tenant_view(&tenant, mode_of(&state, &id).await?);
    view["keys"] = keys.iter().map(key_view).collect();
    Ok(Json(view))
}

/// Delete a tenant.
///
/// `DELETE /tenants/{id}`: the tenant and everything it owns; its keys stop
/// working at once.
#[utoipa::path(delete, path = "/tenants/{id}", operation_id = "deleteTenant", tag = "tenants", params(("id" = String, Path, description = "The tenant's id")), responses((status = 204, description = "Deleted with everything it owned"), (status = 409, description = "The default tenant cannot be deleted", body = crate::error::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    if id == DEFAULT_TENANT {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            "the default tenant cannot be deleted",
        )
        .with_field("id"));
    }
    let tenant = find(&state, &id).await?;
    let before = Some(tenant_view(&tenant, mode_of(&state, &id).await?));
    let resource = ("tenant", id.as_str());
    let audits = [DEFAULT_TENANT, id.as_str()]
        .into_iter()
        .map(|log| caller.audit_in(log, "tenant.deleted", resource, before.clone(), None))
        .collect();
    let webhook_ids = state
        .store()
        .delete_tenant(&id, audits)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant", &id))?;
    state.dispatcher().unroute_webhooks(&webhook_ids);
    state.schemas().changed(&id);
    tracing::info!(tenant_id = %id, webhooks = webhook_ids.len(), "tenant deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantPatch {
    /// How strictly ingest holds events to their registered type's schema:
    /// `off` (the default: not checked), `warn` (accepted, the errors
    /// recorded on the event) or `reject` (a 422 naming the pointer into
    /// the data; nothing stored, for a batch too).
    #[schema(value_type = Option<String>, pattern = "^(off|warn|reject)$")]
    schema_validation: Option<String>,
}

/// Change a tenant.
///
/// `PATCH /tenants/{id}`: its schema validation mode.
#[utoipa::path(patch, path = "/tenants/{id}", operation_id = "updateTenant", tag = "tenants", params(("id" = String, Path, description = "The tenant's id")), request_body = TenantPatch, responses((status = 200, description = "The tenant as stored", body = crate::api::openapi::bodies::Tenant)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TenantPatch>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let tenant = find(&state, &id).await?;
    let before = mode_of(&state, &id).await?;
    let Some(text) = body.schema_validation else {
        return Ok(Json(tenant_view(&tenant, before)));
    };
    let mode = Mode::parse(&text).ok_or_else(|| {
        ApiError::validation(
            "schema_validation",
            "schema_validation must be `off`, `warn` or `reject`",
        )
    })?;
    // Recorded in the tenant's own log, where its other settings are.
    let audit = caller.audit_in(
        &id,
        "tenant.updated",
        ("tenant", id.as_str()),
        Some(tenant_view(&tenant, before)),
        Some(tenant_view(&tenant, mode)),
    );
    if !state
        .store()
        .set_schema_validation(&id, mode.as_str(), audit)
        .await?
    {
        return Err(ApiError::not_found("tenant", &id));
    }
    state.schemas().changed(&id);
    tracing::info!(tenant_id = %id, schema_validation = mode.as_str(), "tenant changed");
    Ok(Json(tenant_view(&tenant, mode)))
}

/// Issue an API key.
///
/// `POST /tenants/{id}/keys`: another key (shown only in this answer), for
/// rotating keys without downtime.
#[utoipa::path(post, path = "/tenants/{id}/keys", operation_id = "createApiKey", tag = "tenants", params(("id" = String, Path, description = "The tenant's id")), responses((status = 201, description = "The new key, shown only here", body = crate::api::openapi::bodies::ApiKeyCreated)))]
pub(crate) async fn add_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let (key, key_text) = new_api_key(&id);
    let mut view = key_view(&key);
    let audit = caller.audit_in(
        &id,
        "key.created",
        ("api_key", &key.id),
        None,
        Some(view.clone()),
    );
    if !state.store().add_api_key(key, audit).await? {
        return Err(ApiError::not_found("tenant", &id));
    }
    view["api_key"] = json!(key_text);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Revoke an API key.
///
/// `DELETE /tenants/{id}/keys/{key_id}`: revoked at once (every request
/// looks its key up).
#[utoipa::path(delete, path = "/tenants/{id}/keys/{key_id}", operation_id = "revokeApiKey", tag = "tenants", params(("id" = String, Path, description = "The tenant's id"), ("key_id" = String, Path, description = "The key's id")), responses((status = 204, description = "Revoked at once")))]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let audit = caller.audit_in(
        &id,
        "key.revoked",
        ("api_key", &key_id),
        Some(json!({"id": key_id})),
        None,
    );
    if !state.store().revoke_api_key(&id, &key_id, audit).await? {
        return Err(ApiError::not_found("api key", &key_id));
    }
    tracing::info!(tenant_id = %id, key_id = %key_id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
