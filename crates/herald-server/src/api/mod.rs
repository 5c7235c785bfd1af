//! The REST API under `/api/v1`: routing, authentication and shared state.

mod analytics;
mod audit;
mod auth;
mod deliveries;
mod event_types;
pub(crate) mod events;
mod extract;
mod filter_test;
mod ingest_limit;
pub(crate) mod mcp;
mod metrics;
mod nul;
pub(crate) mod openapi;
mod pagination;
mod portal_links;
mod providers;
mod replay;
pub(crate) mod schedules;
mod stats;
mod subscriptions;
mod tenants;
mod views;
mod webhooks;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use herald_core::webhook::UrlPolicy;
use herald_store::prelude::*;
use herald_store::{Store, StoreError};
use secrecy::{ExposeSecret, SecretString};

pub(crate) use auth::{Actor, Caller, ProvenCaller, identify};
use ingest_limit::TenantIngestLimit;
pub(crate) use portal_links::CONSOLE_FEATURES;
use schedules::Scheduler;

use crate::config::Settings;
use crate::dispatch::Dispatcher;
use crate::error::{self, ApiError};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::schemas::Schemas;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    store: Store,
    registry: Arc<Registry>,
    dispatcher: Dispatcher,
    metrics: Metrics,
    admin_token: SecretString,
    url_policy: UrlPolicy,
    max_body_bytes: usize,
    max_event_data_bytes: usize,
    ingest_limit: Option<TenantIngestLimit>,
    scheduler: Scheduler,
    schemas: Arc<Schemas>,
}

