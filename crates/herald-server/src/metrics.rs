//! Prometheus metrics: what Herald counts and how it is exposed.
//!
//! Every series is registered when the server starts, at zero, for every
//! label combination that can occur (providers × outcomes and so on), so a
//! rate or an alert works from the first scrape. Labels are bounded: no
//! webhook or event ids, unless `--metrics-per-webhook` adds `webhook_id`
//! to the delivery series (for small installations; those series appear
//! with a webhook's first attempt). Names follow Prometheus conventions:
//! `herald_` prefix, `_total` counters, `_seconds` histograms in base units.
//!
//! The registry belongs to one server (no global recorder), so several
//! servers in one process, as in the tests, keep their counts apart.
//! Gauges that describe the database (the queue) are read from the store
//! at scrape time, at most once a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_core::delivery::ErrorCategory;
use herald_providers::ProviderKind;
use herald_store::QueueStats;
use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Ingest results.
const INGEST_RESULTS: [&str; 3] = ["accepted", "duplicate", "rejected"];
/// How a delivery ended.
const FINISHED: [&str; 3] = ["delivered", "failed", "skipped"];
/// Queue states.
const QUEUE_STATES: [&str; 5] = ["pending", "delivering", "retrying", "held", "scheduled"];
/// Webhook states.
const WEBHOOK_STATES: [&str; 3] = ["active", "paused", "disabled"];
/// Circuit-breaker transitions.
const BREAKER: [&str; 2] = ["disabled", "enabled"];

/// Seconds, from 5 ms to the longest webhook timeout (300 s).
const DURATION_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0,
];
/// Accepted → delivered: from 5 ms to a day (retries and pauses included).
const LATENCY_BUCKETS: [f64; 18] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    3600.0, 21600.0, 86400.0,
];
/// Request to commit.
const INGEST_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How long the queue figures read from the store are reused.
const QUEUE_CACHE: Duration = Duration::from_secs(1);

/// An attempt's outcome as a label: `success`, `rate_limited` (a 429), or
/// the error category (`http_5xx`, `timeout`, `internal`, …).
pub(crate) fn attempt_outcome(
    success: bool,
    status: Option<u16>,
    category: Option<ErrorCategory>,
) -> &'static str {
    match (success, status, category) {
        (true, _, _) => "success",
        (false, Some(429), _) => "rate_limited",
        (false, _, Some(category)) => category.as_str(),
        // Not sent and not an error (a skipped delivery records a category;
        // nothing else ends without one).
        (false, _, None) => "failed",
    }
}

/// Every outcome label [`attempt_outcome`] can give.
fn attempt_outcomes() -> Vec<&'static str> {
    let mut outcomes = vec!["success", "rate_limited", "failed"];
    outcomes.extend(ErrorCategory::ALL.map(ErrorCategory::as_str));
    outcomes
}

