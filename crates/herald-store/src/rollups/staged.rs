//! What a set of attempt records adds to the rollups and to each
//! webhook's stats, summed in memory so a transaction writes each touched
//! row once.
//!
//! Staging runs once per attempt on the write path, so it is kept cheap:
//! records are summed by minute only (the five-minute, hour and day rows are derived
//! from the minutes when the transaction writes them, [`Staged::rows`]),
//! and a record like the one before it (the usual case: one webhook, one
//! event type, one outcome, one minute) is added to that row without
//! building a key.

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

impl RollupKey {
    /// Whether `r`, with this outcome and minute, adds to this row.
    fn matches(&self, r: &AttemptRecord, outcome: &str, minute: i64) -> bool {
        self.bucket_start == minute
            && self.status_code == r.status_code.map_or(0, i64::from)
            && self.outcome == outcome
            && self.webhook_id == r.webhook_id
            && self.event_type == r.event_type
            && self.provider == r.provider
            && self.tenant_id == r.tenant_id
    }
}

/// Everything a set of records adds.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    /// Minute rows only; see [`Staged::rows`].
    minutes: BTreeMap<RollupKey, RollupFigures>,
    /// The key of the row the last record went to.
    last: Option<RollupKey>,
    pub(crate) stats: BTreeMap<String, StatsDelta>,
}

impl Staged {
    pub(crate) fn is_empty(&self) -> bool {
        self.minutes.is_empty() && self.stats.is_empty()
    }

    /// The rollup rows to add, at every granularity, in key order.
    pub(crate) fn rows(&self) -> BTreeMap<RollupKey, RollupFigures> {
        let mut rows = BTreeMap::new();
        for (minute, figures) in &self.minutes {
            for granularity in Granularity::ALL {
                let key = RollupKey {
                    granularity,
                    bucket_start: granularity.bucket_start(minute.bucket_start),
                    ..minute.clone()
                };
                rows.entry(key)
                    .or_insert_with(RollupFigures::default)
                    .merge(figures);
            }
        }
        rows
    }

    /// The minute row `r` adds to, made when it is new.
    fn row_for(&mut self, r: &AttemptRecord, outcome: &str) -> &mut RollupFigures {
        let minute = Granularity::Minute.bucket_start(r.started_at_ms);
        let same = self
            .last
            .as_ref()
            .is_some_and(|last| last.matches(r, outcome, minute));
        if !same {
            let key = RollupKey {
                tenant_id: r.tenant_id.clone(),
                granularity: Granularity::Minute,
                bucket_start: minute,
                webhook_id: r.webhook_id.clone(),
                provider: r.provider.clone(),
                event_type: r.event_type.clone(),
                outcome: outcome.to_string(),
                status_code: r.status_code.map_or(0, i64::from),
            };
            // A row made once, when its first record comes; the key is
            // cloned only then.
            self.minutes.entry(key.clone()).or_default();
            self.last = Some(key);
        }
        let key = self.last.as_ref().expect("set above");
        self.minutes.get_mut(key).expect("made when its key was")
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
        let row = self.row_for(r, outcome);
        row.attempts += 1;
        row.successes += u64::from(success);
        row.first_attempts += u64::from(r.number == 1);
        row.retries += u64::from(r.number > 1);
        row.delivered += u64::from(r.next == NextStep::Delivered);
        row.failed += u64::from(r.next == NextStep::Failed);
        row.duration_sum_ms += r.duration_ms;
        row.histogram.record(r.duration_ms);

        let ended = r.started_at_ms + r.duration_ms as i64;
        // Looked up before inserting: the webhook id is cloned once per
        // batch, not once per record.
        if !self.stats.contains_key(&r.webhook_id) {
            let delta = StatsDelta {
                tenant_id: r.tenant_id.clone(),
                ..StatsDelta::default()
            };
            self.stats.insert(r.webhook_id.clone(), delta);
        }
        let stats = self.stats.get_mut(&r.webhook_id).expect("inserted above");
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
