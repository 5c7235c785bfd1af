//! `/ui`: the last 24 hours at a glance: volume and failures by hour,
//! success rate, p95 latency, the queue, and webhooks by health.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::Value;

use crate::console::ConsoleState;
use crate::console::chart::{self, Bar};
use crate::console::layout::{self, figure};
use crate::console::page::PageResult;
use crate::console::session::Session;

pub(crate) async fn show(
    State(state): State<ConsoleState>,
    session: Session,
) -> PageResult<Response> {
    let summary = state.get(&session, "/stats/summary").await?;
    let counts = state.get(&session, "/stats").await?;
    let hours = state.get(&session, "/analytics?granularity=1h").await?;
    let health = if session.allows("webhooks") {
        Some(state.get(&session, "/webhooks?limit=250").await?)
    } else {
        None
    };
    let buckets = hours["data"].as_array().cloned().unwrap_or_default();
    let label = |b: &Value| {
        b["time_bucket"]
            .as_str()
            .and_then(|t| t.get(11..16))
            .unwrap_or("")
            .to_string()
    };
    // One bar per hour of `metric`.
    let series = |metric: &str, bad: bool| -> Vec<Bar> {
        buckets
            .iter()
            .map(|b| Bar {
                label: label(b),
                value: b["metrics"][metric].as_f64().unwrap_or(0.0),
                bad,
            })
            .collect()
    };
    let volume = series("count", false);
    let failures = series("failed", true);
    let latency = series("p95_ms", false);
    let day = &summary["last_24h"];
    let queue = &counts["deliveries"];
    let by_health = health.as_ref().map(|list| {
        let mut states: Vec<(String, usize)> = Vec::new();
        for w in list["data"].as_array().into_iter().flatten() {
            let s = w["health"]["state"]
                .as_str()
                .unwrap_or("unknown")
                .to_string();
            match states.iter_mut().find(|(n, _)| *n == s) {
                Some((_, c)) => *c += 1,
                None => states.push((s, 1)),
            }
        }
        states
    });
    let body = html! {
        h1 { "Overview" }
        p.muted { "The last 24 hours, by hour." }
        section.tiles aria-label="Key figures" {
            div.tile { div.label { "Attempts" } div.value { (figure(&day["attempts"], "")) } }
            div.tile { div.label { "Success rate" } div.value { (figure(&day["success_rate"], "%")) } }
            div.tile { div.label { "p95 response" } div.value { (figure(&day["p95_response_time_ms"], " ms")) } }
            div.tile { div.label { "Delivered" } div.value { (figure(&day["delivered"], "")) } }
            div.tile { div.label { "Failed" } div.value { (figure(&day["failed"], "")) } }
            div.tile { div.label { "Backlog (pending + retrying)" } div.value {
                (queue["pending"].as_u64().unwrap_or(0) + queue["retrying"].as_u64().unwrap_or(0))
            } }
            div.tile { div.label { "Oldest waiting" } div.value { (age(&counts["queue"]["oldest_pending_age_seconds"])) } }
        }
        div.grid2 {
            (chart::bars("Attempts per hour", &volume, ""))
            (chart::bars("Failed deliveries per hour", &failures, ""))
            (chart::bars("p95 response time per hour", &latency, " ms"))
            @if let Some(states) = &by_health {
                section.card aria-labelledby="health-title" {
                    h2 #health-title { "Webhooks by health" }
                    @if states.is_empty() {
                        (layout::empty("No webhooks yet.", html! { a.button href="/ui/webhooks/new" { "Create a webhook" } }))
                    } @else {
                        ul {
                            @for (s, n) in states {
                                li { a href=(format!("/ui/webhooks?health={s}")) { (layout::badge(s)) } " " (n) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Deliveries by state" }
        div.table-wrap {
            table {
                thead { tr { @for k in ["scheduled", "pending", "delivering", "retrying", "delivered", "failed", "skipped", "cancelled"] { th.num scope="col" { (k) } } } }
                tbody { tr { @for k in ["scheduled", "pending", "delivering", "retrying", "delivered", "failed", "skipped", "cancelled"] { td.num { (queue[k].as_u64().unwrap_or(0)) } } } }
            }
        }
    };
    Ok(layout::page(&session, "Overview", "/ui", body).into_response())
}

/// A waiting time in the largest unit that keeps it short; `—` for none.
fn age(seconds: &Value) -> String {
    let Some(s) = seconds.as_f64() else {
        return "—".to_string();
    };
    match s {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}
