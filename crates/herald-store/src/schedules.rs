//! Recurring schedules as stored: what to emit and the oldest tick not yet
//! emitted. The cron arithmetic lives in the server; the store keeps the
//! rows and the compare-and-set that makes each tick happen once.

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The cron pattern, 5 or 6 fields, as given.
    pub cron: String,
    /// An IANA time zone name the pattern is read in.
    pub timezone: String,
    pub event_type: String,
    /// The event's `data`, as JSON text.
    pub event_data: String,
    pub paused: bool,
    /// The oldest tick not yet emitted; `None` when the pattern has no
    /// time left.
    pub next_run_at_ms: Option<i64>,
    /// The last tick emitted.
    pub last_run_at_ms: Option<i64>,
    /// Ticks emitted.
    pub runs: i64,
    /// Ticks passed over because they were missed by more than the
    /// catch-up window (the server was down, say).
    pub skipped: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A schedule's step from one tick to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleAdvance {
    pub id: String,
    /// The tick the caller read as `next_run_at_ms`: the step is taken only
    /// if it still is (no other node took it, nobody edited the schedule).
    pub from_ms: i64,
    /// The tick after it (`None`: none left).
    pub to_ms: Option<i64>,
    /// True when `from_ms` was emitted, false when it was passed over.
    pub emitted: bool,
    /// Ticks passed over before `from_ms` (added to `skipped`).
    pub skipped: i64,
    pub now_ms: i64,
}

/// The columns every read selects, in [`ScheduleRow`]'s order.
pub(crate) const COLUMNS: &str = "id, tenant_id, name, cron, timezone, event_type, event_data, \
     paused, next_run_at, last_run_at, runs, skipped, created_at, updated_at";