#[derive(Clone)]
pub(crate) struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    per_webhook: bool,
    ingested: HashMap<&'static str, Counter>,
    ingest_duration: Histogram,
    attempts: HashMap<(ProviderKind, &'static str), Counter>,
    attempt_duration: HashMap<ProviderKind, Histogram>,
    latency: HashMap<ProviderKind, Histogram>,
    finished: HashMap<(ProviderKind, &'static str), Counter>,
    rate_limited: HashMap<ProviderKind, Counter>,
    breaker: HashMap<&'static str, Counter>,
    queue: HashMap<&'static str, Gauge>,
    oldest_pending: Gauge,
    webhooks: HashMap<&'static str, Gauge>,
    resident_memory: Gauge,
    open_fds: Gauge,
    /// When the queue figures were last read.
    queue_read_at: Mutex<Option<Instant>>,
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
}

impl Metrics {
    pub(crate) fn new(per_webhook: bool) -> Metrics {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in [
            ("herald_ingest_duration_seconds", &INGEST_BUCKETS[..]),
            (
                "herald_delivery_attempt_duration_seconds",
                &DURATION_BUCKETS[..],
            ),
            ("herald_delivery_latency_seconds", &LATENCY_BUCKETS[..]),
        ] {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
                .expect("bucket lists are not empty");
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        describe(&recorder);
        let counter = |name: &'static str, labels: Vec<Label>| {
            recorder.register_counter(&Key::from_parts(name, labels), &metadata())
        };
        let gauge = |name: &'static str, labels: Vec<Label>| {
            recorder.register_gauge(&Key::from_parts(name, labels), &metadata())
        };
        let histogram = |name: &'static str, labels: Vec<Label>| {
            recorder.register_histogram(&Key::from_parts(name, labels), &metadata())
        };
        let provider = |kind: ProviderKind| Label::new("provider", kind.as_str());
        let mut attempts = HashMap::new();
        let mut finished = HashMap::new();
        let (mut attempt_duration, mut latency, mut rate_limited) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for kind in ProviderKind::ALL {
            for outcome in attempt_outcomes() {
                let labels = vec![provider(kind), Label::new("outcome", outcome)];
                attempts.insert(
                    (kind, outcome),
                    counter("herald_delivery_attempts_total", labels),
                );
            }
            for status in FINISHED {
                let labels = vec![provider(kind), Label::new("status", status)];
                finished.insert(
                    (kind, status),
                    counter("herald_deliveries_finished_total", labels),
                );
            }
            attempt_duration.insert(
                kind,
                histogram(
                    "herald_delivery_attempt_duration_seconds",
                    vec![provider(kind)],
                ),
            );
            latency.insert(
                kind,
                histogram("herald_delivery_latency_seconds", vec![provider(kind)]),
            );
            rate_limited.insert(
                kind,
                counter("herald_rate_limited_total", vec![provider(kind)]),
            );
        }
        let by = |name: &'static str, label: &'static str, values: &[&'static str]| {
            values
                .iter()
                .map(|v| (*v, counter(name, vec![Label::new(label, *v)])))
                .collect::<HashMap<_, _>>()
        };
        let gauges_by = |name: &'static str, label: &'static str, values: &[&'static str]| {
            values
                .iter()
                .map(|v| (*v, gauge(name, vec![Label::new(label, *v)])))
                .collect::<HashMap<_, _>>()
        };
        gauge(
            "herald_build_info",
            vec![Label::new("version", env!("CARGO_PKG_VERSION"))],
        )
        .set(1.0);
        Metrics {
            inner: Arc::new(Inner {
                ingested: by("herald_events_ingested_total", "result", &INGEST_RESULTS),
                ingest_duration: histogram("herald_ingest_duration_seconds", vec![]),
                attempts,
                attempt_duration,
                latency,
                finished,
                rate_limited,
                breaker: by("herald_circuit_breaker_transitions_total", "to", &BREAKER),
                queue: gauges_by("herald_queue_deliveries", "state", &QUEUE_STATES),
                oldest_pending: gauge("herald_queue_oldest_pending_age_seconds", vec![]),
                webhooks: gauges_by("herald_webhooks", "status", &WEBHOOK_STATES),
                resident_memory: gauge("process_resident_memory_bytes", vec![]),
                open_fds: gauge("process_open_fds", vec![]),
                queue_read_at: Mutex::new(None),
                recorder,
                handle,
                per_webhook,
            }),
        }
    }

    /// Events stored (`accepted`) or answered as already stored
    /// (`duplicate`).
    pub(crate) fn ingested(&self, accepted: u64, duplicates: u64) {
        self.inner.ingested["accepted"].increment(accepted);
        self.inner.ingested["duplicate"].increment(duplicates);
    }

    /// An ingest request answered: how long it took, and whether it was
    /// refused (bad input, over a limit, storage full).
    pub(crate) fn ingest_request(&self, took: Duration, refused: bool) {
        if refused {
            self.inner.ingested["rejected"].increment(1);
        } else {
            self.inner.ingest_duration.record(took.as_secs_f64());
        }
    }

    /// One finished attempt of `provider`'s webhook `webhook_id`.
    pub(crate) fn attempt(
        &self,
        provider: ProviderKind,
        webhook_id: &str,
        outcome: &'static str,
        took: Duration,
    ) {
        let inner = &self.inner;
        inner.attempts[&(provider, outcome)].increment(1);
        inner.attempt_duration[&provider].record(took.as_secs_f64());
        if inner.per_webhook {
            let labels = vec![
                Label::new("provider", provider.as_str()),
                Label::new("outcome", outcome),
                Label::new("webhook_id", webhook_id.to_string()),
            ];
            inner
                .recorder
                .register_counter(
                    &Key::from_parts("herald_delivery_attempts_total", labels),
                    &metadata(),
                )
                .increment(1);
        }
    }

    /// A delivery ended: `delivered` (with the time since its event was
    /// accepted), `failed` or `skipped`.
    pub(crate) fn finished(
        &self,
        provider: ProviderKind,
        webhook_id: &str,
        status: &'static str,
        since_accepted: Option<Duration>,
    ) {
        let inner = &self.inner;
        inner.finished[&(provider, status)].increment(1);
        if let Some(latency) = since_accepted {
            inner.latency[&provider].record(latency.as_secs_f64());
        }
        if inner.per_webhook {
            let labels = vec![
                Label::new("provider", provider.as_str()),
                Label::new("status", status),
                Label::new("webhook_id", webhook_id.to_string()),
            ];
            inner
                .recorder
                .register_counter(
                    &Key::from_parts("herald_deliveries_finished_total", labels),
                    &metadata(),
                )
                .increment(1);
        }
    }

    /// A lane had to wait: its rate limit, or a destination's `Retry-After`.
    pub(crate) fn rate_limited(&self, provider: ProviderKind) {
        self.inner.rate_limited[&provider].increment(1);
    }

    /// The circuit breaker disabled a webhook, or it was enabled again.
    pub(crate) fn breaker(&self, to: &'static str) {
        if let Some(counter) = self.inner.breaker.get(to) {
            counter.increment(1);
        }
    }

    /// Whether the queue figures are due to be read again.
    pub(crate) fn queue_due(&self) -> bool {
        let mut read_at = self.inner.queue_read_at.lock().expect("metrics lock");
        let due = read_at.is_none_or(|at| at.elapsed() >= QUEUE_CACHE);
        if due {
            *read_at = Some(Instant::now());
        }
        due
    }

    /// The queue as the store counts it, at `now_ms`.
    pub(crate) fn set_queue(&self, stats: QueueStats, now_ms: i64) {
        let q = &self.inner.queue;
        q["pending"].set(stats.pending as f64);
        q["delivering"].set(stats.delivering as f64);
        q["retrying"].set(stats.retrying as f64);
        q["held"].set(stats.held as f64);
        q["scheduled"].set(stats.scheduled as f64);
        let age_ms = stats
            .oldest_pending_at_ms
            .map_or(0, |at| (now_ms - at).max(0));
        self.inner.oldest_pending.set(age_ms as f64 / 1000.0);
    }

    /// How many webhooks are in each state (`active`, `paused`,
    /// `disabled`).
    pub(crate) fn set_webhooks(&self, counts: &HashMap<&'static str, u64>) {
        for (status, gauge) in &self.inner.webhooks {
            gauge.set(counts.get(status).copied().unwrap_or(0) as f64);
        }
    }

    /// The exposition (Prometheus text format 0.0.4), after refreshing
    /// the process figures.
    pub(crate) fn render(&self) -> String {
        if let Some(process) = process_figures() {
            self.inner.resident_memory.set(process.0 as f64);
            self.inner.open_fds.set(process.1 as f64);
        }
        self.inner.handle.render()
    }

    /// Folds recorded histogram samples into their buckets. Between scrapes
    /// samples wait in memory, so this runs every few seconds.
    pub(crate) fn upkeep(&self) {
        self.inner.handle.run_upkeep();
    }
}

