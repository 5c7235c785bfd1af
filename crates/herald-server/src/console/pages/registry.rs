//! The read-mostly pages: the event type registry, schedules, the
//! integration catalog (with each provider's setup steps) and the audit
//! log.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::webhooks::provider_icon;
use crate::console::layout::{self, badge, csrf, time};
use crate::console::page::{Flash, Form, PageResult, back_to, require};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

/// `GET /ui/event-types`.
pub(crate) async fn event_types(
    State(state): State<ConsoleState>,
    session: Session,
) -> PageResult<Response> {
    require(&session, "event_types")?;
    let answer = state.get(&session, "/event-types").await?;
    let types = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Event types" }
        p.muted { "The registry of the events your applications post: a schema to check them against, examples for test sends, and deprecation." }
        @if types.is_empty() {
            (layout::empty("No event types registered.", html! { p { "Register one with " code { "POST /api/v1/event-types" } " or " code { "herald event-types create" } "; events of unregistered types are still accepted." } }))
        } @else {
            @for t in &types {
                @let name = t["name"].as_str().unwrap_or("");
                section.card {
                    div.row.spread {
                        h2 { code { (name) } }
                        div.row {
                            @if t["deprecated"].as_bool() == Some(true) { (badge("deprecated")) }
                            @if t["archived"].as_bool() == Some(true) { (badge("archived")) }
                            span.muted { "version " (t["version"]) }
                        }
                    }
                    p { (t["description"].as_str().unwrap_or("")) }
                    details { summary { "Schema" } pre { (layout::pretty(&t["schema"])) } }
                    @if t["examples"].as_array().is_some_and(|e| !e.is_empty()) {
                        details { summary { "Examples" } pre { (layout::pretty(&t["examples"])) } }
                    }
                    p { a href=(format!("/ui/events?q={}", encode(name))) { "Events of this type →" } }
                }
            }
        }
    };
    Ok(layout::page(&session, "Event types", "/ui/event-types", body).into_response())
}

/// `GET /ui/schedules`.
pub(crate) async fn schedules(
    State(state): State<ConsoleState>,
    session: Session,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    require(&session, "schedules")?;
    let answer = state.get(&session, "/schedules").await?;
    let schedules = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Schedules" }
        (flash.notice())
        @if schedules.is_empty() {
            (layout::empty("No schedules.", html! { p { "A schedule posts an event on a cron pattern: " code { "POST /api/v1/schedules" } "." } }))
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Cron" } th scope="col" { "Event type" } th scope="col" { "State" } th scope="col" { "Next run" } th.num.hide-narrow scope="col" { "Runs" } @if !session.row.read_only { th scope="col" { span.muted { "Action" } } } } }
                    tbody {
                        @for s in &schedules {
                            tr {
                                td { (s["name"].as_str().unwrap_or("")) }
                                td { code { (s["cron"].as_str().unwrap_or("")) } " " span.muted { (s["timezone"].as_str().unwrap_or("")) } }
                                td { code { (s["event"]["type"].as_str().unwrap_or("")) } }
                                td { (badge(if s["paused"].as_bool() == Some(true) { "paused" } else { "active" })) }
                                td { (time(&s["next_runs"][0])) }
                                td.num.hide-narrow { (s["runs"]) }
                                @if !session.row.read_only {
                                    @let paused = s["paused"].as_bool() == Some(true);
                                    td {
                                        form.inline method="post" action=(format!("/ui/schedules/{}/{}", encode(s["id"].as_str().unwrap_or("")), if paused { "resume" } else { "pause" })) {
                                            (csrf(&session))
                                            button.secondary type="submit" { @if paused { "Resume" } @else { "Pause" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&session, "Schedules", "/ui/schedules", body).into_response())
}

/// `GET /ui/providers`: the catalog as a marketplace.
pub(crate) async fn providers(
    State(state): State<ConsoleState>,
    session: Session,
) -> PageResult<Response> {
    require(&session, "webhooks")?;
    let answer = state.get(&session, "/providers").await?;
    let providers = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Integrations" }
        p.muted { "Every destination Herald formats natively. Pick one to create a webhook with its settings." }
        div.grid2 {
            @for p in &providers {
                @let name = p["name"].as_str().unwrap_or("");
                section.card {
                    h2 { (provider_icon(name)) (p["title"].as_str().unwrap_or(name)) }
                    @if p["enabled"].as_bool() == Some(false) { (badge("disabled")) " " span.muted { "switched off on this server" } }
                    p { (p["description"].as_str().unwrap_or("")) }
                    details {
                        summary { "Set-up steps" }
                        ol { @for step in p["setup"].as_array().into_iter().flatten() { li { (step.as_str().unwrap_or("")) } } }
                    }
                    @if !session.row.read_only && p["enabled"].as_bool() != Some(false) {
                        a.button.secondary href=(format!("/ui/webhooks/new?provider={}", encode(name))) { "Use " (p["title"].as_str().unwrap_or(name)) }
                    }
                }
            }
        }
    };
    Ok(layout::page(&session, "Integrations", "/ui/providers", body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditFilter {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    cursor: String,
}

/// `GET /ui/audit`.
pub(crate) async fn audit(
    State(state): State<ConsoleState>,
    session: Session,
    Query(filter): Query<AuditFilter>,
) -> PageResult<Response> {
    require(&session, "audit")?;
    let mut base = "/audit?limit=50".to_string();
    if !filter.resource_id.is_empty() {
        base.push_str(&format!("&resource_id={}", encode(&filter.resource_id)));
    }
    let path = if filter.cursor.is_empty() {
        base.clone()
    } else {
        format!("{base}&cursor={}", encode(&filter.cursor))
    };
    let answer = state.get(&session, &path).await?;
    let rows = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Audit log" }
        form.filters method="get" action="/ui/audit" {
            div { label for="resource_id" { "Resource id" } input #resource_id type="search" name="resource_id" value=(filter.resource_id); }
            button.secondary type="submit" { "Filter" }
        }
        @if rows.is_empty() {
            (layout::empty("Nothing recorded yet.", html! { p { "Every change to webhooks, event types, schedules, tenants and keys is recorded here." } }))
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Resource" } th.hide-narrow scope="col" { "Change" } } }
                    tbody {
                        @for r in &rows {
                            tr {
                                td { (time(&r["created_at"])) }
                                td { code { (r["actor"].as_str().unwrap_or("")) } }
                                td { (r["action"].as_str().unwrap_or("")) }
                                td { (r["resource_type"].as_str().unwrap_or("")) " " code { (r["resource_id"].as_str().unwrap_or("")) } }
                                td.hide-narrow {
                                    details { summary { "before / after" }
                                        pre { (layout::pretty(&r["before"])) } pre { (layout::pretty(&r["after"])) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&format!("/ui{base}").replacen("limit=50", "", 1).replace("?&", "?"), &answer))
        }
    };
    Ok(layout::page(&session, "Audit log", "/ui/audit", body).into_response())
}

/// `POST /ui/schedules/{id}/pause` and `…/resume`.
pub(crate) async fn set_schedule(
    State(state): State<ConsoleState>,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "schedules")?;
    let (suffix, done) = match action.as_str() {
        "pause" => ("pause", "Paused."),
        "resume" => ("resume", "Resumed."),
        _ => return Ok(super::not_found().await),
    };
    let path = format!("/schedules/{}/{suffix}", encode(&id));
    let answer = state.call(&form.session, Method::POST, &path, None).await;
    Ok(back_to("/ui/schedules", &answer, done))
}
