//! `POST /api/v1/tenants/{id}/portal-links`: a one-time address that opens
//! a console session scoped to one tenant, for an application to hand to
//! its own customer (or put in an iframe).
//!
//! The link's token is shown only in this answer; the store keeps its
//! SHA-256, and spends it on first use (atomically, so two nodes cannot
//! both open it). The session it opens lives on by its own expiry.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_core::event::{format_time, from_millis};
use herald_store::PortalLinkRow;
use herald_store::prelude::*;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::extract::optional_json;
use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};

/// The parts of the console a session can be limited to.
pub(crate) const CONSOLE_FEATURES: [&str; 6] = [
    "webhooks",
    "deliveries",
    "events",
    "event_types",
    "schedules",
    "audit",
];

/// Where a portal link points, followed by its token.
pub(crate) const PORTAL_PATH: &str = "/ui/portal/";

/// How long a link may wait to be opened, by default and at most.
const LINK_TTL_SECS: (u64, u64) = (600, 86_400);
/// How long the session it opens lasts, by default and at most.
const SESSION_TTL_SECS: (u64, u64) = (3_600, 7 * 86_400);

/// The body of a portal link request; every field is optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalLinkRequest {
    /// The session may look but not change anything (default `false`).
    #[serde(default)]
    read_only: bool,
    /// The console sections the session may open (default: all of
    /// them).
    #[serde(default)]
    #[schema(value_type = Option<Vec<crate::api::openapi::bodies::ConsoleFeature>>, min_items = 1)]
    features: Option<Vec<String>>,
    /// Seconds the link stays valid unopened (default 600).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86400)]
    expires_in_seconds: Option<u64>,
    /// Seconds the opened session lasts (default 3600).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 604800)]
    session_seconds: Option<u64>,
}

/// A seconds field within `1..=max`, or its default.
fn seconds(field: &str, value: Option<u64>, (default, max): (u64, u64)) -> ApiResult<i64> {
    match value {
        None => Ok(default as i64 * 1000),
        Some(s) if (1..=max).contains(&s) => Ok(s as i64 * 1000),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be between 1 and {max}"),
        )),
    }
}

fn checked_features(features: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    let Some(features) = features else {
        return Ok(None);
    };
    if features.is_empty() {
        return Err(ApiError::validation(
            "features",
            "features must name at least one section (leave it out for all)",
        ));
    }
    for (i, f) in features.iter().enumerate() {
        if !CONSOLE_FEATURES.contains(&f.as_str()) {
            return Err(ApiError::validation(
                format!("features[{i}]"),
                format!(
                    "features[{i}] `{f}` is not a console section; use {}",
                    CONSOLE_FEATURES.join(", ")
                ),
            ));
        }
    }
    Ok(Some(features))
}

/// The address clients reached this server at, for the link's `url`: the
/// `Host` they used, behind a proxy's `X-Forwarded-Proto` when one says.
fn base_url(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v == "https" || *v == "http")
        .unwrap_or("http");
    Some(format!("{scheme}://{host}"))
}

/// Create a tenant portal link.
///
/// `POST /tenants/{id}/portal-links` (admin token): a one-time console
/// address scoped to the tenant, optionally read-only or limited to some
/// sections. The link works once, within `expires_in_seconds`; opening it
/// starts a console session of `session_seconds`.
#[utoipa::path(post, path = "/tenants/{id}/portal-links", operation_id = "createPortalLink", tag = "tenants", params(("id" = String, Path, description = "The tenant's id")), request_body(content = Option<PortalLinkRequest>, description = "Every field optional"), responses((status = 201, description = "The link, shown only here", body = crate::api::openapi::bodies::PortalLink)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let headers = request.headers().clone();
    // The body is optional: none is a link with every default.
    let body: PortalLinkRequest = optional_json(&state, request).await?;
    let link_ttl = seconds("expires_in_seconds", body.expires_in_seconds, LINK_TTL_SECS)?;
    let session_ttl = seconds("session_seconds", body.session_seconds, SESSION_TTL_SECS)?;
    let features = checked_features(body.features)?;
    if state.store().get_tenant(&id).await?.is_none() {
        return Err(ApiError::not_found("tenant", &id));
    }
    let token = crate::tokens::random_token();
    let now = herald_store::now_ms();
    let row = PortalLinkRow {
        token_hash: Sha256::digest(token.as_bytes()).to_vec(),
        tenant_id: id.clone(),
        read_only: body.read_only,
        features: features.clone(),
        session_ttl_ms: session_ttl,
        created_at_ms: now,
        expires_at_ms: now + link_ttl,
    };
    let view = json!({
        "tenant_id": id,
        "read_only": body.read_only,
        "features": features,
        "expires_at": format_time(from_millis(row.expires_at_ms)),
        "session_seconds": session_ttl / 1000,
    });
    let audit = caller.audit_in(
        &id,
        "portal_link.created",
        ("tenant", &id),
        None,
        Some(view.clone()),
    );
    state.store().insert_portal_link(row, audit).await?;
    let path = format!("{PORTAL_PATH}{token}");
    let mut answer = view;
    answer["url"] = json!(base_url(&headers).map(|base| format!("{base}{path}")));
    answer["path"] = json!(path);
    tracing::info!(tenant_id = %id, read_only = body.read_only, "portal link created");
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn the_spec_lists_exactly_the_sections_the_handler_takes() {
        let schema =
            serde_json::to_value(crate::api::openapi::bodies::ConsoleFeature::schema()).unwrap();
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(listed, CONSOLE_FEATURES);
    }
}