/// Runs [`Metrics::upkeep`] every few seconds, for as long as the server
/// runs.
pub(crate) async fn upkeep_forever(metrics: Metrics) {
    loop {
        tokio::time::sleep(UPKEEP_EVERY).await;
        metrics.upkeep();
    }
}

/// How often histogram samples are folded into buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's resident memory (bytes) and open file descriptors, from
/// `/proc` (Linux); `None` elsewhere.
fn process_figures() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    let fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some((rss_kb * 1024, fds))
}

fn describe(recorder: &PrometheusRecorder) {
    let counters: [(&str, &str); 5] = [
        (
            "herald_events_ingested_total",
            "Events posted to the API: accepted (stored), duplicate (an id or Idempotency-Key seen before) or rejected (a request refused; a batch counts once)",
        ),
        (
            "herald_delivery_attempts_total",
            "Delivery attempts by provider and outcome (success, rate_limited for a 429, else the error category)",
        ),
        (
            "herald_deliveries_finished_total",
            "Deliveries that ended: delivered, failed (dead letter) or skipped",
        ),
        (
            "herald_rate_limited_total",
            "Times a webhook's sends waited for its rate limit or a destination's Retry-After",
        ),
        (
            "herald_circuit_breaker_transitions_total",
            "Webhooks disabled by the circuit breaker, or enabled again",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), None, help.into());
    }
    let gauges: [(&str, &str, Option<Unit>); 6] = [
        (
            "herald_queue_deliveries",
            "Deliveries waiting or under way: pending and retrying (active webhooks), delivering (leased), held (paused or disabled webhooks)",
            None,
        ),
        (
            "herald_queue_oldest_pending_age_seconds",
            "Age of the oldest waiting delivery of an active webhook (0: none)",
            Some(Unit::Seconds),
        ),
        ("herald_webhooks", "Webhooks by status", None),
        ("herald_build_info", "The running build", None),
        (
            "process_resident_memory_bytes",
            "Resident memory of the Herald process",
            Some(Unit::Bytes),
        ),
        (
            "process_open_fds",
            "Open file descriptors of the Herald process",
            None,
        ),
    ];
    for (name, help, unit) in gauges {
        recorder.describe_gauge(name.into(), unit, help.into());
    }
    let histograms: [(&str, &str); 3] = [
        (
            "herald_ingest_duration_seconds",
            "Ingest requests, from the request to the commit",
        ),
        (
            "herald_delivery_attempt_duration_seconds",
            "Delivery attempts, from the first byte sent to the answer read",
        ),
        (
            "herald_delivery_latency_seconds",
            "Delivered deliveries, from their event being accepted to the destination's success",
        ),
    ];
    for (name, help) in histograms {
        recorder.describe_histogram(name.into(), Some(Unit::Seconds), help.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_is_there_at_zero_and_counts_show() {
        let metrics = Metrics::new(false);
        let text = metrics.render();
        assert!(
            text.contains(
                "herald_delivery_attempts_total{provider=\"slack\",outcome=\"internal\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("herald_events_ingested_total{result=\"rejected\"} 0"));
        assert!(text.contains("herald_queue_deliveries{state=\"held\"} 0"));
        assert!(text.contains("herald_build_info{version="));
        metrics.attempt(
            ProviderKind::Webhook,
            "wh_1",
            "http_5xx",
            Duration::from_millis(12),
        );
        metrics.ingested(3, 1);
        let text = metrics.render();
        assert!(
            text.contains(
                "herald_delivery_attempts_total{provider=\"webhook\",outcome=\"http_5xx\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("herald_events_ingested_total{result=\"accepted\"} 3"));
        assert!(
            text.contains("herald_delivery_attempt_duration_seconds_bucket{provider=\"webhook\",le=\"0.025\"} 1"),
            "{text}"
        );
        assert!(!text.contains("webhook_id"), "no ids unless asked");
    }

    #[test]
    fn outcomes_are_success_rate_limited_or_the_category() {
        assert_eq!(attempt_outcome(true, Some(200), None), "success");
        assert_eq!(
            attempt_outcome(false, Some(429), Some(ErrorCategory::Http4xx)),
            "rate_limited"
        );
        assert_eq!(
            attempt_outcome(false, None, Some(ErrorCategory::Timeout)),
            "timeout"
        );
        for category in ErrorCategory::ALL {
            assert!(attempt_outcomes().contains(&category.as_str()));
        }
    }
}
