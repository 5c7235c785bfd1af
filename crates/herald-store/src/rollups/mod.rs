//! Delivery analytics kept as rollups: every recorded attempt adds to its
//! minute, five minutes, hour and day, in the same transaction as the attempt itself, so
//! the figures are exact, survive retention of the raw rows, and a query
//! over a week reads a few rows per day instead of every attempt.
//!
//! A rollup row is one bucket of one combination of dimensions (webhook,
//! provider, event type, outcome, status code) with its counts and a
//! [`DurationHistogram`]. Each webhook also keeps a [`WebhookStats`] row
//! (last success, last failure, failed attempts in a row), for its health.
//! Test sends and skipped deliveries (never sent) are not counted.

mod histogram;
mod staged;

pub use histogram::{BUCKET_BOUNDS_MS, BUCKETS, DurationHistogram, bucket_of};
pub(crate) use staged::{RollupKey, Staged, StatsDelta};

/// The width of a rollup bucket. Buckets start at multiples of their width
/// since the Unix epoch, so days split at UTC midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    Minute,
    /// Five minutes: a chart of a week in 5-minute buckets reads these, a
    /// fifth of the rows the minutes of that week are.
    FiveMinutes,
    Hour,
    Day,
}

impl Granularity {
    pub const ALL: [Granularity; 4] = [Self::Minute, Self::FiveMinutes, Self::Hour, Self::Day];

    pub fn width_ms(self) -> i64 {
        match self {
            Self::Minute => 60_000,
            Self::FiveMinutes => 300_000,
            Self::Hour => 3_600_000,
            Self::Day => 86_400_000,
        }
    }

    /// The start of the bucket `at_ms` falls in.
    pub fn bucket_start(self, at_ms: i64) -> i64 {
        at_ms.div_euclid(self.width_ms()) * self.width_ms()
    }

    /// How long a bucket of this width is kept: minutes for two days (the
    /// longest alert window is one), five minutes for a week and a day (a
    /// 5-minute chart of the last 7 days), hours for 90 days, days for two
    /// years.
    pub fn kept_for_ms(self) -> i64 {
        match self {
            Self::Minute => 2 * 86_400_000,
            Self::FiveMinutes => 8 * 86_400_000,
            Self::Hour => 90 * 86_400_000,
            Self::Day => 730 * 86_400_000,
        }
    }
}

/// What an analytics row can be grouped or filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    WebhookId,
    Provider,
    EventType,
    /// `success` or the attempt's error category.
    Outcome,
    /// The HTTP status answered; 0 when none was.
    StatusCode,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Self::WebhookId,
        Self::Provider,
        Self::EventType,
        Self::Outcome,
        Self::StatusCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebhookId => "webhook_id",
            Self::Provider => "provider",
            Self::EventType => "event_type",
            Self::Outcome => "outcome",
            Self::StatusCode => "status_code",
        }
    }

    pub(crate) fn column(self) -> &'static str {
        self.as_str()
    }
}

impl std::str::FromStr for Dimension {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown dimension {s:?}"))
    }
}

/// A question to the rollups: one tenant's attempts in `[start_ms,
/// end_ms)`, in buckets of `bucket_ms` (a multiple of the granularity's
/// width) read from rollups of `granularity`, optionally grouped and
/// filtered by dimensions.
#[derive(Debug, Clone)]
pub struct AnalyticsQuery {
    pub tenant_id: String,
    pub granularity: Granularity,
    /// The width of the buckets answered; `None`: one bucket for the whole
    /// range.
    pub bucket_ms: Option<i64>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub group_by: Vec<Dimension>,
    /// Only rows whose dimension has one of the values.
    pub filters: Vec<(Dimension, Vec<String>)>,
}

/// The figure columns of `attempt_rollups`, in the order
/// [`RollupFigures::add_stored`] takes them.
pub(crate) const FIGURE_COLUMNS: &str = "attempts, successes, first_attempts, retries, delivered,
    failed, duration_sum_ms, duration_min_ms, duration_max_ms, histogram";

/// The counts of one bucket and group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupFigures {
    /// Attempts made (a batch counts each delivery it carried).
    pub attempts: u64,
    /// Attempts the destination accepted.
    pub successes: u64,
    /// First attempts: the events the webhook was sent.
    pub first_attempts: u64,
    /// Attempts after the first.
    pub retries: u64,
    /// Deliveries that ended delivered.
    pub delivered: u64,
    /// Deliveries that ended failed (dead letters).
    pub failed: u64,
    pub duration_sum_ms: u64,
    pub histogram: DurationHistogram,
}

