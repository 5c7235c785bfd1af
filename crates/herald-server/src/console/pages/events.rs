//! `/ui/events`: events by type or id, an event's data and deliveries,
//! and replaying it to its subscribers or to chosen webhooks.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use crate::console::layout::{self, csrf, time};
use crate::console::page::{Flash, Form, PageResult, back_to, require};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListFilter {
    /// An event type, or an event id (`evt_…`) to open.
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

/// `GET /ui/events`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(filter): Query<ListFilter>,
) -> PageResult<Response> {
    require(&session, "events")?;
    let q = filter.q.trim();
    if q.starts_with("evt_") {
        return Ok(Redirect::to(&format!("/ui/events/{}", encode(q))).into_response());
    }
    let mut base = "/events?limit=50".to_string();
    if !q.is_empty() {
        base.push_str(&format!("&type={}", encode(q)));
    }
    let path = if filter.cursor.is_empty() {
        base.clone()
    } else {
        format!("{base}&cursor={}", encode(&filter.cursor))
    };
    let answer = state.get(&session, &path).await?;
    let events = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Events" }
        form.filters method="get" action="/ui/events" role="search" {
            div { label for="q" { "Event type or id" } input #q type="search" name="q" value=(filter.q) placeholder="training.complete or evt_…"; }
            button.secondary type="submit" { "Search" }
        }
        @if events.is_empty() {
            (layout::empty("No events found.", html! { p { "Applications post events to " code { "POST /api/v1/events" } "." } }))
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th.hide-narrow scope="col" { "Source" } th scope="col" { "Received" } } }
                    tbody {
                        @for e in &events {
                            @let id = e["id"].as_str().unwrap_or("");
                            tr {
                                td { a href=(format!("/ui/events/{}", encode(id))) { code { (id) } } }
                                td { code { (e["type"].as_str().unwrap_or("")) } }
                                td.hide-narrow { (e["source"].as_str().unwrap_or("—")) }
                                td { (time(&e["created_at"])) }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&format!("/ui{}", base.replacen("/events?limit=50", "/events?", 1)), &answer))
        }
    };
    Ok(layout::page(&session, "Events", "/ui/events", body).into_response())
}

/// `GET /ui/events/{id}`.
pub(crate) async fn show(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    require(&session, "events")?;
    let e = state
        .get(&session, &format!("/events/{}", encode(&id)))
        .await?;
    let deliveries = state
        .get(
            &session,
            &format!("/deliveries?event_id={}&limit=100", encode(&id)),
        )
        .await?;
    let webhooks = if session.allows("webhooks") {
        state.get(&session, "/webhooks?limit=250").await?["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let body = html! {
        p { a href="/ui/events" { "← Events" } }
        h1 { "Event " code { (id) } }
        (flash.notice())
        section.card {
            dl.facts {
                dt { "Type" } dd { code { (e["type"].as_str().unwrap_or("")) } }
                dt { "Source" } dd { (e["source"].as_str().unwrap_or("—")) }
                dt { "Received" } dd { (time(&e["created_at"])) }
                @if e["deliver_at"].is_string() { dt { "Deliver at" } dd { (time(&e["deliver_at"])) } }
            }
            h2 { "Data" }
            pre { (layout::pretty(&e["data"])) }
            @if e["schema_errors"].is_array() {
                h2 { "Schema errors" }
                pre { (layout::pretty(&e["schema_errors"])) }
            }
        }
        h2 { "Deliveries" }
        (super::deliveries::table(&deliveries, true))
        @if !session.row.read_only {
            section.card aria-labelledby="replay-h" {
                h2 #replay-h { "Replay" }
                form method="post" action=(format!("/ui/events/{}/replay", encode(&id))) {
                    (csrf(&session))
                    p { "Send this event again: to the webhooks subscribed to its type now, or only to those ticked." }
                    @if !webhooks.is_empty() {
                        fieldset {
                            legend { "Only to these webhooks (optional)" }
                            @for w in &webhooks {
                                @let wid = w["id"].as_str().unwrap_or("");
                                label.check { input type="checkbox" name="webhook_id" value=(wid); (w["name"].as_str().unwrap_or(wid)) " " code.muted { (wid) } }
                            }
                        }
                    }
                    p { button type="submit" { "Replay event" } }
                }
            }
        }
    };
    Ok(layout::page(&session, "Event", "/ui/events", body).into_response())
}

/// `POST /ui/events/{id}/replay`.
pub(crate) async fn replay(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "events")?;
    let chosen = form.all("webhook_id");
    let body = if chosen.is_empty() {
        None
    } else {
        Some(json!({"webhook_ids": chosen}))
    };
    let answer = state
        .call(
            &form.session,
            Method::POST,
            &format!("/events/{}/replay", encode(&id)),
            body,
        )
        .await;
    let done = format!(
        "Replayed: {} new deliveries.",
        answer.body["deliveries"].as_u64().unwrap_or(0)
    );
    Ok(back_to(
        &format!("/ui/events/{}", encode(&id)),
        &answer,
        &done,
    ))
}
