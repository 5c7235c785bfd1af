//! `/ui/tenants` (the operator only): tenants and their keys, acting on a
//! tenant, and creating a tenant's portal link.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use crate::api::CONSOLE_FEATURES;
use crate::console::layout::{self, csrf, time};
use crate::console::page::{Flash, Form, PageResult, back_to, require_admin};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

/// `GET /ui/tenants`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    require_admin(&session)?;
    let answer = state.get(&session, "/tenants").await?;
    let mut tenants = Vec::new();
    for t in answer["data"].as_array().into_iter().flatten() {
        let id = t["id"].as_str().unwrap_or("");
        tenants.push(
            state
                .get(&session, &format!("/tenants/{}", encode(id)))
                .await?,
        );
    }
    let body = html! {
        h1 { "Tenants" }
        p.muted { "Each tenant has its own webhooks, events and keys. The console acts on one tenant at a time: now " code { (session.caller.tenant_id) } "." }
        (flash.notice())
        section.card aria-labelledby="new-tenant-h" {
            h2 #new-tenant-h { "New tenant" }
            form method="post" action="/ui/tenants" {
                (csrf(&session))
                label for="tenant-name" { "Name" }
                input #tenant-name type="text" name="name" required;
                p { button type="submit" { "Create tenant" } }
            }
        }
        @for t in &tenants { (tenant(&session, t)) }
    };
    Ok(layout::page(&session, "Tenants", "/ui/tenants", body).into_response())
}

fn tenant(session: &Session, t: &Value) -> Markup {
    let id = t["id"].as_str().unwrap_or("");
    let base = format!("/ui/tenants/{}", encode(id));
    html! {
        section.card {
            div.row.spread {
                h2 { (t["name"].as_str().unwrap_or(id)) " " code.muted { (id) } }
                @if session.caller.tenant_id != id {
                    form.inline method="post" action="/ui/tenant" {
                        (csrf(session)) input type="hidden" name="tenant_id" value=(id);
                        button.secondary type="submit" { "Act on this tenant" }
                    }
                } @else { span.badge.good { "acting on it" } }
            }
            dl.facts {
                dt { "Created" } dd { (time(&t["created_at"])) }
                dt { "Schema validation" } dd { (t["schema_validation"].as_str().unwrap_or("off")) }
                dt { "API keys" } dd {
                    @let keys = t["keys"].as_array().cloned().unwrap_or_default();
                    @if keys.is_empty() { span.muted { "none" } }
                    ul {
                        @for k in &keys {
                            @let key_id = k["id"].as_str().unwrap_or("");
                            li {
                                code { (key_id) } " · " (time(&k["created_at"])) " "
                                form.inline method="post" action=(format!("{base}/keys/{}/revoke", encode(key_id)))
                                    data-confirm="Revoke this key? Programs using it stop at once, and its console sessions end." {
                                    (csrf(session))
                                    button.link type="submit" aria-label=(format!("Revoke key {key_id}")) { "revoke" }
                                }
                            }
                        }
                    }
                    form method="post" action=(format!("{base}/keys")) {
                        (csrf(session))
                        button.secondary type="submit" { "Issue a key" }
                    }
                }
            }
            details {
                summary { "Create a portal link" }
                form method="post" action=(format!("{base}/portal-link")) {
                    (csrf(session))
                    p.help { "A one-time address that opens a console session for this tenant only, to hand to its owner or embed." }
                    label.check { input type="checkbox" name="read_only" value="true"; "Read-only" }
                    fieldset {
                        legend { "Sections (none ticked: all)" }
                        @for f in CONSOLE_FEATURES { label.check { input type="checkbox" name="feature" value=(f); (f.replace('_', " ")) } }
                    }
                    label for=(format!("minutes-{id}")) { "Session length (minutes)" }
                    input id=(format!("minutes-{id}")) type="number" name="minutes" min="1" max="10080" value="60";
                    p { button type="submit" { "Create link" } }
                }
            }
        }
    }
}

