//! Attempts that always end in a judgement. Sending and judging run under
//! a guard: a panic anywhere in between (a bug, or an answer no one
//! foresaw) becomes an `internal` failure of that attempt, recorded and
//! retried like any other, so a delivery is never left leased with nothing
//! to say why.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use herald_core::delivery::AttemptOutcome;
use herald_store::{ClaimedDelivery, NextStep, now_ms};

use super::Inner;
use super::outcome::{self, Clock, Judgement};
use crate::registry::Route;

/// Sends one delivery and judges what came back.
pub(super) async fn one(inner: &Inner, route: &Route, delivery: &ClaimedDelivery) -> Judgement {
    let clock = || Clock::live(inner.max_retry_after);
    let judged = guarded(
        async {
            let result = inner.sender.send(route, delivery).await;
            outcome::judge(route, delivery, result, clock())
        },
        |started_at_ms, took, message| {
            outcome::internal_failure(route, delivery, started_at_ms, took, message, clock())
        },
    )
    .await;
    count_attempt(inner, route, &judged);
    count_end(inner, route, delivery, &judged);
    judged
}

/// Sends a group of deliveries as one request; every delivery of the group
/// gets the attempt's outcome.
pub(super) async fn group(
    inner: &Inner,
    route: &Route,
    group: &[ClaimedDelivery],
) -> Vec<Judgement> {
    let clock = || Clock::live(inner.max_retry_after);
    let judged: Vec<Judgement> = guarded(
        async {
            let result = inner.sender.send_batch(route, group).await;
            group
                .iter()
                .map(|d| outcome::judge(route, d, result.clone(), clock()))
                .collect()
        },
        |started_at_ms, took, message| {
            group
                .iter()
                .map(|d| {
                    outcome::internal_failure(
                        route,
                        d,
                        started_at_ms,
                        took,
                        message.clone(),
                        clock(),
                    )
                })
                .collect()
        },
    )
    .await;
    // One request: one attempt to count, and every delivery's end.
    if let Some(first) = judged.first() {
        count_attempt(inner, route, first);
    }
    for (delivery, j) in group.iter().zip(&judged) {
        count_end(inner, route, delivery, j);
    }
    judged
}

/// One attempt for the metrics. Test sends and recovery probes are not
/// traffic and are not counted.
fn count_attempt(inner: &Inner, route: &Route, judged: &Judgement) {
    let r = &judged.record;
    if r.test {
        return;
    }
    let outcome = crate::metrics::attempt_outcome(
        r.outcome == AttemptOutcome::Success,
        r.status_code,
        r.error_category,
    );
    inner.metrics.attempt(
        route.provider.kind(),
        &r.webhook_id,
        outcome,
        Duration::from_millis(r.duration_ms),
    );
}

/// A delivery that ended with this attempt, for the metrics; a delivered
/// one with its latency, from being queued to the answer.
fn count_end(inner: &Inner, route: &Route, delivery: &ClaimedDelivery, judged: &Judgement) {
    let r = &judged.record;
    if r.test {
        return;
    }
    let status = match r.next {
        NextStep::Delivered => "delivered",
        NextStep::Failed => "failed",
        NextStep::Skipped => "skipped",
        NextStep::RetryAt(_) => return,
    };
    let answered_at_ms = r.started_at_ms + r.duration_ms as i64;
    let latency = (r.next == NextStep::Delivered).then(|| {
        Duration::from_millis(u64::try_from(answered_at_ms - delivery.queued_at_ms).unwrap_or(0))
    });
    inner
        .metrics
        .finished(route.provider.kind(), &r.webhook_id, status, latency);
}

/// Runs `attempt`; if it panics, answers `on_panic(started_at_ms, how
/// long it ran, what the panic said)` instead.
async fn guarded<T>(
    attempt: impl Future<Output = T>,
    on_panic: impl FnOnce(i64, Duration, String) -> T,
) -> T {
    let (started_at_ms, started) = (now_ms(), Instant::now());
    match AssertUnwindSafe(attempt).catch_unwind().await {
        Ok(done) => done,
        Err(panic) => on_panic(
            started_at_ms,
            started.elapsed(),
            failure_message(panic.as_ref()),
        ),
    }
}

/// What the attempt log says about a panic (its message, when it has one).
fn failure_message(panic: &(dyn Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no detail".to_string());
    tracing::error!(panic = %detail, "an attempt failed inside Herald; recorded and retried");
    format!("Herald failed while making this attempt ({detail}); it will be retried")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_attempt_answers_what_its_fallback_makes_of_it() {
        let answer = guarded(
            async {
                let secs: f64 = 1e20;
                let _ = Duration::from_secs_f64(secs);
                "sent"
            },
            |_, _, message| {
                assert!(
                    message.contains("cannot convert float seconds"),
                    "{message}"
                );
                "recorded as internal"
            },
        )
        .await;
        assert_eq!(answer, "recorded as internal");
        let fine = guarded(async { "sent" }, |_, _, _| "recorded as internal").await;
        assert_eq!(fine, "sent");
    }
}
