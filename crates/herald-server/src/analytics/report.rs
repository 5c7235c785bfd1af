//! Rollup figures as the API shows them. A rate or a duration with no
//! attempts behind it is `null`, never 0.

use herald_store::rollups::RollupFigures;
use serde_json::{Value, json};

/// Error classes of the per-webhook report, by attempt outcome.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Breakdown {
    pub(crate) http_4xx: u64,
    pub(crate) http_5xx: u64,
    pub(crate) timeout: u64,
    /// Connect, DNS and TLS failures: the destination was not reached.
    pub(crate) network: u64,
}

impl Breakdown {
    pub(crate) fn add(&mut self, outcome: &str, attempts: u64) {
        match outcome {
            "http_4xx" => self.http_4xx += attempts,
            "http_5xx" => self.http_5xx += attempts,
            "timeout" => self.timeout += attempts,
            "connect" | "dns" | "tls" => self.network += attempts,
            _ => {}
        }
    }
}

/// Milliseconds to one decimal.
pub(crate) fn round_ms(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

fn rate(part: u64, whole: u64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!((part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
    }
}

/// The per-webhook report's fields for one period (or one day).
pub(crate) fn figures_json(f: &RollupFigures, errors: &Breakdown) -> Value {
    let h = &f.histogram;
    let quantile = |q: f64| h.quantile(q).map(round_ms);
    json!({
        "total_events": f.first_attempts,
        "total_attempts": f.attempts,
        "successful_deliveries": f.delivered,
        "failed_deliveries": f.failed,
        "success_rate": rate(f.successes, f.attempts),
        "retry_count": f.retries,
        "avg_response_time_ms": (f.attempts > 0)
            .then(|| round_ms(f.duration_sum_ms as f64 / f.attempts as f64)),
        "min_response_time_ms": h.min_ms(),
        "max_response_time_ms": h.max_ms(),
        "p50_response_time_ms": quantile(0.5),
        "p95_response_time_ms": quantile(0.95),
        "p99_response_time_ms": quantile(0.99),
        "http_4xx_errors": errors.http_4xx,
        "http_5xx_errors": errors.http_5xx,
        "timeout_errors": errors.timeout,
        "network_errors": errors.network,
    })
}

/// The `/analytics` row metrics.
pub(crate) fn metrics_json(f: &RollupFigures) -> Value {
    let h = &f.histogram;
    let quantile = |q: f64| h.quantile(q).map(round_ms);
    let failed = f.attempts - f.successes.min(f.attempts);
    json!({
        "count": f.attempts,
        "success": f.successes,
        "failed": failed,
        "error_rate": rate(failed, f.attempts),
        "avg_ms": (f.attempts > 0).then(|| round_ms(f.duration_sum_ms as f64 / f.attempts as f64)),
        "p50_ms": quantile(0.5),
        "p95_ms": quantile(0.95),
        "p99_ms": quantile(0.99),
    })
}

/// A share of successful attempts, `None` without attempts.
pub(crate) fn success_rate(f: &RollupFigures) -> Option<f64> {
    (f.attempts > 0).then(|| (f.successes as f64 / f.attempts as f64 * 10_000.0).round() / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_attempts_means_null_rates_and_durations() {
        let v = figures_json(&RollupFigures::default(), &Breakdown::default());
        assert!(v["success_rate"].is_null());
        assert!(v["p95_response_time_ms"].is_null());
        assert!(v["avg_response_time_ms"].is_null());
        assert_eq!(v["total_events"], 0);
        let m = metrics_json(&RollupFigures::default());
        assert!(m["error_rate"].is_null());
        assert_eq!(m["count"], 0);
    }
}
