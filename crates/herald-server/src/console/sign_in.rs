//! Signing in (admin token or tenant API key), signing out, the admin's
//! choice of tenant, and opening a tenant portal link.
//!
//! The two forms shown before there is a session (sign-in, portal) are
//! protected from cross-site posting by a double-submit token: a random
//! value set as a cookie with the form and sent back in it. A site that
//! cannot read this server's cookies cannot post a matching pair, so it
//! can neither sign a browser in to its own account nor spend a link.

use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use herald_store::prelude::*;
use maud::{Markup, html};

use super::ConsoleState;
use super::layout;
use super::page::{Form, PageResult, form_fields, refused_form, same_origin};
use super::session::{
    self, PORTAL_ACTOR, Session, cookie_value, removal_cookie, same_token, session_cookie,
    tenant_cookie, token_hash, ttl_secs,
};
use crate::api::{Actor, Caller, identify};

/// The double-submit cookie of the forms shown before a session exists.
const PRE_SESSION_COOKIE: &str = "herald_form";

/// A fresh double-submit token and the cookie that carries it.
fn pre_session_token(secure: bool) -> (String, String) {
    let token = crate::tokens::random_token();
    let cookie = Cookie::build((PRE_SESSION_COOKIE, token.clone()))
        .path("/ui")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::hours(1))
        .build()
        .to_string();
    (token, cookie)
}

/// The posted form token matches the cookie set with the form.
fn pre_session_ok(headers: &HeaderMap, posted: Option<&str>) -> bool {
    match (cookie_value(headers, PRE_SESSION_COOKIE), posted) {
        (Some(cookie), Some(posted)) => !posted.is_empty() && same_token(cookie, posted),
        _ => false,
    }
}

fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