impl AppState {
    pub(crate) fn new(
        store: Store,
        registry: Arc<Registry>,
        dispatcher: Dispatcher,
        metrics: Metrics,
        admin_token: SecretString,
        settings: &Settings,
    ) -> AppState {
        AppState {
            inner: Arc::new(StateInner {
                store: store.clone(),
                registry,
                dispatcher,
                metrics,
                admin_token,
                url_policy: settings.url_policy(),
                max_body_bytes: settings.max_body_bytes,
                max_event_data_bytes: settings.max_event_data_bytes,
                ingest_limit: settings
                    .tenant_events_per_second
                    .map(TenantIngestLimit::new),
                scheduler: Scheduler::default(),
                schemas: Arc::new(Schemas::new(store.clone())),
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
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
    pub(crate) fn max_event_data_bytes(&self) -> usize {
        self.inner.max_event_data_bytes
    }
    /// The schedules' ticker, told of every change made here.
    pub(crate) fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }
    /// The tenants' event types and compiled schemas.
    pub(crate) fn schemas(&self) -> &Arc<Schemas> {
        &self.inner.schemas
    }
    /// Takes `events` from the tenant's ingest budget, if one is set.
    pub(crate) fn admit_events(&self, tenant_id: &str, events: usize) -> error::ApiResult<()> {
        match &self.inner.ingest_limit {
            Some(limit) => limit.check(tenant_id, events),
            None => Ok(()),
        }
    }
}

/// The HTTP routes. A worker-only node serves health and readiness and
/// nothing else: it has no API to balance load to. `mcp` is the `/mcp`
/// route (see [`mcp`]) and `console` the web console, each served beside
/// the API.
pub(crate) fn router(
    state: AppState,
    serves_api: bool,
    mcp: Option<Router<AppState>>,
    console: Option<Router<AppState>>,
) -> Router {
    // Every role serves health, and its metrics to the admin token.
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(
            Router::new()
                .route("/metrics", get(metrics::with_token))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::authenticate,
                )),
        );
    if !serves_api {
        return health
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(state)
            .layer(answer_panics());
    }
    // The spec and its docs page are public: they describe the API, and
    // hold nothing of any tenant's.
    let docs = Router::new()
        .route("/api/v1/openapi.json", get(openapi::serve_spec))
        .route("/docs", get(openapi::docs_page))
        .route("/docs/{file}", get(openapi::docs_script));
    health
        .merge(docs)
        .merge(mcp.unwrap_or_default())
        .merge(console.unwrap_or_default())
        .nest("/api/v1", v1_routes(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(answer_panics())
}

/// `/api/v1` alone, for callers inside the server (the console): the very
/// routes, checks and handlers clients reach, called without a socket.
/// A request carrying an [`auth::ProvenCaller`] acts for that caller.
pub(crate) fn in_process(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", v1_routes(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(answer_panics())
}

/// Every route under `/api/v1`, behind authentication.
fn v1_routes(state: &AppState) -> Router<AppState> {
    // Ingest's own metrics: how long each request took, which were refused.
    let count_ingest = || middleware::from_fn_with_state(state.clone(), metrics::count_ingest);
    Router::new()
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/bulk-delete", post(webhooks::bulk_delete))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/secret", get(webhooks::secret))
        .route(
            "/webhooks/{id}/secret/rotate",
            post(webhooks::rotate_secret),
        )
        .route("/webhooks/{id}/test", post(webhooks::test_send))
        .route("/webhooks/{id}/filter/test", post(filter_test::test))
        .route("/webhooks/{id}/enable", post(webhooks::enable_route))
        .route("/webhooks/{id}/subscriptions", get(subscriptions::list))
        .route(
            "/webhooks/{id}/subscriptions/{event_type}",
            post(subscriptions::subscribe).delete(subscriptions::unsubscribe),
        )
        .route(
            "/webhooks/{id}/retry-schedule",
            get(webhooks::retry_schedule),
        )
        .route("/webhooks/{id}/retry", post(replay::retry_failed))
        .route(
            "/webhooks/{id}/deliveries",
            get(deliveries::list_for_webhook),
        )
        .route(
            "/events",
            post(events::create)
                .route_layer(count_ingest())
                .get(events::list),
        )
        .route(
            "/events/batch",
            post(events::create_batch).route_layer(count_ingest()),
        )
        .route("/events/{id}", get(events::get))
        .route("/events/{id}/replay", post(replay::replay_event))
        .route("/events/{id}/cancel", post(events::cancel))
        .route(
            "/event-types",
            post(event_types::create).get(event_types::list),
        )
        .route(
            "/event-types/{name}",
            get(event_types::get)
                .patch(event_types::update)
                .delete(event_types::delete),
        )
        .route("/event-types/{name}/webhooks", get(event_types::webhooks))
        .route("/schedules", post(schedules::create).get(schedules::list))
        .route(
            "/schedules/{id}",
            get(schedules::get)
                .patch(schedules::update)
                .delete(schedules::delete),
        )
        .route("/schedules/{id}/pause", post(schedules::pause))
        .route("/schedules/{id}/resume", post(schedules::resume))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/stats", get(stats::get))
        .route("/stats/summary", get(analytics::summary))
        .route("/analytics", get(analytics::range))
        .route("/tags", get(analytics::tags))
        .route("/webhooks/{id}/analytics", get(analytics::webhook))
        .route("/providers", get(providers::list))
        .route("/audit", get(audit::list))
        .route("/tenants", post(tenants::create).get(tenants::list))
        .route(
            "/tenants/{id}",
            get(tenants::get)
                .patch(tenants::update)
                .delete(tenants::delete),
        )
        .route("/tenants/{id}/keys", post(tenants::add_key))
        .route("/tenants/{id}/keys/{key_id}", delete(tenants::revoke_key))
        .route("/tenants/{id}/portal-links", post(portal_links::create))
        // Inside authentication: a request without a token is a 401 first.
        .route_layer(middleware::from_fn(nul::refuse_nul))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
}

/// The `--metrics-listen` listener: `/metrics` without a token, and
/// nothing else.
pub(crate) fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::open))
        .fallback(not_found)
        .with_state(state)
        .layer(answer_panics())
}

/// A handler that panics still answers: a logged, opaque 500 (the panic
/// itself is logged by the panic hook), never a dropped connection.
fn answer_panics()
-> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    fn internal(_: Box<dyn std::any::Any + Send>) -> Response {
        ApiError::internal().into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(internal as fn(_) -> _)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Ready when the database answers and takes a write now: a node whose
/// disk is full answers reads but must not be sent work.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = async {
        state.store().ping().await?;
        state.store().check_writes().await
    };
    match check.await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let reason = match e {
                StoreError::StorageFull(_) | StoreError::ReadOnly(_) => "storage_unavailable",
                _ => "database",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "reason": reason})),
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
