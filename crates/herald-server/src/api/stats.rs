//! `/api/v1/stats`: counts of deliveries by state, for dashboards, alerts
//! and the benchmark's "everything recorded" check.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use herald_core::delivery::DeliveryStatus;
use herald_store::prelude::*;
use serde_json::{Map, Value, json};

use super::{AppState, Caller};
use crate::error::ApiResult;

/// Count deliveries by state.
#[utoipa::path(get, path = "/stats", operation_id = "getStats", tag = "analytics", responses((status = 200, description = "Deliveries by state", body = crate::api::openapi::bodies::Stats)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let counts = state.store().delivery_counts(&caller.tenant_id).await?;
    let mut deliveries: Map<String, Value> = DeliveryStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), json!(0)))
        .collect();
    let mut total = 0;
    for (status, n) in counts {
        deliveries.insert(status.as_str().to_string(), json!(n));
        total += n;
    }
    deliveries.insert("total".to_string(), json!(total));
    Ok(Json(json!({ "deliveries": deliveries })))
}
