//! A webhook's health: what its recent attempts say, in one word and a few
//! figures. The states, in the order they are decided:
//!
//! - `paused`, `disabled`: the webhook's status says so.
//! - `unknown`: no attempt in the last 24 hours (or since it was last
//!   enabled).
//! - `failing`: 5 or more failed attempts in a row, or degraded (below)
//!   with fewer than half the window's attempts successful.
//! - `degraded`: its alert window (`alerts.window_minutes`, since it was
//!   last enabled) holds at least `alerts.min_attempts` attempts and fewer
//!   than `alerts.success_rate_below` of them succeeded, unless that many
//!   have since succeeded in a row; or its last attempt failed.
//! - `healthy`: otherwise.
//!
//! The figures (`success_rate_1h`, `success_rate_24h`, `p95_ms_1h`) are
//! the plain last hour (by minute) and last 24 hours (by hour), whatever
//! the state looked at.

use std::collections::HashMap;

use chrono::DateTime;
use herald_core::event::format_time;
use herald_core::webhook::alerts::AlertThresholds;
use herald_core::webhook::{Webhook, WebhookStatus};
use herald_store::Store;
use herald_store::prelude::*;
use herald_store::rollups::{AnalyticsQuery, Dimension, Granularity, RollupFigures, WebhookStats};
use serde_json::{Value, json};

use super::{round_ms, success_rate};

/// Failed attempts in a row that make a webhook `failing`.
pub(crate) const FAILING_AFTER: u64 = 5;

const MINUTE: i64 = 60_000;
/// Up to this many webhooks are read by name; more, tenant-wide.
const MAX_NAMED: usize = 200;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A webhook's health, from its recent attempts and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = HealthState)]
pub(crate) enum State {
    Healthy,
    Degraded,
    Failing,
    Disabled,
    Paused,
    Unknown,
}

