//! The console's pages, one module per section.

pub(crate) mod deliveries;
pub(crate) mod events;
pub(crate) mod overview;
pub(crate) mod registry;
pub(crate) mod tenants;
pub(crate) mod webhook_form;
pub(crate) mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;

use super::ConsoleState;
use super::layout;

pub(crate) fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/ui/webhooks", get(webhooks::list))
        .route("/ui/webhooks/bulk", post(webhooks::bulk))
        .route(
            "/ui/webhooks/new",
            get(webhook_form::new).post(webhook_form::create),
        )
        .route("/ui/webhooks/{id}", get(webhooks::show))
        .route(
            "/ui/webhooks/{id}/edit",
            get(webhook_form::edit).post(webhook_form::update),
        )
        .route("/ui/webhooks/{id}/test", post(webhooks::test_send))
        .route("/ui/webhooks/{id}/status", post(webhooks::set_status))
        .route("/ui/webhooks/{id}/enable", post(webhooks::enable))
        .route(
            "/ui/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/ui/webhooks/{id}/retry-failed",
            post(webhooks::retry_failed),
        )
        .route("/ui/webhooks/{id}/delete", post(webhooks::delete))
        .route("/ui/deliveries", get(deliveries::list))
        .route("/ui/deliveries/{id}", get(deliveries::show))
        .route("/ui/deliveries/{id}/retry", post(deliveries::retry))
        .route("/ui/events", get(events::list))
        .route("/ui/events/{id}", get(events::show))
        .route("/ui/events/{id}/replay", post(events::replay))
        .route("/ui/event-types", get(registry::event_types))
        .route("/ui/schedules", get(registry::schedules))
        .route("/ui/schedules/{id}/{action}", post(registry::set_schedule))
        .route("/ui/providers", get(registry::providers))
        .route("/ui/audit", get(registry::audit))
        .route("/ui/tenants", get(tenants::list).post(tenants::create))
        .route("/ui/tenants/{id}/keys", post(tenants::issue_key))
        .route(
            "/ui/tenants/{id}/keys/{key_id}/revoke",
            post(tenants::revoke_key),
        )
        .route("/ui/tenants/{id}/portal-link", post(tenants::portal_link))
}

/// Any other `/ui/…` address.
pub(crate) async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        layout::bare(
            "Not found",
            html! {
                h1 { "Not found" }
                p { "There is no console page at this address." }
                p { a href="/ui" { "Go to the overview" } }
            },
        ),
    )
        .into_response()
}