/// `POST /ui/tenants/{id}/portal-link`: the link, shown once.
pub(crate) async fn portal_link(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require_admin(&form.session)?;
    let features = form.all("feature");
    let minutes: u64 = form.text("minutes").parse().unwrap_or(60).clamp(1, 10_080);
    let answer = state
        .call(
            &form.session,
            Method::POST,
            &format!("/tenants/{}/portal-links", encode(&id)),
            Some(json!({
                "read_only": form.get("read_only") == Some("true"),
                "features": (!features.is_empty()).then_some(features),
                "session_seconds": minutes * 60,
            })),
        )
        .await;
    let body = if answer.is_success() {
        let url = answer.body["url"]
            .as_str()
            .or(answer.body["path"].as_str())
            .unwrap_or("");
        html! {
            p { a href="/ui/tenants" { "← Tenants" } }
            h1 { "Portal link" }
            (layout::notice("good", "Copy it now: it is shown once, works once, and expires at the time below."))
            dl.facts.card {
                dt { "Address" } dd { code #portal-url { (url) } }
                dt { "Expires" } dd { (time(&answer.body["expires_at"])) }
                dt { "Read-only" } dd { (answer.body["read_only"]) }
            }
        }
    } else {
        html! {
            p { a href="/ui/tenants" { "← Tenants" } }
            h1 { "Portal link" }
            (layout::notice("bad", &answer.error_message()))
        }
    };
    Ok(layout::page(&form.session, "Portal link", "/ui/tenants", body).into_response())
}

/// `POST /ui/tenants`: a new tenant; its first key is shown once.
pub(crate) async fn create(State(state): State<ConsoleState>, form: Form) -> PageResult<Response> {
    require_admin(&form.session)?;
    let answer = state
        .call(
            &form.session,
            Method::POST,
            "/tenants",
            Some(json!({"name": form.text("name")})),
        )
        .await;
    if !answer.is_success() {
        return Ok(back_to("/ui/tenants", &answer, ""));
    }
    Ok(key_page(&form.session, &answer.body, "Tenant created"))
}

/// `POST /ui/tenants/{id}/keys`: another key, shown once.
pub(crate) async fn issue_key(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require_admin(&form.session)?;
    let path = format!("/tenants/{}/keys", encode(&id));
    let answer = state.call(&form.session, Method::POST, &path, None).await;
    if !answer.is_success() {
        return Ok(back_to("/ui/tenants", &answer, ""));
    }
    Ok(key_page(&form.session, &answer.body, "API key issued"))
}

/// `POST /ui/tenants/{id}/keys/{key_id}/revoke`.
pub(crate) async fn revoke_key(
    State(state): State<ConsoleState>,
    Path((id, key_id)): Path<(String, String)>,
    form: Form,
) -> PageResult<Response> {
    require_admin(&form.session)?;
    let path = format!("/tenants/{}/keys/{}", encode(&id), encode(&key_id));
    let answer = state.call(&form.session, Method::DELETE, &path, None).await;
    Ok(back_to(
        "/ui/tenants",
        &answer,
        &format!("Key {key_id} revoked."),
    ))
}

/// A key's text, shown this once.
fn key_page(session: &Session, answer: &Value, title: &str) -> Response {
    let body = html! {
        p { a href="/ui/tenants" { "← Tenants" } }
        h1 { (title) }
        (layout::notice("good", "Copy the key now: it is not shown again."))
        dl.facts.card {
            @if let Some(name) = answer["name"].as_str() { dt { "Tenant" } dd { (name) " " code { (answer["id"].as_str().unwrap_or("")) } } }
            dt { "API key" } dd { code #api-key { (answer["api_key"].as_str().unwrap_or("")) } }
        }
    };
    layout::page(session, title, "/ui/tenants", body).into_response()
}
