//! `/ui/webhooks`: the list (filters, health, bulk pause and delete) and a
//! webhook's page (health, charts, test send, pause and resume, enable,
//! secret rotation, retrying failed deliveries), each action one API call.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::console::chart::{self, Bar};
use crate::console::layout::{self, badge, csrf, figure, time};
use crate::console::page::{Answer, Flash, Form, PageResult, back_to, require};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListFilter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    cursor: String,
    /// A message from the action that led here.
    #[serde(default)]
    done: String,
}

/// The API query of the list's filters, and the console's own.
fn list_query(f: &ListFilter) -> String {
    let mut parts = vec!["limit=50".to_string()];
    for (name, value) in [
        ("status", &f.status),
        ("tag", &f.tag),
        ("health", &f.health),
        ("cursor", &f.cursor),
    ] {
        if !value.is_empty() {
            parts.push(format!("{name}={}", encode(value)));
        }
    }
    parts.join("&")
}

/// A provider's mark: its initial on its colour (from the stylesheet:
/// the policy allows no inline style).
pub(crate) fn provider_icon(provider: &str) -> Markup {
    let known = PROVIDERS.contains(&provider);
    let initial = provider.chars().next().unwrap_or('?').to_ascii_uppercase();
    html! {
        span class={"provider-icon p-" (if known { provider } else { "webhook" })} aria-hidden="true" { (initial) }
    }
}

/// The providers the stylesheet has a colour for.
const PROVIDERS: [&str; 12] = [
    "webhook",
    "slack",
    "teams",
    "discord",
    "email",
    "pagerduty",
    "jira",
    "github",
    "datadog",
    "google_chat",
    "mattermost",
    "zapier",
];

fn select(name: &str, label: &str, current: &str, options: &[&str]) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select #(name) name=(name) {
                option value="" selected[current.is_empty()] { "any" }
                @for o in options { option value=(o) selected[current == *o] { (o) } }
            }
        }
    }
}

