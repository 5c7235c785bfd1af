//! `/api/v1/providers`: the integration catalog a UI or CLI builds its
//! forms from.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use crate::error::{ApiError, ApiResult};

/// List the provider catalog.
///
/// Every provider with its settings, limits and default rate, the steps to
/// set it up, what it sends for an example event, and whether this server
/// has it switched on.
#[utoipa::path(get, path = "/providers", operation_id = "listProviders", tag = "providers", responses((status = 200, description = "The provider catalog", body = crate::api::openapi::bodies::Providers)))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut data = Vec::new();
    for info in herald_providers::catalog() {
        let mut entry = serde_json::to_value(&info).map_err(|_| ApiError::internal())?;
        let enabled = herald_providers::ProviderKind::parse(info.name)
            .is_some_and(|kind| !state.dispatcher().provider_disabled(kind));
        entry["enabled"] = json!(enabled);
        if let Some(kind) = herald_providers::ProviderKind::parse(info.name) {
            entry["example"] = herald_providers::example_payload(kind);
        }
        data.push(entry);
    }
    Ok(Json(json!({ "data": data })))
}
