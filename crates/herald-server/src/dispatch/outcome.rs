//! Judging an attempt: success, retry (and when) or failure, turned into
//! the record the store keeps. Pure: the clock and the jitter come from the
//! caller ([`Clock`]), so every decision is tested without waiting.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald_core::delivery::AttemptOutcome;
use herald_core::ids;
use herald_core::retry::{Verdict, parse_retry_after};
use herald_store::{AttemptRecord, ClaimedDelivery, NextStep};

use super::sender::AttemptResult;
use crate::registry::Route;

/// What an attempt decided.
pub(crate) struct Judgement {
    pub(crate) record: AttemptRecord,
    /// Only for test sends.
    pub(crate) report: Option<TestReport>,
    /// The destination asked to hear nothing from this webhook until then.
    pub(crate) hold_until_ms: Option<i64>,
}

/// What a test send reports to its caller.
#[derive(Debug)]
pub(crate) struct TestReport {
    pub(crate) success: bool,
    pub(crate) status_code: Option<u16>,
    pub(crate) duration_ms: u64,
    pub(crate) response_body: Option<String>,
    pub(crate) error: Option<String>,
}

/// What a judgement may depend on besides the attempt: the time (for
/// `Retry-After` dates), a random number in [0, 1) for the backoff's
/// jitter, and the server's cap on a destination's `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) now: DateTime<Utc>,
    pub(crate) unit_random: f64,
    pub(crate) max_retry_after: Duration,
}

impl Clock {
    /// The real time and a fresh random number.
    pub(crate) fn live(max_retry_after: Duration) -> Clock {
        Clock {
            now: Utc::now(),
            unit_random: rand::random::<f64>(),
            max_retry_after,
        }
    }
}

/// Headers as the delivery log stores them, a JSON object in their order
/// (a repeated name keeps its last value, as a JSON reader takes it).
/// Written straight from the pairs: building a `serde_json::Map` first
/// copied every name and value of every attempt.
fn headers_json(headers: &[(String, String)]) -> String {
    struct Headers<'a>(&'a [(String, String)]);
    impl serde::Serialize for Headers<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    serde_json::to_string(&Headers(headers)).expect("strings always serialize")
}

/// Decides the delivery's next step from the attempt's result and the
/// webhook's retry policy. A destination's `Retry-After` replaces the
/// computed backoff, clamped to `clock.max_retry_after`. Test deliveries
/// are never retried.
pub(crate) fn judge(
    route: &Route,
    delivery: &ClaimedDelivery,
    result: AttemptResult,
    clock: Clock,
) -> Judgement {
    let policy = &route.webhook.spec.retry;
    let verdict = match (result.verdict, result.status, &result.error) {
        (Some(verdict), _, _) => verdict,
        (None, Some(status), _) => policy.judge_status(status),
        (None, None, Some((category, _))) => policy.judge_error(*category),
        (None, None, None) => Verdict::Permanent,
    };
    // The destination's own word on when to come back, capped.
    let asked = result
        .retry_delay
        .or_else(|| {
            result
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, clock.now))
        })
        .map(|d| d.min(clock.max_retry_after));
    // A 429 or 503 that says when to come back speaks for the whole
    // destination, not only this delivery.
    let hold_until_ms = match result.status {
        Some(429 | 503) => asked.map(|d| finished_ms(&result) + d.as_millis() as i64),
        _ => None,
    };
    let next = if result.skipped {
        NextStep::Skipped
    } else {
        next_step(route, delivery, verdict, asked, finished_ms(&result), clock)
    };
    Judgement {
        hold_until_ms,
        ..recorded(route, delivery, result, next)
    }
}

/// The judgement of an attempt that Herald itself failed to make (a panic
/// anywhere between claiming and judging): recorded as category `internal`
/// and retried on the webhook's schedule, so the delivery is never left
/// leased and unexplained. Touches nothing the destination sent, so it
/// cannot fail the same way again.
pub(crate) fn internal_failure(
    route: &Route,
    delivery: &ClaimedDelivery,
    started_at_ms: i64,
    duration: Duration,
    message: String,
    clock: Clock,
) -> Judgement {
    let result = AttemptResult::internal(started_at_ms, duration, message);
    let next = next_step(
        route,
        delivery,
        Verdict::Retryable,
        None,
        finished_ms(&result),
        clock,
    );
    recorded(route, delivery, result, next)
}

fn finished_ms(result: &AttemptResult) -> i64 {
    result.started_at_ms + result.duration.as_millis() as i64
}

fn next_step(
    route: &Route,
    delivery: &ClaimedDelivery,
    verdict: Verdict,
    asked: Option<Duration>,
    finished_ms: i64,
    clock: Clock,
) -> NextStep {
    match verdict {
        Verdict::Success => NextStep::Delivered,
        Verdict::Permanent => NextStep::Failed,
        Verdict::Retryable if delivery.test => NextStep::Failed,
        Verdict::Retryable => {
            let retry = delivery.attempt_number() - delivery.schedule_base;
            match route
                .webhook
                .spec
                .retry
                .delay_before_retry(retry, clock.unit_random)
            {
                None => NextStep::Failed,
                Some(backoff) => {
                    let delay = asked.unwrap_or(backoff);
                    NextStep::RetryAt(finished_ms + delay.as_millis() as i64)
                }
            }
        }
    }
}