impl State {
    pub(crate) const ALL: [State; 6] = [
        State::Healthy,
        State::Degraded,
        State::Failing,
        State::Disabled,
        State::Paused,
        State::Unknown,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Healthy => "healthy",
            State::Degraded => "degraded",
            State::Failing => "failing",
            State::Disabled => "disabled",
            State::Paused => "paused",
            State::Unknown => "unknown",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// A webhook's recent attempts: per minute for the last hour (or its
/// longer alert window), and the last 24 hours as one.
#[derive(Debug, Default, Clone)]
pub(crate) struct Recent {
    pub(crate) minutes: Vec<(i64, RollupFigures)>,
    pub(crate) day: RollupFigures,
}

impl Recent {
    /// The minutes starting at or after `since_ms`, summed.
    pub(crate) fn since(&self, since_ms: i64) -> RollupFigures {
        let mut sum = RollupFigures::default();
        for (start, figures) in &self.minutes {
            if *start >= since_ms {
                sum.merge(figures);
            }
        }
        sum
    }
}

/// Where a webhook's state starts counting: the later of the window's
/// start and the first whole minute after it was last enabled (attempts
/// of that minute may predate the enabling).
fn counted_from(stats: &WebhookStats, window_start_ms: i64) -> i64 {
    let enabled = stats.counted_since_ms;
    let first_whole_minute = (enabled + MINUTE - 1).div_euclid(MINUTE) * MINUTE;
    window_start_ms.max(first_whole_minute)
}

/// Whether the webhook's alert window says it is degraded.
pub(crate) fn degraded_now(
    thresholds: &AlertThresholds,
    stats: &WebhookStats,
    recent: &Recent,
    now_ms: i64,
) -> (bool, RollupFigures) {
    let window_start = now_ms - i64::from(thresholds.window_minutes) * MINUTE;
    let window = recent.since(counted_from(stats, window_start));
    let degraded = thresholds.is_degraded(window.attempts, window.successes)
        && stats.successes_in_a_row < u64::from(thresholds.min_attempts);
    (degraded, window)
}

pub(crate) fn state(
    status: WebhookStatus,
    thresholds: &AlertThresholds,
    stats: Option<&WebhookStats>,
    recent: &Recent,
    now_ms: i64,
) -> State {
    match status {
        WebhookStatus::Paused => return State::Paused,
        WebhookStatus::Disabled => return State::Disabled,
        WebhookStatus::Active => {}
    }
    let Some(stats) = stats else {
        return State::Unknown;
    };
    let last = stats.last_attempt_at_ms.unwrap_or(i64::MIN);
    if last < now_ms - DAY || last < stats.counted_since_ms {
        return State::Unknown;
    }
    if stats.failures_in_a_row >= FAILING_AFTER {
        return State::Failing;
    }
    let (degraded, window) = degraded_now(thresholds, stats, recent, now_ms);
    if degraded {
        return if window.successes * 2 < window.attempts {
            State::Failing
        } else {
            State::Degraded
        };
    }
    if stats.failures_in_a_row > 0 {
        return State::Degraded;
    }
    State::Healthy
}

fn time(ms: Option<i64>) -> Value {
    ms.and_then(DateTime::from_timestamp_millis)
        .map_or(Value::Null, |t| json!(format_time(t)))
}

/// The `health` object of a webhook view.
pub(crate) fn json(
    state: State,
    stats: Option<&WebhookStats>,
    recent: &Recent,
    throttled_until_ms: Option<i64>,
    now_ms: i64,
) -> Value {
    let hour = recent.since(now_ms - HOUR);
    json!({
        "state": state.as_str(),
        "success_rate_1h": success_rate(&hour),
        "success_rate_24h": success_rate(&recent.day),
        "p95_ms_1h": hour.histogram.quantile(0.95).map(round_ms),
        "consecutive_failures": stats.map_or(0, |s| s.failures_in_a_row),
        "last_success_at": time(stats.and_then(|s| s.last_success_at_ms)),
        "last_failure_at": time(stats.and_then(|s| s.last_failure_at_ms)),
        "last_error": stats.and_then(|s| s.last_error.clone()),
        "throttled_until": time(throttled_until_ms.filter(|&t| t > now_ms)),
    })
}

/// What health needs of each of a tenant's webhooks, read in three
/// queries whatever their number.
pub(crate) struct Loaded {
    pub(crate) stats: HashMap<String, WebhookStats>,
    pub(crate) recent: HashMap<String, Recent>,
}

impl Loaded {
    pub(crate) async fn read(
        store: &Store,
        tenant_id: &str,
        webhooks: &[&Webhook],
        defaults: AlertThresholds,
        now_ms: i64,
    ) -> Result<Loaded, herald_store::StoreError> {
        let ids: Vec<String> = webhooks.iter().map(|w| w.id.clone()).collect();
        if ids.is_empty() {
            return Ok(Loaded {
                stats: HashMap::new(),
                recent: HashMap::new(),
            });
        }
        let longest_window = webhooks
            .iter()
            .map(|w| thresholds(w, defaults).window_minutes)
            .max()
            .unwrap_or(60)
            .max(60);
        let stats = store
            .webhook_stats(tenant_id, ids.clone())
            .await?
            .into_iter()
            .map(|s| (s.webhook_id.clone(), s))
            .collect();
        // Few webhooks: only theirs are read. Many (a whole tenant's
        // list): the tenant's rows, without a parameter per webhook.
        let filters = if ids.len() <= MAX_NAMED {
            vec![(Dimension::WebhookId, ids.clone())]
        } else {
            Vec::new()
        };
        let by_webhook = |granularity, bucket_ms, start_ms| AnalyticsQuery {
            tenant_id: tenant_id.to_string(),
            granularity,
            bucket_ms,
            start_ms,
            end_ms: now_ms + 1,
            group_by: vec![Dimension::WebhookId],
            filters: filters.clone(),
        };
        let mut recent: HashMap<String, Recent> = HashMap::new();
        let minute_start =
            Granularity::Minute.bucket_start(now_ms) - i64::from(longest_window) * MINUTE;
        for row in store
            .analytics(by_webhook(Granularity::Minute, Some(MINUTE), minute_start))
            .await?
        {
            if let (Some(start), Some(id)) = (row.bucket_start_ms, row.dimensions.first()) {
                recent
                    .entry(id.clone())
                    .or_default()
                    .minutes
                    .push((start, row.figures));
            }
        }
        for row in store
            .analytics(by_webhook(Granularity::Hour, None, now_ms - DAY))
            .await?
        {
            if let Some(id) = row.dimensions.first() {
                recent.entry(id.clone()).or_default().day = row.figures;
            }
        }
        Ok(Loaded { stats, recent })
    }

    /// One webhook's state and `health` object.
    pub(crate) fn health_of(
        &self,
        webhook: &Webhook,
        defaults: AlertThresholds,
        throttled_until_ms: Option<i64>,
        now_ms: i64,
    ) -> (State, Value) {
        let stats = self.stats.get(&webhook.id);
        let empty = Recent::default();
        let recent = self.recent.get(&webhook.id).unwrap_or(&empty);
        let state = state(
            webhook.spec.status,
            &thresholds(webhook, defaults),
            stats,
            recent,
            now_ms,
        );
        (
            state,
            json(state, stats, recent, throttled_until_ms, now_ms),
        )
    }
}

/// A webhook's alert thresholds: its own over the server's.
pub(crate) fn thresholds(webhook: &Webhook, defaults: AlertThresholds) -> AlertThresholds {
    webhook
        .spec
        .alerts
        .map_or(defaults, |mine| mine.over(defaults))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn figures(attempts: u64, successes: u64) -> RollupFigures {
        RollupFigures {
            attempts,
            successes,
            ..Default::default()
        }
    }

    fn stats(failures_in_a_row: u64, successes_in_a_row: u64) -> WebhookStats {
        WebhookStats {
            last_attempt_at_ms: Some(NOW - 1_000),
            failures_in_a_row,
            successes_in_a_row,
            ..Default::default()
        }
    }

    fn judge(s: Option<&WebhookStats>, minutes: Vec<(i64, RollupFigures)>) -> State {
        let t = AlertThresholds {
            success_rate_below: 0.9,
            window_minutes: 15,
            min_attempts: 10,
        };
        let recent = Recent {
            minutes,
            day: Default::default(),
        };
        state(WebhookStatus::Active, &t, s, &recent, NOW)
    }

    #[test]
    fn states_follow_the_attempts() {
        let m = |ago_min: i64| Granularity::Minute.bucket_start(NOW) - ago_min * MINUTE;
        assert_eq!(judge(None, vec![]), State::Unknown);
        assert_eq!(
            judge(Some(&stats(0, 20)), vec![(m(1), figures(20, 20))]),
            State::Healthy
        );
        assert_eq!(
            judge(Some(&stats(1, 0)), vec![(m(1), figures(20, 19))]),
            State::Degraded,
            "the last attempt failed"
        );
        assert_eq!(
            judge(Some(&stats(0, 2)), vec![(m(1), figures(20, 15))]),
            State::Degraded,
            "75% over the window"
        );
        assert_eq!(
            judge(Some(&stats(0, 10)), vec![(m(1), figures(20, 15))]),
            State::Healthy,
            "min_attempts successes in a row since"
        );
        assert_eq!(
            judge(Some(&stats(0, 1)), vec![(m(20), figures(20, 0))]),
            State::Healthy,
            "outside the window"
        );
        assert_eq!(
            judge(Some(&stats(2, 0)), vec![(m(1), figures(20, 5))]),
            State::Failing,
            "below half"
        );
        assert_eq!(judge(Some(&stats(5, 0)), vec![]), State::Failing);
        let mut old = stats(0, 1);
        old.last_attempt_at_ms = Some(NOW - 2 * DAY);
        assert_eq!(judge(Some(&old), vec![]), State::Unknown);
        // Enabled again: what came before is not counted.
        let mut enabled = stats(0, 1);
        enabled.counted_since_ms = m(3) + 1;
        assert_eq!(
            judge(
                Some(&enabled),
                vec![(m(3), figures(20, 0)), (m(1), figures(2, 2))]
            ),
            State::Healthy
        );
    }
}
