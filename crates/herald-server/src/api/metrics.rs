//! `GET /metrics`: the Prometheus exposition (text format 0.0.4). On the
//! API listener it needs the admin token (it describes every tenant's
//! traffic); on `--metrics-listen` it is open, for a Prometheus on a
//! private network.

use std::collections::HashMap;

use std::time::Instant;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_core::webhook::WebhookStatus;
use herald_store::now_ms;
use herald_store::prelude::*;

use super::{AppState, Caller};
use crate::error::ApiResult;

/// The API listener's `/metrics`: the admin token only.
pub(crate) async fn with_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    Ok(exposition(&state).await)
}

/// The metrics listener's `/metrics`: no token.
pub(crate) async fn open(State(state): State<AppState>) -> Response {
    exposition(&state).await
}

async fn exposition(state: &AppState) -> Response {
    let metrics = state.metrics();
    let mut webhooks: HashMap<&'static str, u64> = HashMap::new();
    for route in state.registry().all() {
        let status = match route.webhook.spec.status {
            WebhookStatus::Active => "active",
            WebhookStatus::Paused => "paused",
            WebhookStatus::Disabled => "disabled",
        };
        *webhooks.entry(status).or_default() += 1;
    }
    metrics.set_webhooks(&webhooks);
    if metrics.queue_due() {
        // A scrape still answers when the database does not: the queue
        // gauges keep their last figures and the error is logged.
        match state.store().queue_stats().await {
            Ok(stats) => metrics.set_queue(stats, now_ms()),
            Err(error) => tracing::warn!(%error, "metrics: cannot read the queue figures"),
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
        .into_response()
}

/// Around the ingest routes: how long each request took, from its first
/// byte to the answer (the commit included), and the refused ones.
pub(crate) async fn count_ingest(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let refused = !response.status().is_success();
    state.metrics().ingest_request(started.elapsed(), refused);
    response
}