/// `GET /ui/webhooks`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(filter): Query<ListFilter>,
) -> PageResult<Response> {
    require(&session, "webhooks")?;
    let answer = state
        .get(&session, &format!("/webhooks?{}", list_query(&filter)))
        .await?;
    let webhooks = answer["data"].as_array().cloned().unwrap_or_default();
    let summary = state.get(&session, "/stats/summary").await?;
    let hourly = state
        .get(&session, "/analytics?granularity=1h&group_by=webhook_id")
        .await?;
    let volume = |id: &str| hourly_counts(&hourly, id);
    let last = |id: &str| {
        summary["per_webhook"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["webhook_id"] == id)
            .map(|w| w["last_triggered_at"].clone())
            .unwrap_or(Value::Null)
    };
    let body = html! {
        div.row.spread {
            h1 { "Webhooks" }
            @if !session.row.read_only { a.button href="/ui/webhooks/new" { "New webhook" } }
        }
        @if !filter.done.is_empty() { (layout::notice("good", &filter.done)) }
        form.filters method="get" action="/ui/webhooks" {
            (select("status", "Status", &filter.status, &["active", "paused", "disabled"]))
            (select("health", "Health", &filter.health, &["healthy", "degraded", "failing", "disabled", "paused", "unknown"]))
            div { label for="tag" { "Tag" } input #tag type="search" name="tag" value=(filter.tag); }
            button.secondary type="submit" { "Filter" }
        }
        @if webhooks.is_empty() {
            (layout::empty("No webhooks match.", html! {
                p { "A webhook sends the events it subscribes to one destination: a URL, Slack, Teams, email…" }
                @if !session.row.read_only { a.button href="/ui/webhooks/new" { "Create a webhook" } }
            }))
        } @else {
            form method="post" action="/ui/webhooks/bulk" {
                (csrf(&session))
                div.table-wrap {
                    table {
                        thead { tr {
                            th scope="col" { input type="checkbox" data-select-all="id" aria-label="Select every webhook"; }
                            th scope="col" { "Name" } th scope="col" { "Health" } th scope="col" { "Status" }
                            th.hide-narrow scope="col" { "Events" } th.hide-narrow scope="col" { "Last delivery" }
                            th.hide-narrow scope="col" { "Success, 24 h" }
                            th.hide-narrow scope="col" { "Attempts, 24 h" }
                        } }
                        tbody {
                            @for w in &webhooks {
                                @let id = w["id"].as_str().unwrap_or("");
                                tr {
                                    td { input type="checkbox" name="id" value=(id) aria-label=(format!("Select {}", w["name"].as_str().unwrap_or(id))); }
                                    td {
                                        (provider_icon(w["provider"].as_str().unwrap_or("")))
                                        a href=(format!("/ui/webhooks/{id}")) { (w["name"].as_str().unwrap_or(id)) }
                                        div.muted { small { (w["provider"].as_str().unwrap_or("")) } }
                                    }
                                    td { (badge(w["health"]["state"].as_str().unwrap_or("unknown"))) }
                                    td { (badge(w["status"].as_str().unwrap_or(""))) }
                                    td.hide-narrow { code { (w["event_types"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) } }
                                    td.hide-narrow { (time(&last(id))) }
                                    td.hide-narrow { (figure(&w["health"]["success_rate_24h"], "%")) }
                                    td.hide-narrow { (chart::sparkline("Attempts per hour over the last 24 hours", &volume(id))) }
                                }
                            }
                        }
                    }
                }
                @if !session.row.read_only {
                    div.row.actions {
                        button.secondary type="submit" name="action" value="pause" { "Pause selected" }
                        button.secondary type="submit" name="action" value="resume" { "Resume selected" }
                        button.danger type="submit" name="action" value="delete" data-confirm="Delete the selected webhooks? Their queued deliveries are dropped." { "Delete selected" }
                    }
                }
            }
            (layout::next_page(&format!("/ui/webhooks?{}", list_query(&ListFilter { cursor: String::new(), done: String::new(), ..filter })), &answer))
        }
    };
    Ok(layout::page(&session, "Webhooks", "/ui/webhooks", body).into_response())
}

/// A webhook's attempts per hour over the answer's window, oldest first.
/// Grouped answers list only the buckets that hold data, so the hours are
/// laid out from the window's start.
fn hourly_counts(answer: &Value, webhook_id: &str) -> Vec<f64> {
    let at = |v: &Value| {
        v.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    };
    let (Some(start), Some(end)) = (at(&answer["meta"]["start"]), at(&answer["meta"]["end"]))
    else {
        return Vec::new();
    };
    let hours = ((end - start) / 3600).clamp(1, 24 * 31) as usize;
    let mut counts = vec![0.0; hours];
    for bucket in answer["data"].as_array().into_iter().flatten() {
        if bucket["dimensions"]["webhook_id"] != webhook_id {
            continue;
        }
        if let Some(t) = at(&bucket["time_bucket"]) {
            let slot = ((t - start) / 3600) as usize;
            if let Some(count) = counts.get_mut(slot) {
                *count += bucket["metrics"]["count"].as_f64().unwrap_or(0.0);
            }
        }
    }
    counts
}

/// Back to the list with a message.
fn to_list(message: &str) -> Response {
    Redirect::to(&format!("/ui/webhooks?done={}", encode(message))).into_response()
}

/// Back to a webhook's page with the outcome of an action.
fn to_webhook(id: &str, answer: &Answer, done: &str) -> Response {
    back_to(&format!("/ui/webhooks/{}", encode(id)), answer, done)
}

/// Calls `method /webhooks/{id}{suffix}` for a webhook form and goes
/// back to the webhook's page with the outcome (`done` says it from the
/// API's answer).
async fn act(
    state: &ConsoleState,
    form: &Form,
    id: &str,
    (method, suffix): (Method, &str),
    body: Option<Value>,
    done: impl FnOnce(&Value) -> String,
) -> PageResult<Response> {
    require(&form.session, "webhooks")?;
    let path = format!("/webhooks/{}{suffix}", encode(id));
    let answer = state.call(&form.session, method, &path, body).await;
    Ok(to_webhook(id, &answer, &done(&answer.body)))
}

/// `POST /ui/webhooks/bulk`: pause, resume or delete the ticked webhooks.
pub(crate) async fn bulk(State(state): State<ConsoleState>, form: Form) -> PageResult<Response> {
    require(&form.session, "webhooks")?;
    let ids = form.all("id");
    if ids.is_empty() {
        return Ok(to_list("Nothing was selected."));
    }
    let action = form.text("action");
    if action == "delete" {
        let answer = state
            .call(
                &form.session,
                Method::POST,
                "/webhooks/bulk-delete",
                Some(json!({"ids": ids})),
            )
            .await;
        if !answer.is_success() {
            return Ok(to_list(&answer.error_message()));
        }
        return Ok(to_list(&format!("Deleted {} webhook(s).", ids.len())));
    }
    let status = match action.as_str() {
        "pause" => "paused",
        "resume" => "active",
        _ => return Ok(to_list("Unknown action.")),
    };
    let mut failed = Vec::new();
    for id in &ids {
        let answer = state
            .call(
                &form.session,
                Method::PATCH,
                &format!("/webhooks/{}", encode(id)),
                Some(json!({"status": status})),
            )
            .await;
        if !answer.is_success() {
            failed.push(format!("{id}: {}", answer.error_message()));
        }
    }
    if failed.is_empty() {
        Ok(to_list(&format!("{} webhook(s) now {status}.", ids.len())))
    } else {
        Ok(to_list(&failed.join("; ")))
    }
}

/// `GET /ui/webhooks/{id}`.
pub(crate) async fn show(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    require(&session, "webhooks")?;
    let path = format!("/webhooks/{}", encode(&id));
    let w = state.get(&session, &path).await?;
    let report = state
        .get(&session, &format!("{path}/analytics?period_days=14"))
        .await?;
    let deliveries = state
        .get(&session, &format!("{path}/deliveries?limit=20"))
        .await?;
    let body = html! {
        p { a href="/ui/webhooks" { "← Webhooks" } }
        div.row.spread {
            h1 { (provider_icon(w["provider"].as_str().unwrap_or(""))) (w["name"].as_str().unwrap_or(&id)) }
            div.row {
                (badge(w["status"].as_str().unwrap_or("")))
                (badge(w["health"]["state"].as_str().unwrap_or("unknown")))
            }
        }
        (flash.notice())
        (actions(&session, &id, &w))
        div.grid2 {
            section.card aria-labelledby="health-h" {
                h2 #health-h { "Health" }
                (health(&w["health"]))
            }
            section.card aria-labelledby="setup-h" {
                h2 #setup-h { "Set-up" }
                dl.facts {
                    dt { "Provider" } dd { (w["provider"].as_str().unwrap_or("")) }
                    dt { "Destination" } dd { code { (w["url"].as_str().unwrap_or("—")) } }
                    dt { "Event types" } dd { code { (w["event_types"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) } }
                    dt { "Tags" } dd { (w["tags"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                    dt { "Retries" } dd { (w["retry"]["max_retries"]) " (" (w["retry"]["strategy"].as_str().unwrap_or("")) ")" }
                    dt { "Ordering" } dd { (w["ordering"].as_str().unwrap_or("")) }
                    dt { "Created" } dd { (time(&w["created_at"])) }
                }
                details { summary { "Everything (JSON)" } pre { (layout::pretty(&w)) } }
            }
        }
        (charts(&report))
        h2 { "Recent deliveries" }
        (super::deliveries::table(&deliveries, false))
        p { a href=(format!("/ui/deliveries?webhook_id={}", encode(&id))) { "All of this webhook's deliveries →" } }
    };
    Ok(layout::page(
        &session,
        w["name"].as_str().unwrap_or("Webhook"),
        "/ui/webhooks",
        body,
    )
    .into_response())
}

fn health(h: &Value) -> Markup {
    html! {
        dl.facts {
            dt { "State" } dd { (badge(h["state"].as_str().unwrap_or("unknown"))) }
            dt { "Success, last hour" } dd { (figure(&h["success_rate_1h"], "%")) }
            dt { "Success, last 24 h" } dd { (figure(&h["success_rate_24h"], "%")) }
            dt { "p95, last hour" } dd { (figure(&h["p95_ms_1h"], " ms")) }
            dt { "Failures in a row" } dd { (h["consecutive_failures"].as_u64().unwrap_or(0)) }
            dt { "Last success" } dd { (time(&h["last_success_at"])) }
            dt { "Last failure" } dd { (time(&h["last_failure_at"])) }
            dt { "Last error" } dd { (h["last_error"].as_str().unwrap_or("—")) }
            @if h["throttled_until"].is_string() { dt { "Throttled until" } dd { (time(&h["throttled_until"])) } }
        }
    }
}

fn charts(report: &Value) -> Markup {
    let days = report["daily"].as_array().cloned().unwrap_or_default();
    let bars = |f: &dyn Fn(&Value) -> f64, bad: bool| -> Vec<Bar> {
        days.iter()
            .map(|d| Bar {
                label: d["date"]
                    .as_str()
                    .unwrap_or("")
                    .get(5..)
                    .unwrap_or("")
                    .to_string(),
                value: f(d),
                bad,
            })
            .collect()
    };
    html! {
        h2 { "Last 14 days" }
        div.grid2 {
            (chart::bars("Events per day", &bars(&|d| d["total_events"].as_f64().unwrap_or(0.0), false), ""))
            (chart::bars("Success rate per day", &bars(&|d| d["success_rate"].as_f64().unwrap_or(0.0) * 100.0, false), "%"))
            (chart::bars("p95 response time per day", &bars(&|d| d["p95_response_time_ms"].as_f64().unwrap_or(0.0), false), " ms"))
            (chart::bars("Failed deliveries per day", &bars(&|d| d["failed_deliveries"].as_f64().unwrap_or(0.0), true), ""))
        }
    }
}

fn actions(session: &Session, id: &str, w: &Value) -> Markup {
    if session.row.read_only {
        return html! {};
    }
    let base = format!("/ui/webhooks/{}", encode(id));
    let status = w["status"].as_str().unwrap_or("");
    html! {
        section.card aria-labelledby="actions-h" {
            h2 #actions-h { "Actions" }
            div.row {
                a.button.secondary href=(format!("{base}/edit")) { "Edit" }
                @if status == "active" {
                    form.inline method="post" action=(format!("{base}/status")) {
                        (csrf(session)) input type="hidden" name="status" value="paused";
                        button.secondary type="submit" { "Pause" }
                    }
                } @else if status == "paused" {
                    form.inline method="post" action=(format!("{base}/status")) {
                        (csrf(session)) input type="hidden" name="status" value="active";
                        button.secondary type="submit" { "Resume" }
                    }
                } @else if status == "disabled" {
                    form.inline method="post" action=(format!("{base}/enable")) {
                        (csrf(session))
                        button.secondary type="submit" { "Enable" }
                    }
                }
                form.inline method="post" action=(format!("{base}/rotate-secret")) data-confirm="Rotate the signing secret? The old one keeps working for 24 hours." {
                    (csrf(session))
                    button.secondary type="submit" { "Rotate secret" }
                }
                form.inline method="post" action=(format!("{base}/delete")) data-confirm="Delete this webhook? Its queued deliveries are dropped." {
                    (csrf(session))
                    button.danger type="submit" { "Delete" }
                }
            }
            div.grid2 {
            form method="post" action=(format!("{base}/test")) data-busy="Sending…" {
                (csrf(session))
                h3 { "Send a test event" }
                label for="test-type" { "Event type" }
                input #test-type type="text" name="event_type" placeholder="herald.test" aria-describedby="test-type-help";
                p.help #test-type-help { "A registered type's example is sent when the data is left empty." }
                label for="test-data" { "Data (JSON, optional)" }
                textarea #test-data name="data" placeholder="{\"message\": \"hello\"}" {}
                p { button type="submit" { "Send test" } }
            }
            form method="post" action=(format!("{base}/retry-failed")) {
                (csrf(session))
                h3 { "Retry failed deliveries" }
                div.row {
                    div { label for="since" { "Failed since (hours ago)" } input #since type="number" name="hours" min="1" max="720" value="24"; }
                }
                p { button.secondary type="submit" { "Retry failed" } }
            }
            }
        }
    }
}

/// `POST /ui/webhooks/{id}/test`: sends now and shows what came back.
pub(crate) async fn test_send(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "webhooks")?;
    let mut body = json!({});
    let event_type = form.text("event_type");
    if !event_type.is_empty() {
        body["event_type"] = json!(event_type);
    }
    let data = form.text("data");
    if !data.is_empty() {
        match serde_json::from_str::<Value>(&data) {
            Ok(v) => body["data"] = v,
            Err(e) => {
                let answer = Answer {
                    status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    body: json!({"error": {"message": format!("data is not JSON: {e}")}}),
                };
                return Ok(to_webhook(&id, &answer, ""));
            }
        }
    }
    let answer = state
        .call(
            &form.session,
            Method::POST,
            &format!("/webhooks/{}/test", encode(&id)),
            Some(body),
        )
        .await;
    if !answer.is_success() {
        return Ok(to_webhook(&id, &answer, ""));
    }
    let r = &answer.body;
    let ok = r["success"].as_bool().unwrap_or(false);
    let page = html! {
        p { a href=(format!("/ui/webhooks/{}", encode(&id))) { "← Back to the webhook" } }
        h1 { "Test result" }
        (layout::notice(if ok { "good" } else { "bad" }, if ok { "Delivered: the destination accepted the test event." } else { "Not delivered: see what the destination answered." }))
        dl.facts.card {
            dt { "Status code" } dd { (r["status_code"].as_u64().map(|c| c.to_string()).unwrap_or("—".into())) }
            dt { "Time" } dd { (figure(&r["duration_ms"], " ms")) }
            dt { "Error" } dd { (r["error"].as_str().unwrap_or("—")) }
            @if let Some(d) = r["delivery_id"].as_str() { dt { "Delivery" } dd { a href=(format!("/ui/deliveries/{}", encode(d))) { (d) } } }
        }
        h2 { "Response body" }
        pre { (r["response_body"].as_str().unwrap_or("(empty)")) }
    };
    Ok(layout::page(&form.session, "Test result", "/ui/webhooks", page).into_response())
}

/// `POST /ui/webhooks/{id}/status`: pause or resume.
pub(crate) async fn set_status(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    let status = form.text("status");
    let done = if status == "paused" {
        "Paused."
    } else {
        "Resumed."
    };
    let body = Some(json!({"status": status}));
    act(&state, &form, &id, (Method::PATCH, ""), body, |_| {
        done.into()
    })
    .await
}

/// `POST /ui/webhooks/{id}/enable`: after the circuit breaker.
pub(crate) async fn enable(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    let done = |_: &Value| "Enabled; held deliveries are on their way.".to_string();
    act(&state, &form, &id, (Method::POST, "/enable"), None, done).await
}

/// `POST /ui/webhooks/{id}/rotate-secret`: the new secret, shown once.
pub(crate) async fn rotate_secret(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "webhooks")?;
    let answer = state
        .call(
            &form.session,
            Method::POST,
            &format!("/webhooks/{}/secret/rotate", encode(&id)),
            None,
        )
        .await;
    if !answer.is_success() {
        return Ok(to_webhook(&id, &answer, ""));
    }
    let page = html! {
        p { a href=(format!("/ui/webhooks/{}", encode(&id))) { "← Back to the webhook" } }
        h1 { "New signing secret" }
        (layout::notice("good", "Copy it now: it is not shown again. The previous secret keeps working until the time below."))
        dl.facts.card {
            dt { "Secret" } dd { code { (answer.body["secret"].as_str().unwrap_or("")) } }
            @if let Some(previous) = answer.body["previous"].as_array().and_then(|p| p.first()) {
                dt { "Previous secret valid until" } dd { (time(&previous["expires_at"])) }
            }
        }
    };
    Ok(layout::page(&form.session, "New secret", "/ui/webhooks", page).into_response())
}

/// `POST /ui/webhooks/{id}/retry-failed`: requeues the failed deliveries
/// of the last N hours.
pub(crate) async fn retry_failed(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    let hours: i64 = form.text("hours").parse().unwrap_or(24).clamp(1, 720);
    let body = Some(json!({"max_age_hours": hours}));
    let done = |answer: &Value| {
        let requeued = answer["requeued"].as_u64().unwrap_or(0);
        format!("{requeued} failed deliveries of the last {hours} hours requeued.")
    };
    act(&state, &form, &id, (Method::POST, "/retry"), body, done).await
}

/// `POST /ui/webhooks/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    require(&form.session, "webhooks")?;
    let answer = state
        .call(
            &form.session,
            Method::DELETE,
            &format!("/webhooks/{}", encode(&id)),
            None,
        )
        .await;
    if answer.is_success() {
        Ok(to_list("Webhook deleted."))
    } else {
        Ok(to_webhook(&id, &answer, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_counts_lay_sparse_buckets_out_from_the_window_start() {
        let answer = json!({
            "meta": {"start": "2026-12-03T18:00:00.000Z", "end": "2026-12-03T22:00:00.000Z"},
            "data": [
                {"time_bucket": "2026-12-03T19:00:00.000Z", "dimensions": {"webhook_id": "wh_a"}, "metrics": {"count": 3}},
                {"time_bucket": "2026-12-03T21:00:00.000Z", "dimensions": {"webhook_id": "wh_a"}, "metrics": {"count": 5}},
                {"time_bucket": "2026-12-03T21:00:00.000Z", "dimensions": {"webhook_id": "wh_b"}, "metrics": {"count": 7}},
            ]
        });
        assert_eq!(hourly_counts(&answer, "wh_a"), vec![0.0, 3.0, 0.0, 5.0]);
        assert_eq!(hourly_counts(&answer, "wh_c"), vec![0.0; 4]);
        assert!(hourly_counts(&json!({}), "wh_a").is_empty());
    }
}