/// The record (and a test send's report) of an attempt whose next step is
/// decided.
fn recorded(
    route: &Route,
    delivery: &ClaimedDelivery,
    result: AttemptResult,
    next: NextStep,
) -> Judgement {
    let outcome = match next {
        NextStep::Delivered => AttemptOutcome::Success,
        NextStep::RetryAt(_) => AttemptOutcome::Retry,
        NextStep::Failed => AttemptOutcome::Failed,
        NextStep::Skipped => AttemptOutcome::Skipped,
    };
    // A delivered attempt carries no error, whatever happened after the
    // destination accepted it (a body that broke off, say).
    let (error_category, error_message) = match (&result.error, outcome) {
        (_, AttemptOutcome::Success) | (None, _) => (None, None),
        (Some((c, m)), _) => (Some(*c), Some(m.clone())),
    };
    let report = delivery.test.then(|| TestReport {
        success: outcome == AttemptOutcome::Success,
        status_code: result.status,
        duration_ms: result.duration.as_millis() as u64,
        response_body: result.response_body.clone(),
        error: error_message.clone(),
    });
    let record = AttemptRecord {
        id: ids::new_id(ids::ATTEMPT),
        delivery_seq: delivery.seq,
        tenant_id: delivery.tenant_id.clone(),
        webhook_id: delivery.webhook_id.clone(),
        provider: route.provider.kind().as_str().to_string(),
        event_type: delivery.event_type.clone(),
        test: delivery.test,
        disable_after: route.webhook.spec.auto_disable_after,
        number: delivery.attempt_number(),
        started_at_ms: result.started_at_ms,
        duration_ms: result.duration.as_millis() as u64,
        status_code: result.status,
        outcome,
        error_category,
        error_message,
        request_headers: headers_json(&result.request_headers),
        response_headers: result.response_headers.as_deref().map(headers_json),
        response_body: result.response_body.map(String::into_bytes),
        next,
    };
    Judgement {
        record,
        report,
        hold_until_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use herald_core::delivery::ErrorCategory;
    use herald_core::signing::SigningSecret;
    use herald_core::webhook::{Webhook, WebhookSpec};
    use serde_json::json;

    use super::*;

    #[test]
    fn headers_are_logged_as_a_json_object_in_their_order() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let text = headers_json(&[
            pair("webhook-id", "msg_1"),
            pair("x-quote", "say \"hi\"\n"),
            pair("set-cookie", "a=1"),
            pair("set-cookie", "b=2"),
        ]);
        assert!(
            text.starts_with(r#"{"webhook-id":"msg_1","x-quote":"say \"hi\"\n""#),
            "{text}"
        );
        let read: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(read["x-quote"], "say \"hi\"\n");
        assert_eq!(
            read["set-cookie"], "b=2",
            "a repeated name reads as its last value"
        );
        assert_eq!(headers_json(&[]), "{}");
    }

    fn route(retry: serde_json::Value) -> Route {
        let spec: WebhookSpec = serde_json::from_value(json!({
            "name": "judged",
            "url": "https://example.com/hook",
            "event_types": ["*"],
            "retry": retry,
        }))
        .unwrap();
        let webhook = Webhook::new(
            "wh_test".into(),
            "tnt_default".into(),
            spec,
            SigningSecret::generate(),
            Utc::now(),
        );
        Route::new(webhook).expect("a valid route")
    }

    fn delivery(attempt_count: u32, test: bool) -> ClaimedDelivery {
        ClaimedDelivery {
            seq: 7,
            id: "dlv_1".into(),
            tenant_id: "tnt_default".into(),
            webhook_id: "wh_test".into(),
            event_id: "evt_1".into(),
            event_type: "a.b".into(),
            body: Arc::from("{}"),
            attempt_count,
            schedule_base: 0,
            test,
            queued_at_ms: 0,
            traceparent: None,
        }
    }

    const T0: i64 = 1_800_000_000_000;

    fn clock(unit_random: f64) -> Clock {
        Clock {
            now: DateTime::from_timestamp_millis(T0).unwrap(),
            unit_random,
            max_retry_after: Duration::from_secs(3600),
        }
    }

    fn answered(status: u16, retry_after: Option<&str>) -> AttemptResult {
        let mut r = AttemptResult::internal(T0, Duration::from_millis(40), String::new());
        r.error = ErrorCategory::for_status(status).map(|c| (c, format!("HTTP {status}")));
        r.verdict = None;
        r.status = Some(status);
        r.retry_after = retry_after.map(str::to_string);
        r
    }

    fn failed_with(category: ErrorCategory) -> AttemptResult {
        let mut r = AttemptResult::internal(T0, Duration::from_millis(40), "failed".into());
        r.error = Some((category, "failed".into()));
        r.verdict = None;
        r
    }

    #[test]
    fn backoff_uses_the_injected_jitter_and_clock() {
        let r = route(json!({"initial_delay_ms": 1000, "jitter": true}));
        let low = judge(&r, &delivery(0, false), answered(500, None), clock(0.0));
        let high = judge(&r, &delivery(0, false), answered(500, None), clock(0.5));
        // 1 s × (0.8 + 0.4 × random), counted from the end of the attempt.
        assert_eq!(low.record.next, NextStep::RetryAt(T0 + 40 + 800));
        assert_eq!(high.record.next, NextStep::RetryAt(T0 + 40 + 1000));
        assert_eq!(low.record.outcome, AttemptOutcome::Retry);
        assert_eq!(low.record.error_category, Some(ErrorCategory::Http5xx));
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_is_capped() {
        let r = route(json!({"jitter": false}));
        let asked = judge(
            &r,
            &delivery(0, false),
            answered(503, Some("7")),
            clock(0.0),
        );
        assert_eq!(asked.record.next, NextStep::RetryAt(T0 + 40 + 7000));
        assert_eq!(asked.hold_until_ms, Some(T0 + 40 + 7000));
        // A date, read against the injected clock.
        let date = judge(
            &r,
            &delivery(0, false),
            answered(429, Some("Fri, 15 Jan 2027 08:00:30 GMT")),
            Clock {
                now: DateTime::parse_from_rfc3339("2027-01-15T08:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
                ..clock(0.0)
            },
        );
        assert_eq!(date.record.next, NextStep::RetryAt(T0 + 40 + 30_000));
        for absurd in [
            "1e20",
            "99999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            let j = judge(
                &r,
                &delivery(0, false),
                answered(503, Some(absurd)),
                clock(0.0),
            );
            assert_eq!(
                j.record.next,
                NextStep::RetryAt(T0 + 40 + 3_600_000),
                "{absurd}"
            );
        }
        // On a success the header means nothing.
        let ok = judge(
            &r,
            &delivery(0, false),
            answered(200, Some("1e20")),
            clock(0.0),
        );
        assert_eq!(ok.record.next, NextStep::Delivered);
        assert_eq!(ok.hold_until_ms, None);
    }

    #[test]
    fn retries_run_out_and_tests_are_never_retried() {
        let r = route(json!({"max_retries": 2, "jitter": false}));
        let last = judge(&r, &delivery(2, false), answered(500, None), clock(0.0));
        assert_eq!(last.record.next, NextStep::Failed);
        assert_eq!(last.record.number, 3);
        let test = judge(&r, &delivery(0, true), answered(500, None), clock(0.0));
        assert_eq!(test.record.next, NextStep::Failed);
        assert!(!test.report.unwrap().success);
    }

    #[test]
    fn statuses_and_errors_are_judged_by_the_policy() {
        let r = route(json!({"retry_on_status": [409]}));
        let d = delivery(0, false);
        let next = |result| judge(&r, &d, result, clock(0.0)).record.next;
        assert!(matches!(next(answered(409, None)), NextStep::RetryAt(_)));
        assert_eq!(next(answered(404, None)), NextStep::Failed);
        assert_eq!(next(answered(302, None)), NextStep::Failed);
        assert!(matches!(
            next(failed_with(ErrorCategory::Timeout)),
            NextStep::RetryAt(_)
        ));
        assert_eq!(next(failed_with(ErrorCategory::Render)), NextStep::Failed);
    }

    #[test]
    fn a_delivered_attempt_carries_no_error() {
        let r = route(json!({}));
        let mut result = answered(200, None);
        result.error = Some((ErrorCategory::Timeout, "the body stalled".into()));
        let j = judge(&r, &delivery(0, false), result, clock(0.0));
        assert_eq!(j.record.next, NextStep::Delivered);
        assert_eq!(j.record.error_category, None);
        assert_eq!(j.record.error_message, None);
    }

    #[test]
    fn an_internal_failure_is_recorded_and_retried() {
        let r = route(json!({"max_retries": 1, "initial_delay_ms": 500, "jitter": false}));
        let j = internal_failure(
            &r,
            &delivery(0, false),
            T0,
            Duration::from_millis(3),
            "boom".into(),
            clock(0.0),
        );
        assert_eq!(j.record.outcome, AttemptOutcome::Retry);
        assert_eq!(j.record.error_category, Some(ErrorCategory::Internal));
        assert_eq!(j.record.next, NextStep::RetryAt(T0 + 3 + 500));
        // Out of retries, it fails visibly rather than looping forever.
        let j = internal_failure(
            &r,
            &delivery(1, false),
            T0,
            Duration::ZERO,
            "boom".into(),
            clock(0.0),
        );
        assert_eq!(j.record.next, NextStep::Failed);
        assert_eq!(j.record.error_category, Some(ErrorCategory::Internal));
    }
}
