//! The web console at `/ui`: server-rendered HTML (maud templates), one
//! first-party stylesheet and script compiled into the binary, no
//! front-end build and nothing loaded from any other host.
//!
//! It is a client of the API living in the same process ([`page`]): every
//! page reads through `/api/v1`, and every form posts to a console route
//! that calls `/api/v1` for the session's caller. Sign-in, sessions and
//! tenant portal links are in [`sign_in`] and [`session`].

mod assets;
mod chart;
mod headers;
mod layout;
mod page;
mod pages;
mod session;
mod sign_in;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::api::{self, AppState};

/// What the console is served with.
pub(crate) struct Options {
    /// Cookies are `Secure` (and `__Host-` named): outside dev mode.
    pub(crate) secure_cookies: bool,
    /// Origins that may embed the console in a frame (portal embedding);
    /// empty: none may.
    pub(crate) frame_ancestors: Vec<String>,
}

/// What every console handler reaches.
#[derive(Clone)]
pub(crate) struct ConsoleState {
    app: AppState,
    /// `/api/v1`, called in process.
    api: Router,
    secure_cookies: bool,
    /// The `Content-Security-Policy` of every console answer.
    policy: Arc<str>,
}

/// The console's routes, beside the API's.
pub(crate) fn routes(state: &AppState, options: Options) -> Router<AppState> {
    let console = ConsoleState {
        app: state.clone(),
        api: api::in_process(state.clone()),
        secure_cookies: options.secure_cookies,
        policy: headers::policy(&options.frame_ancestors).into(),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(pages::overview::show))
        .route("/ui/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/assets/{version}/{file}", get(assets::serve))
        .route("/ui/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/ui/sign-out", post(sign_in::sign_out))
        .route("/ui/tenant", post(sign_in::pick_tenant))
        .route(
            "/ui/portal/{token}",
            get(sign_in::portal_landing).post(sign_in::portal_open),
        )
        .merge(pages::routes())
        .route("/ui/{*rest}", get(pages::not_found))
        .layer(middleware::from_fn_with_state(
            console.clone(),
            headers::secure,
        ))
        .with_state(console)
}

/// What [`encode`] leaves as it is: letters, digits and RFC 3986's
/// unreserved marks, so ids (`wh_01…`) stay readable in addresses.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `value` percent-encoded for a query string or path segment.
pub(crate) fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).to_string()
}

/// How often expired sessions and portal links are deleted.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes expired sessions and portal links now and then: they are never
/// honoured once expired, this only keeps the tables small.
pub(crate) async fn prune_forever(store: herald_store::Store) {
    use herald_store::prelude::*;
    loop {
        tokio::time::sleep(PRUNE_EVERY).await;
        match store.prune_console(herald_store::now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(removed = n, "expired console sessions and links removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired console sessions"),
        }
    }
}
