//! `/ui/deliveries`: the delivery log, a delivery's attempt timeline (each
//! attempt's masked request headers, the answer's status, headers and
//! body, the error category), and retrying a failed delivery.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::console::layout::{self, badge, csrf, time};
use crate::console::page::{Answer, Flash, Form, PageError, PageResult, back_to, require};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListFilter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    webhook_id: String,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    event_type: String,
    /// `1h`, `24h`, `7d` or `30d` back from now; `since` overrides it.
    #[serde(default)]
    window: String,
    /// RFC 3339 bounds, as the API takes them.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

/// The windows offered, with their length in hours.
const WINDOWS: [(&str, &str, i64); 4] = [
    ("1h", "last hour", 1),
    ("24h", "last 24 hours", 24),
    ("7d", "last 7 days", 24 * 7),
    ("30d", "last 30 days", 24 * 30),
];

/// The `since` the filter asks for: its own, or its window's start.
fn since_of(f: &ListFilter) -> String {
    if !f.since.is_empty() {
        return f.since.clone();
    }
    WINDOWS
        .iter()
        .find(|(key, _, _)| *key == f.window)
        .map(|(_, _, hours)| {
            herald_core::event::format_time(chrono::Utc::now() - chrono::Duration::hours(*hours))
        })
        .unwrap_or_default()
}

const STATUSES: [&str; 8] = [
    "scheduled",
    "pending",
    "delivering",
    "retrying",
    "delivered",
    "failed",
    "skipped",
    "cancelled",
];

/// The API's query for the filter (`since` resolved from the window).
fn api_query(f: &ListFilter) -> String {
    let since = since_of(f);
    let mut parts = vec!["limit=50".to_string()];
    for (name, value) in [
        ("status", &f.status),
        ("webhook_id", &f.webhook_id),
        ("event_id", &f.event_id),
        ("event_type", &f.event_type),
        ("since", &since),
        ("until", &f.until),
        ("cursor", &f.cursor),
    ] {
        if !value.is_empty() {
            parts.push(format!("{name}={}", encode(value)));
        }
    }
    parts.join("&")
}

/// The console's own address for the filter, without the cursor (the
/// window stays a window, so the next page keeps moving with it).
fn page_query(f: &ListFilter) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("status", &f.status),
        ("webhook_id", &f.webhook_id),
        ("event_id", &f.event_id),
        ("event_type", &f.event_type),
        ("window", &f.window),
        ("since", &f.since),
        ("until", &f.until),
    ] {
        if !value.is_empty() {
            parts.push(format!("{name}={}", encode(value)));
        }
    }
    parts.join("&")
}

