//! What a set of attempt records adds to the rollups and to each
//! webhook's stats, summed in memory so a transaction writes each touched
//! row once.

use std::collections::BTreeMap;

use herald_core::delivery::AttemptOutcome;

use super::{Granularity, RollupFigures};
use crate::recording::last_error;
use crate::{AttemptRecord, NextStep};

/// One rollup row's identity. Ordered, so every engine writes rows in the
/// same order and concurrent transactions cannot deadlock on them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RollupKey {
    pub(crate) tenant_id: String,
    pub(crate) granularity: Granularity,
    pub(crate) bucket_start: i64,
    pub(crate) webhook_id: String,
    pub(crate) provider: String,
    pub(crate) event_type: String,
    pub(crate) outcome: String,
    pub(crate) status_code: i64,
}

/// What a batch changes in one webhook's stats.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatsDelta {
    pub(crate) tenant_id: String,
    pub(crate) last_attempt_at: Option<i64>,
    pub(crate) last_success_at: Option<i64>,
    pub(crate) last_failure_at: Option<i64>,
    pub(crate) last_error: Option<String>,
    /// A success came in this batch: the count in a row restarts from
    /// `trailing_failures`.
    pub(crate) had_success: bool,
    /// Failures after the batch's last success (or all, without one).
    pub(crate) trailing_failures: u64,
    /// A failure came in this batch: the successes in a row restart from
    /// `trailing_successes`.
    pub(crate) had_failure: bool,
    pub(crate) trailing_successes: u64,
}

/// Everything a set of records adds.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub(crate) rollups: BTreeMap<RollupKey, RollupFigures>,
    pub(crate) stats: BTreeMap<String, StatsDelta>,
}

impl Staged {
    pub(crate) fn is_empty(&self) -> bool {
        self.rollups.is_empty() && self.stats.is_empty()
    }

    /// Adds one record, in the order attempts happened.
    pub(crate) fn add(&mut self, r: &AttemptRecord) {
        if r.test || r.next == NextStep::Skipped {
            return;
        }
        let success = r.outcome == AttemptOutcome::Success;
        let outcome = match (success, r.error_category) {
            (true, _) => "success",
            (false, Some(category)) => category.as_str(),
            (false, None) => "failed",
        };
        let mut figures = RollupFigures {
            attempts: 1,
            successes: u64::from(success),
            first_attempts: u64::from(r.number == 1),
            retries: u64::from(r.number > 1),
            delivered: u64::from(r.next == NextStep::Delivered),
            failed: u64::from(r.next == NextStep::Failed),
            duration_sum_ms: r.duration_ms,
            ..Default::default()
        };
        figures.histogram.record(r.duration_ms);
        for granularity in Granularity::ALL {
            let key = RollupKey {
                tenant_id: r.tenant_id.clone(),
                granularity,
                bucket_start: granularity.bucket_start(r.started_at_ms),
                webhook_id: r.webhook_id.clone(),
                provider: r.provider.clone(),
                event_type: r.event_type.clone(),
                outcome: outcome.to_string(),
                status_code: r.status_code.map_or(0, i64::from),
            };
            self.rollups.entry(key).or_default().merge(&figures);
        }

        let ended = r.started_at_ms + r.duration_ms as i64;
        let stats = self.stats.entry(r.webhook_id.clone()).or_default();
        stats.tenant_id.clone_from(&r.tenant_id);
        stats.last_attempt_at = stats.last_attempt_at.max(Some(ended));
        if success {
            stats.last_success_at = stats.last_success_at.max(Some(ended));
            stats.had_success = true;
            stats.trailing_failures = 0;
            stats.trailing_successes += 1;
        } else {
            stats.last_failure_at = stats.last_failure_at.max(Some(ended));
            stats.last_error = last_error(r);
            stats.trailing_failures += 1;
            stats.had_failure = true;
            stats.trailing_successes = 0;
        }
    }
}
