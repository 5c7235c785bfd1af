//! `/api/v1/stats`: counts of deliveries by state, for dashboards, alerts
//! and the benchmark's "everything recorded" check, and how long the
//! tenant's oldest waiting delivery has waited.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use herald_core::delivery::DeliveryStatus;
use herald_store::now_ms;
use herald_store::prelude::*;
use serde_json::{Map, Value, json};

use super::{AppState, Caller};
use crate::error::ApiResult;

/// Count deliveries by state.
///
/// Also says how long the oldest delivery waiting to be sent has waited.
#[utoipa::path(get, path = "/stats", operation_id = "getStats", tag = "analytics", responses((status = 200, description = "Deliveries by state, and the queue's oldest wait", body = crate::api::openapi::bodies::Stats)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let (counts, oldest) = tokio::try_join!(
        store.delivery_counts(&caller.tenant_id),
        store.oldest_waiting_at(&caller.tenant_id),
    )?;
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
    let queue = json!({ "oldest_pending_age_seconds": age_seconds(oldest, now_ms()) });
    Ok(Json(json!({ "deliveries": deliveries, "queue": queue })))
}

/// Seconds (to the millisecond) since `queued_at_ms`, as the metric
/// `herald_queue_oldest_pending_age_seconds` counts them; never negative,
/// since another node's clock may run a little ahead of this one's.
fn age_seconds(queued_at_ms: Option<i64>, now_ms: i64) -> Option<f64> {
    queued_at_ms.map(|at| (now_ms - at).max(0) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::age_seconds;

    #[test]
    fn age_is_in_seconds_and_never_negative() {
        assert_eq!(age_seconds(None, 10_000), None);
        assert_eq!(age_seconds(Some(7_500), 10_000), Some(2.5));
        assert_eq!(age_seconds(Some(10_200), 10_000), Some(0.0));
    }
}
