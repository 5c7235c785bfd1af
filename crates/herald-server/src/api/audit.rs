//! `GET /api/v1/audit`: the caller's tenant's audit log, newest first.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use herald_core::event::{format_time, from_millis};
use herald_store::prelude::*;
use herald_store::{AuditFilter, AuditRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::QueryParams;
use super::pagination::{self, encode_seq, page};
use super::{AppState, Caller};
use crate::error::ApiResult;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only entries about this webhook, tenant or key.
    #[param(pattern = "^[^\\u0000]*$")]
    resource_id: Option<String>,
    /// Items per page, 1–250 (default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^s[1-9][0-9]{0,17}$")]
    cursor: Option<String>,
}

fn view(row: AuditRow) -> Value {
    let e = row.entry;
    json!({
        "id": row.id,
        "actor": e.actor,
        "action": e.action,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "before": e.before,
        "after": e.after,
        "created_at": format_time(from_millis(e.at_ms)),
    })
}

/// Read the audit log.
#[utoipa::path(get, path = "/audit", operation_id = "listAuditLog", tag = "audit", params(ListQuery), responses((status = 200, description = "A page of the audit log", body = crate::api::openapi::bodies::AuditPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = pagination::limit(q.limit)?;
    let rows = state
        .store()
        .list_audit(AuditFilter {
            tenant_id: caller.tenant_id,
            resource_id: q.resource_id,
            before_seq: pagination::seq_cursor(q.cursor.as_deref())?,
            limit: limit + 1,
        })
        .await?;
    Ok(Json(json!(page(rows, limit, |r| encode_seq(r.seq), view))))
}
