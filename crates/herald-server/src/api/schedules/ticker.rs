//! The ticker of recurring schedules: emits each schedule's event at each
//! tick of its cron pattern, exactly once per tick, on every node at once.
//!
//! Every node runs it. A tick is emitted as an event whose id and
//! idempotency key are made of the schedule and the tick, so two nodes (or
//! one node again after a crash between storing the event and moving the
//! schedule on) store it once; the schedule is then moved to its next tick by a compare-and-set
//! on the tick it was read at, which one node wins. A tick missed by more
//! than [`LATE_LIMIT_MS`] (the server was down) is passed over and counted
//! in `skipped`, except the last one missed, which is emitted late: a
//! daily report missed by an outage still goes out, once.

use std::sync::Arc;
use std::time::Duration;

use herald_core::schedule::CronPattern;
use herald_store::prelude::*;
use herald_store::{ScheduleAdvance, ScheduleRow, now_ms};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::api::AppState;
use crate::api::events::emit;

/// How late a tick may be emitted; older ones are passed over.
const LATE_LIMIT_MS: i64 = 60_000;

/// The longest sleep between looks at the schedules: a change made on
/// another node is seen within it.
const POLL: Duration = Duration::from_secs(1);

/// The pause before trying again a tick that could not be emitted (the
/// store failed, the tenant's budget was spent).
const RETRY: Duration = Duration::from_millis(250);

/// How many due schedules one look takes.
const BATCH: usize = 100;

/// Ticks counted at most when passing over missed ones.
const MAX_COUNTED: i64 = 1_000_000;

/// The handle the API holds: told of each change, so a new schedule's
/// first tick is not up to a second late.
#[derive(Clone, Default)]
pub(crate) struct Scheduler {
    changed: Arc<Notify>,
}

impl Scheduler {
    pub(crate) fn changed(&self) {
        self.changed.notify_one();
    }
}

/// Emits due ticks until `stopping` is cancelled.
pub(crate) async fn run_forever(state: AppState, stopping: CancellationToken) {
    let changed = state.scheduler().changed.clone();
    loop {
        let (full, stuck) = match state.store().due_schedules(now_ms(), BATCH).await {
            Ok(due) => {
                let full = due.len() == BATCH;
                let mut stuck = false;
                for row in due {
                    stuck |= !run_due(&state, row).await;
                }
                (full, stuck)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the due schedules");
                (false, true)
            }
        };
        let wait = if stuck {
            // A tick that could not be emitted is still due: not again at
            // once, or the loop would spin.
            RETRY
        } else if full {
            Duration::ZERO
        } else {
            match state.store().next_schedule_due().await {
                Ok(Some(next)) => Duration::from_millis((next - now_ms()).max(0) as u64).min(POLL),
                _ => POLL,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed.notified() => {}
            _ = stopping.cancelled() => return,
        }
    }
}

/// Emits what is due of one schedule, tick by tick, until it is up to date
/// or another node is seen to have moved it on. False when a due tick
/// could not be emitted.
async fn run_due(state: &AppState, row: ScheduleRow) -> bool {
    let Some(mut tick) = row.next_run_at_ms else {
        return true;
    };
    let pattern = match CronPattern::parse("cron", &row.cron, "timezone", &row.timezone) {
        Ok(p) => p,
        Err(e) => {
            // Not a reason to spin: it is looked at again at the next poll.
            tracing::error!(schedule_id = row.id, error = %e, "a stored schedule no longer parses");
            return true;
        }
    };
    let now = now_ms();
    if now - tick > LATE_LIMIT_MS
        && let Some(last) = pattern.last_at_or_before(now, tick)
    {
        let passed = count_ticks(&pattern, tick, last);
        let step = ScheduleAdvance {
            id: row.id.clone(),
            from_ms: tick,
            to_ms: Some(last),
            emitted: false,
            skipped: passed - 1,
            now_ms: now,
        };
        tracing::warn!(
            schedule_id = row.id,
            passed,
            "passing over ticks missed by more than a minute"
        );
        if !advance(state, step).await {
            return true;
        }
        tick = last;
    }
    while tick <= now_ms() {
        // `sch_…:1733130000000`: the schedule and the tick, in the id the
        // receiver sees, so a tick is recognisable (and stored once).
        let id = format!("{}:{tick}", row.id);
        let key = format!("schedule:{id}");
        let source = format!("herald.schedule:{}", row.id);
        let emitted = emit(
            state,
            &row.tenant_id,
            &row.event_type,
            &row.event_data,
            &source,
            id,
            key,
        )
        .await;
        if let Err(e) = emitted {
            // Tried again at the next look: the tick stays the next one.
            tracing::warn!(schedule_id = row.id, tick, error = ?e, "cannot emit a schedule's tick");
            return false;
        }
        let next = pattern.next_after(tick);
        let step = ScheduleAdvance {
            id: row.id.clone(),
            from_ms: tick,
            to_ms: next,
            emitted: true,
            skipped: 0,
            now_ms: now_ms(),
        };
        if !advance(state, step).await {
            return true;
        }
        match next {
            Some(next) => tick = next,
            None => return true,
        }
    }
    true
}

/// Takes a step; false when it was not taken (another node took it, the
/// schedule changed, or the store failed).
async fn advance(state: &AppState, step: ScheduleAdvance) -> bool {
    match state.store().advance_schedule(step).await {
        Ok(moved) => moved,
        Err(e) => {
            tracing::warn!(error = %e, "cannot move a schedule on");
            false
        }
    }
}

/// How many ticks fall in `[from, until)`.
fn count_ticks(pattern: &CronPattern, from: i64, until: i64) -> i64 {
    let mut n = 1;
    let mut at = from;
    while n < MAX_COUNTED {
        match pattern.next_after(at) {
            Some(next) if next < until => {
                n += 1;
                at = next;
            }
            _ => break,
        }
    }
    n
}