impl RollupFigures {
    /// Adds figures as both engines store them to these: the
    /// [`FIGURE_COLUMNS`] but the histogram, in order, then the histogram's
    /// bucket counts.
    pub(crate) fn add_stored(&mut self, n: [i64; 9], counts: impl IntoIterator<Item = u64>) {
        let n = n.map(|v| v.max(0) as u64);
        let (min, max) = if n[0] > 0 {
            (Some(n[7]), Some(n[8]))
        } else {
            (None, None)
        };
        self.attempts += n[0];
        self.successes += n[1];
        self.first_attempts += n[2];
        self.retries += n[3];
        self.delivered += n[4];
        self.failed += n[5];
        self.duration_sum_ms += n[6];
        self.histogram.add_parts(counts, min, max);
    }

    /// The [`FIGURE_COLUMNS`] but the histogram, in order, as both
    /// engines store them (the inverse of [`RollupFigures::add_stored`]).
    pub(crate) fn stored_numbers(&self) -> [i64; 9] {
        let h = &self.histogram;
        [
            self.attempts as i64,
            self.successes as i64,
            self.first_attempts as i64,
            self.retries as i64,
            self.delivered as i64,
            self.failed as i64,
            self.duration_sum_ms as i64,
            h.min_ms().unwrap_or(0) as i64,
            h.max_ms().unwrap_or(0) as i64,
        ]
    }

    pub fn merge(&mut self, other: &RollupFigures) {
        self.attempts += other.attempts;
        self.successes += other.successes;
        self.first_attempts += other.first_attempts;
        self.retries += other.retries;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.duration_sum_ms += other.duration_sum_ms;
        self.histogram.merge(&other.histogram);
    }
}

/// One answer row: the bucket's start (`None` without buckets), the
/// group's dimension values in `group_by` order, and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsRow {
    pub bucket_start_ms: Option<i64>,
    pub dimensions: Vec<String>,
    pub figures: RollupFigures,
}

/// What a webhook's attempts say about it lately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookStats {
    pub webhook_id: String,
    /// Counting starts over here when the webhook is enabled again: its
    /// health looks only at attempts since.
    pub counted_since_ms: i64,
    pub last_attempt_at_ms: Option<i64>,
    pub last_success_at_ms: Option<i64>,
    pub last_failure_at_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub failures_in_a_row: u64,
    /// Successful attempts since the last failure.
    pub successes_in_a_row: u64,
    /// Whether a degradation alert is raised for it (see
    /// [`crate::contract::DeliveryLog::set_alert_state`]).
    pub degraded_alert: bool,
}

/// Groups rows by bucket and dimensions as an engine reads them, adding
/// each stored row to its group's figures at once: no figures are built
/// per row (a week of minutes is a hundred thousand of them).
pub(crate) struct Groups<'q> {
    query: &'q AnalyticsQuery,
    groups: std::collections::HashMap<(Option<i64>, Vec<String>), RollupFigures>,
}

impl<'q> Groups<'q> {
    pub(crate) fn new(query: &'q AnalyticsQuery) -> Self {
        Groups {
            query,
            groups: Default::default(),
        }
    }

    /// The figures of the group a row of `bucket_start` with these
    /// dimension values belongs to.
    pub(crate) fn of(&mut self, bucket_start: i64, dimensions: Vec<String>) -> &mut RollupFigures {
        let query = self.query;
        let bucket = query.bucket_ms.map(|width| {
            query.start_ms + (bucket_start - query.start_ms).div_euclid(width) * width
        });
        self.groups.entry((bucket, dimensions)).or_default()
    }

    /// The groups, by bucket then dimension values.
    pub(crate) fn into_rows(self) -> Vec<AnalyticsRow> {
        let mut rows: Vec<AnalyticsRow> = self
            .groups
            .into_iter()
            .map(|((bucket_start_ms, dimensions), figures)| AnalyticsRow {
                bucket_start_ms,
                dimensions,
                figures,
            })
            .collect();
        rows.sort_unstable_by(|a, b| {
            (a.bucket_start_ms, &a.dimensions).cmp(&(b.bucket_start_ms, &b.dimensions))
        });
        rows
    }
}
