//! Judging an attempt: success, retry (and when) or failure, turned into
//! the record the store keeps.

use std::time::Duration;

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

fn headers_json(headers: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Decides the delivery's next step from the attempt's result and the
/// webhook's retry policy. A destination's `Retry-After` replaces the
/// computed backoff, clamped to `max_retry_after`. Test deliveries are
/// never retried.
pub(crate) fn judge(
    route: &Route,
    delivery: &ClaimedDelivery,
    result: AttemptResult,
    max_retry_after: Duration,
) -> Judgement {
    let policy = &route.webhook.spec.retry;
    let verdict = match (result.verdict, result.status, &result.error) {
        (Some(verdict), _, _) => verdict,
        (None, Some(status), _) => policy.judge_status(status),
        (None, None, Some((category, _))) => policy.judge_error(*category),
        (None, None, None) => Verdict::Permanent,
    };
    let number = delivery.attempt_number();
    let finished_ms = result.started_at_ms + result.duration.as_millis() as i64;
    // The destination's own word on when to come back, capped.
    let asked = result
        .retry_delay
        .or_else(|| {
            result
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
        })
        .map(|d| d.min(max_retry_after));
    // A 429 or 503 that says when to come back speaks for the whole
    // destination, not only this delivery.
    let hold_until_ms = match result.status {
        Some(429 | 503) => asked.map(|d| finished_ms + d.as_millis() as i64),
        _ => None,
    };
    let next = match verdict {
        _ if result.skipped => NextStep::Skipped,
        Verdict::Success => NextStep::Delivered,
        Verdict::Permanent => NextStep::Failed,
        Verdict::Retryable if delivery.test => NextStep::Failed,
        Verdict::Retryable => {
            let retry = number - delivery.schedule_base;
            match policy.delay_before_retry(retry, rand::random::<f64>()) {
                None => NextStep::Failed,
                Some(backoff) => {
                    let delay = asked.unwrap_or(backoff);
                    NextStep::RetryAt(finished_ms + delay.as_millis() as i64)
                }
            }
        }
    };
    let outcome = match next {
        NextStep::Delivered => AttemptOutcome::Success,
        NextStep::RetryAt(_) => AttemptOutcome::Retry,
        NextStep::Failed => AttemptOutcome::Failed,
        NextStep::Skipped => AttemptOutcome::Skipped,
    };
    let (error_category, error_message) = match &result.error {
        Some((c, m)) => (Some(*c), Some(m.clone())),
        None => (None, None),
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
        test: delivery.test,
        disable_after: route.webhook.spec.auto_disable_after,
        number,
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
        hold_until_ms,
    }
}