fn sign_in_page(form_token: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            div.card {
                h1 { "Sign in to Herald" }
                p.muted { "Use the admin token (HERALD_ADMIN_TOKEN, or the one Herald generated in its data directory) or a tenant's API key." }
                @if let Some(error) = error { (layout::notice("bad", error)) }
                form method="post" action="/ui/sign-in" {
                    input type="hidden" name="form_token" value=(form_token);
                    label for="token" { "Token or API key" }
                    input #token type="password" name="token" autocomplete="current-password" required
                        aria-invalid=[error.map(|_| "true")] aria-describedby="token-help";
                    p.help #token-help { "It is sent once to open a session and never stored in the browser." }
                    p { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

/// `GET /ui/sign-in`.
pub(crate) async fn form(State(state): State<ConsoleState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if <Session as axum::extract::FromRequestParts<_>>::from_request_parts(&mut parts, &state)
        .await
        .is_ok()
    {
        return Redirect::to("/ui").into_response();
    }
    let (token, cookie) = pre_session_token(state.secure_cookies);
    with_cookies(sign_in_page(&token, None).into_response(), &[cookie])
}

/// `POST /ui/sign-in`: opens a session for the admin token or a live key.
pub(crate) async fn submit(State(state): State<ConsoleState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers) {
        return refused_form("this form came from another site");
    }
    let Some(fields) = form_fields(body).await else {
        return refused_form("the form could not be read");
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if !pre_session_ok(&parts.headers, field("form_token")) {
        return refused_form("the sign-in form is stale; reload it and try again");
    }
    let presented = field("token").unwrap_or("").trim();
    let (token, cookie) = pre_session_token(state.secure_cookies);
    let refuse = |message: &str| {
        with_cookies(
            (
                StatusCode::UNAUTHORIZED,
                sign_in_page(&token, Some(message)),
            )
                .into_response(),
            std::slice::from_ref(&cookie),
        )
    };
    if presented.is_empty() {
        return refuse("Enter the admin token or an API key.");
    }
    // The API's own check, so the console accepts exactly what it does.
    let mut headers = HeaderMap::new();
    let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {presented}")) else {
        return refuse("That is not the admin token or a live API key.");
    };
    headers.insert(AUTHORIZATION, bearer);
    let caller = match identify(&state.app, &headers).await {
        Ok(caller) => caller,
        Err(_) => return refuse("That is not the admin token or a live API key."),
    };
    match session::open(&state, &caller, None).await {
        Ok(token) => with_cookies(
            Redirect::to("/ui").into_response(),
            &[
                session_cookie(state.secure_cookies, &token, ttl_secs(None)),
                removal_cookie(state.secure_cookies, "herald_tenant"),
            ],
        ),
        Err(e) => e.into_response(),
    }
}

/// `POST /ui/sign-out`: the session is deleted, not only forgotten.
pub(crate) async fn sign_out(State(state): State<ConsoleState>, form: Form) -> PageResult {
    state
        .app
        .store()
        .delete_console_session(form.session.row.token_hash.clone())
        .await?;
    tracing::info!(tenant_id = %form.session.caller.tenant_id, "console session signed out");
    Ok(with_cookies(
        Redirect::to("/ui/sign-in").into_response(),
        &[
            removal_cookie(
                state.secure_cookies,
                session::cookie_name(state.secure_cookies),
            ),
            removal_cookie(state.secure_cookies, "herald_tenant"),
        ],
    ))
}

/// `POST /ui/tenant`: the tenant an admin session acts on.
pub(crate) async fn pick_tenant(State(state): State<ConsoleState>, form: Form) -> PageResult {
    super::page::require_admin(&form.session)?;
    let tenant = form.text("tenant_id");
    Ok(with_cookies(
        Redirect::to("/ui/webhooks").into_response(),
        &[tenant_cookie(state.secure_cookies, &tenant)],
    ))
}

/// `GET /ui/portal/{token}`: a page with one button. Opening takes a
/// click (a POST), so a link previewer that fetches the address does not
/// spend it.
pub(crate) async fn portal_landing(State(state): State<ConsoleState>) -> Response {
    let (token, cookie) = pre_session_token(state.secure_cookies);
    let page = layout::bare(
        "Open portal",
        html! {
            div.card {
                h1 { "Webhook portal" }
                p { "This link opens your webhooks once. It stops working after it is used." }
                form method="post" {
                    input type="hidden" name="form_token" value=(token);
                    button type="submit" { "Open the portal" }
                }
            }
        },
    );
    with_cookies(page.into_response(), &[cookie])
}

/// `POST /ui/portal/{token}`: spends the link and opens its session.
pub(crate) async fn portal_open(
    State(state): State<ConsoleState>,
    Path(link): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers) {
        return refused_form("this form came from another site");
    }
    let fields = form_fields(body).await.unwrap_or_default();
    let posted = fields
        .iter()
        .find(|(n, _)| n == "form_token")
        .map(|(_, v)| v.as_str());
    if !pre_session_ok(&parts.headers, posted) {
        return refused_form("the page is stale; open the link again");
    }
    let hash = token_hash(&link);
    let redeemed = match state
        .app
        .store()
        .redeem_portal_link(hash.clone(), herald_store::now_ms())
        .await
    {
        Ok(r) => r,
        Err(e) => return super::page::PageError::Store(e).into_response(),
    };
    let Some(row) = redeemed else {
        let page = layout::bare(
            "Link used",
            html! {
                div.card {
                    h1 { "This link no longer works" }
                    p { "Portal links work once and only for a few minutes. Ask for a new one." }
                }
            },
        );
        return (StatusCode::GONE, page).into_response();
    };
    // The actor names the link (its hash's first bytes), for the audit log.
    let link_id: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
    let caller = Caller {
        tenant_id: row.tenant_id.clone(),
        actor: Actor::Portal(format!("{PORTAL_ACTOR}{link_id}")),
        via_mcp: false,
    };
    match session::open(&state, &caller, Some(&row)).await {
        Ok(token) => with_cookies(
            Redirect::to("/ui").into_response(),
            &[session_cookie(
                state.secure_cookies,
                &token,
                ttl_secs(Some(&row)),
            )],
        ),
        Err(e) => e.into_response(),
    }
}
