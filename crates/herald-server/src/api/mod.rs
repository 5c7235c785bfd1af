//! The REST API under `/api/v1`: routing, authentication and shared state.

mod deliveries;
mod events;
mod extract;
mod pagination;
mod providers;
mod replay;
mod stats;
mod views;
mod webhooks;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_core::ids::DEFAULT_TENANT;
use herald_core::webhook::UrlPolicy;
use herald_store::Store;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::config::Settings;
use crate::dispatch::Dispatcher;
use crate::error::ApiError;
use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    store: Store,
    registry: Arc<Registry>,
    dispatcher: Dispatcher,
    admin_token: SecretString,
    url_policy: UrlPolicy,
    max_body_bytes: usize,
}

impl AppState {
    pub(crate) fn new(
        store: Store,
        registry: Arc<Registry>,
        dispatcher: Dispatcher,
        admin_token: SecretString,
        settings: &Settings,
    ) -> AppState {
        AppState {
            inner: Arc::new(StateInner {
                store,
                registry,
                dispatcher,
                admin_token,
                url_policy: settings.url_policy(),
                max_body_bytes: settings.max_body_bytes,
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }
    pub(crate) fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }
    pub(crate) fn admin_token(&self) -> &str {
        self.inner.admin_token.expose_secret()
    }
    pub(crate) fn url_policy(&self) -> &UrlPolicy {
        &self.inner.url_policy
    }
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }
}

/// Who is calling: set by the auth layer for every `/api/v1` request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant_id: String,
}

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/bulk-delete", post(webhooks::bulk_delete))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/secret", get(webhooks::secret))
        .route("/webhooks/{id}/test", post(webhooks::test_send))
        .route("/webhooks/{id}/enable", post(webhooks::enable_route))
        .route("/webhooks/{id}/retry", post(replay::retry_failed))
        .route(
            "/webhooks/{id}/deliveries",
            get(deliveries::list_for_webhook),
        )
        .route("/events", post(events::create).get(events::list))
        .route("/events/batch", post(events::create_batch))
        .route("/events/{id}", get(events::get))
        .route("/events/{id}/replay", post(replay::replay_event))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/stats", get(stats::get))
        .route("/providers", get(providers::list))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));

    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Checks the bearer token in constant time and records the caller.
async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    let expected = state.admin_token().as_bytes();
    if !bool::from(presented.as_bytes().ct_eq(expected)) {
        return Err(ApiError::unauthorized());
    }
    request.extensions_mut().insert(Caller {
        tenant_id: DEFAULT_TENANT.to_string(),
    });
    Ok(next.run(request).await)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "reason": "database"})),
            )
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}