/// A page of deliveries as a table; `with_webhook` adds its column.
pub(crate) fn table(answer: &Value, with_webhook: bool) -> Markup {
    let rows = answer["data"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return layout::empty(
            "No deliveries yet.",
            html! { p { "Post an event its webhooks subscribe to, or send a test event from a webhook's page." } },
        );
    }
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "Delivery" } th scope="col" { "Status" } th scope="col" { "Event type" }
                    @if with_webhook { th.hide-narrow scope="col" { "Webhook" } }
                    th.num scope="col" { "Attempts" } th.hide-narrow scope="col" { "Last answer" } th scope="col" { "Created" }
                } }
                tbody {
                    @for d in &rows {
                        @let id = d["id"].as_str().unwrap_or("");
                        tr {
                            td { a href=(format!("/ui/deliveries/{}", encode(id))) { code { (id) } } @if d["test"].as_bool() == Some(true) { " " span.badge { "test" } } }
                            td { (badge(d["status"].as_str().unwrap_or(""))) }
                            td { code { (d["event_type"].as_str().unwrap_or("")) } }
                            @if with_webhook {
                                td.hide-narrow { a href=(format!("/ui/webhooks/{}", encode(d["webhook_id"].as_str().unwrap_or("")))) { code { (d["webhook_id"].as_str().unwrap_or("")) } } }
                            }
                            td.num { (d["attempt_count"].as_u64().unwrap_or(0)) }
                            td.hide-narrow {
                                @if let Some(code) = d["last_status_code"].as_u64() { (code) " " }
                                span.muted { (d["last_error"].as_str().unwrap_or("")) }
                            }
                            td { (time(&d["created_at"])) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /ui/deliveries`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(filter): Query<ListFilter>,
) -> PageResult<Response> {
    require(&session, "deliveries")?;
    let path = format!("/deliveries?{}", api_query(&filter));
    let answer = state.call(&session, Method::GET, &path, None).await;
    // A filter the API refuses (a malformed time) is shown at its field,
    // with the form to correct it.
    if !answer.is_success() && !answer.status.is_client_error() {
        return Err(PageError::Api(answer));
    }
    let refused = (!answer.is_success()).then(|| answer.clone());
    let error_at = |field: &str| {
        refused
            .as_ref()
            .filter(|a| a.error_field() == Some(field))
            .map(Answer::error_message)
    };
    let text_filter = |name: &'static str, label: &'static str, value: &str, hint: &'static str| {
        let error = error_at(name);
        html! {
            div {
                label for=(name) { (label) }
                input id=(name) type="search" name=(name) value=(value) placeholder=(hint)
                    aria-invalid=[error.as_ref().map(|_| "true")];
                @if let Some(e) = error { p.error role="alert" { (e) } }
            }
        }
    };
    let body = html! {
        h1 { "Deliveries" }
        form.filters method="get" action="/ui/deliveries" {
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[filter.status.is_empty()] { "any" }
                    @for s in STATUSES { option value=(s) selected[filter.status == s] { (s) } }
                }
            }
            (text_filter("webhook_id", "Webhook id", &filter.webhook_id, "wh_…"))
            (text_filter("event_type", "Event type", &filter.event_type, "build.done"))
            (text_filter("event_id", "Event id", &filter.event_id, "evt_…"))
            div {
                label for="window" { "Created" }
                select #window name="window" {
                    option value="" selected[filter.window.is_empty()] { "any time" }
                    @for (key, label, _) in WINDOWS { option value=(key) selected[filter.window == key] { (label) } }
                }
            }
            (text_filter("since", "From (UTC)", &filter.since, "2026-12-01T00:00:00Z"))
            (text_filter("until", "Until (UTC)", &filter.until, "2026-12-02T00:00:00Z"))
            button.secondary type="submit" { "Filter" }
        }
        @if let Some(refusal) = &refused {
            (layout::notice("bad", &refusal.error_message()))
        } @else if answer.body["data"].as_array().is_some_and(Vec::is_empty) && !page_query(&filter).is_empty() {
            (layout::empty("No deliveries match these filters.", html! { a href="/ui/deliveries" { "Show every delivery" } }))
        } @else {
            (table(&answer.body, true))
            (layout::next_page(&format!("/ui/deliveries?{}", page_query(&filter)), &answer.body))
        }
    };
    Ok(layout::page(&session, "Deliveries", "/ui/deliveries", body).into_response())
}

/// `GET /ui/deliveries/{id}`.
pub(crate) async fn show(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    require(&session, "deliveries")?;
    let d = state
        .get(&session, &format!("/deliveries/{}", encode(&id)))
        .await?;
    let status = d["status"].as_str().unwrap_or("");
    let attempts = d["attempts"].as_array().cloned().unwrap_or_default();
    let body = html! {
        p { a href="/ui/deliveries" { "← Deliveries" } }
        div.row.spread {
            h1 { "Delivery " code { (id) } }
            (badge(status))
        }
        (flash.notice())
        section.card {
            dl.facts {
                dt { "Event" } dd { a href=(format!("/ui/events/{}", encode(d["event_id"].as_str().unwrap_or("")))) { code { (d["event_id"].as_str().unwrap_or("")) } } }
                dt { "Event type" } dd { code { (d["event_type"].as_str().unwrap_or("")) } }
                dt { "Webhook" } dd { a href=(format!("/ui/webhooks/{}", encode(d["webhook_id"].as_str().unwrap_or("")))) { code { (d["webhook_id"].as_str().unwrap_or("")) } } }
                dt { "Attempts" } dd { (d["attempt_count"].as_u64().unwrap_or(0)) }
                dt { "Next attempt" } dd { (time(&d["next_attempt_at"])) }
                dt { "Created" } dd { (time(&d["created_at"])) }
                dt { "Delivered" } dd { (time(&d["delivered_at"])) }
            }
            @if status == "failed" && !session.row.read_only {
                form method="post" action=(format!("/ui/deliveries/{}/retry", encode(&id))) {
                    (csrf(&session))
                    p { button type="submit" { "Retry this delivery" } }
                }
            }
        }
        h2 { "Attempts" }
        @if attempts.is_empty() {
            p.muted { "No attempt yet." }
        } @else {
            ol.timeline {
                @for a in &attempts { (attempt(a)) }
            }
        }
    };
    Ok(layout::page(&session, "Delivery", "/ui/deliveries", body).into_response())
}

fn attempt(a: &Value) -> Markup {
    let success = a["outcome"].as_str() == Some("success");
    html! {
        li class=(if success { "good" } else { "bad" }) {
            h3 {
                "Attempt " (a["number"].as_u64().unwrap_or(0)) " · "
                @match a["status_code"].as_u64() {
                    Some(code) => { "HTTP " (code) },
                    None => { (a["error_category"].as_str().unwrap_or("no answer")) },
                }
                " · " (layout::figure(&a["duration_ms"], " ms"))
            }
            p.muted { (time(&a["started_at"])) " · outcome " (a["outcome"].as_str().unwrap_or("")) }
            @if let Some(message) = a["error_message"].as_str() {
                p { strong { (a["error_category"].as_str().unwrap_or("error")) ": " } (message) }
            }
            details {
                summary { "Request headers" }
                pre { (layout::pretty(&a["request_headers"])) }
            }
            @if a["response_headers"].is_object() {
                details {
                    summary { "Response headers" }
                    pre { (layout::pretty(&a["response_headers"])) }
                }
            }
            h4 { "Response body" }
            pre { (a["response_body"].as_str().unwrap_or("(none)")) }
        }
    }
}

/// `POST /ui/deliveries/{id}/retry`.
pub(crate) async fn retry(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "deliveries")?;
    let answer = state
        .call(
            &form.session,
            Method::POST,
            &format!("/deliveries/{}/retry", encode(&id)),
            None,
        )
        .await;
    Ok(back_to(
        &format!("/ui/deliveries/{}", encode(&id)),
        &answer,
        "Requeued: it is sent again now.",
    ))
}
