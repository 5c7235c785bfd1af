//! Rollups on SQLite. Attempt records stage what they add (see [`stage`])
//! on the writer thread; the writer folds it into the tables once per
//! transaction, just before its commit ([`flush`]), and forgets it when the
//! transaction rolls back ([`discard`]). A group commit of a thousand
//! attempts to one webhook thus writes three rollup rows, not three
//! thousand, and the rollups commit with the attempts or not at all.

use std::cell::RefCell;

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use crate::rollups::{
    AnalyticsQuery, AnalyticsRow, DurationHistogram, FIGURE_COLUMNS, Granularity, RollupFigures,
    RollupKey, Staged, StatsDelta, WebhookStats, aggregate,
};
use crate::{AttemptRecord, Result};

thread_local! {
    /// What the writer thread's open transaction adds to the rollups.
    static STAGED: RefCell<Staged> = RefCell::new(Staged::default());
}

/// Adds a recorded attempt to the open transaction's rollups. Called by a
/// write job, on the writer thread, after its statements succeeded.
pub(super) fn stage(record: &AttemptRecord) {
    STAGED.with(|staged| staged.borrow_mut().add(record));
}

/// Forgets what the rolled-back transaction staged.
pub(super) fn discard() {
    STAGED.with(|staged| *staged.borrow_mut() = Staged::default());
}

/// Writes what the open transaction staged.
pub(super) fn flush(conn: &Connection) -> Result<()> {
    let staged = STAGED.with(|staged| std::mem::take(&mut *staged.borrow_mut()));
    if staged.is_empty() {
        return Ok(());
    }
    for (key, figures) in &staged.rollups {
        add_rollup(conn, key, figures)?;
    }
    for (webhook_id, delta) in &staged.stats {
        add_stats(conn, webhook_id, delta)?;
    }
    Ok(())
}

const KEY_WHERE: &str = "tenant_id = ?1 AND granularity = ?2 AND bucket_start = ?3
    AND webhook_id = ?4 AND provider = ?5 AND event_type = ?6 AND outcome = ?7
    AND status_code = ?8";

fn add_rollup(conn: &Connection, key: &RollupKey, figures: &RollupFigures) -> Result<()> {
    let key_values: [rusqlite::types::Value; 8] = [
        key.tenant_id.clone().into(),
        key.granularity.width_ms().into(),
        key.bucket_start.into(),
        key.webhook_id.clone().into(),
        key.provider.clone().into(),
        key.event_type.clone().into(),
        key.outcome.clone().into(),
        key.status_code.into(),
    ];
    let existing = conn
        .prepare_cached(&format!(
            "SELECT {FIGURES} FROM attempt_rollups WHERE {KEY_WHERE}"
        ))?
        .query_row(rusqlite::params_from_iter(&key_values), |r| {
            figures_of(r, 0)
        })
        .optional()?;
    // The writer thread is the only writer: read, add, write back (in
    // place when the row exists).
    let found = existing.is_some();
    let mut total = existing.unwrap_or_default();
    total.merge(figures);
    let h = &total.histogram;
    let figure_values: [rusqlite::types::Value; 10] = [
        (total.attempts as i64).into(),
        (total.successes as i64).into(),
        (total.first_attempts as i64).into(),
        (total.retries as i64).into(),
        (total.delivered as i64).into(),
        (total.failed as i64).into(),
        (total.duration_sum_ms as i64).into(),
        (h.min_ms().unwrap_or(0) as i64).into(),
        (h.max_ms().unwrap_or(0) as i64).into(),
        encode(h).into(),
    ];
    let values = rusqlite::params_from_iter(key_values.iter().chain(&figure_values));
    if found {
        conn.prepare_cached(&format!(
            "UPDATE attempt_rollups SET attempts = ?9, successes = ?10, first_attempts = ?11,
                    retries = ?12, delivered = ?13, failed = ?14, duration_sum_ms = ?15,
                    duration_min_ms = ?16, duration_max_ms = ?17, histogram = ?18
             WHERE {KEY_WHERE}"
        ))?
        .execute(values)?;
    } else {
        conn.prepare_cached(&format!(
            "INSERT INTO attempt_rollups
               (tenant_id, granularity, bucket_start, webhook_id, provider, event_type, outcome,
                status_code, {FIGURES})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18)"
        ))?
        .execute(values)?;
    }
    Ok(())
}

fn add_stats(conn: &Connection, webhook_id: &str, d: &StatsDelta) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_stats (webhook_id, tenant_id, last_attempt_at, last_success_at,
                                    last_failure_at, last_error, failures_in_a_row,
                                    successes_in_a_row)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?10)
         ON CONFLICT (webhook_id) DO UPDATE SET
           last_attempt_at = MAX(COALESCE(last_attempt_at, 0), COALESCE(excluded.last_attempt_at, 0)),
           last_success_at = COALESCE(MAX(last_success_at, excluded.last_success_at),
                                      last_success_at, excluded.last_success_at),
           last_failure_at = COALESCE(MAX(last_failure_at, excluded.last_failure_at),
                                      last_failure_at, excluded.last_failure_at),
           last_error = COALESCE(excluded.last_error, last_error),
           failures_in_a_row = CASE WHEN ?7 THEN ?8 ELSE failures_in_a_row + ?8 END,
           successes_in_a_row = CASE WHEN ?9 THEN ?10 ELSE successes_in_a_row + ?10 END",
    )?
    .execute(params![
        webhook_id,
        d.tenant_id,
        d.last_attempt_at,
        d.last_success_at,
        d.last_failure_at,
        d.last_error,
        d.had_success,
        d.trailing_failures as i64,
        d.had_failure,
        d.trailing_successes as i64,
    ])?;
    Ok(())
}

/// The figure columns, in the order [`figures_of`] reads them.
const FIGURES: &str = FIGURE_COLUMNS;

fn figures_of(r: &rusqlite::Row<'_>, from: usize) -> rusqlite::Result<RollupFigures> {
    let mut n = [0i64; 9];
    for (i, v) in n.iter_mut().enumerate() {
        *v = r.get(from + i)?;
    }
    let counts = decode(&r.get::<_, Vec<u8>>(from + 9)?);
    Ok(RollupFigures::from_stored(n, &counts))
}

/// Bucket counts as little-endian u64s, trailing empty buckets left off.
fn encode(histogram: &DurationHistogram) -> Vec<u8> {
    let counts = histogram.counts();
    let used = counts.iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
    counts[..used]
        .iter()
        .flat_map(|c| c.to_le_bytes())
        .collect()
}

fn decode(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8")))
        .collect()
}

impl SqliteStore {
    pub(super) async fn analytics_rows(&self, query: AnalyticsQuery) -> Result<Vec<AnalyticsRow>> {
        self.read(move |conn| {
            let dims: Vec<&str> = query.group_by.iter().map(|d| d.column()).collect();
            let mut sql = format!(
                "SELECT bucket_start, {FIGURES}{}{} FROM attempt_rollups
                 WHERE tenant_id = ?1 AND granularity = ?2 AND bucket_start >= ?3
                   AND bucket_start < ?4",
                if dims.is_empty() { "" } else { ", " },
                dims.join(", ")
            );
            let mut values: Vec<rusqlite::types::Value> = vec![
                query.tenant_id.clone().into(),
                query.granularity.width_ms().into(),
                query.granularity.bucket_start(query.start_ms).into(),
                query.end_ms.into(),
            ];
            for (dimension, allowed) in &query.filters {
                let marks: Vec<String> = allowed
                    .iter()
                    .map(|v| {
                        values.push(filter_value(*dimension, v));
                        format!("?{}", values.len())
                    })
                    .collect();
                sql.push_str(&format!(
                    " AND {} IN ({})",
                    dimension.column(),
                    marks.join(", ")
                ));
            }
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                let dimensions = (0..dims.len())
                    .map(|i| {
                        let value: rusqlite::types::Value = r.get(11 + i)?;
                        Ok(match value {
                            rusqlite::types::Value::Integer(n) => n.to_string(),
                            rusqlite::types::Value::Text(t) => t,
                            other => format!("{other:?}"),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                Ok((r.get::<_, i64>(0)?, dimensions, figures_of(r, 1)?))
            })?;
            let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(aggregate(&query, rows))
        })
        .await
    }

    pub(super) async fn stats_of(
        &self,
        tenant_id: &str,
        webhook_ids: Vec<String>,
    ) -> Result<Vec<WebhookStats>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{STATS_SELECT} WHERE tenant_id = ?1 AND webhook_id = ?2"
            ))?;
            let mut found = Vec::new();
            for id in &webhook_ids {
                if let Some(stats) = stmt
                    .query_row(params![tenant_id, id], stats_of)
                    .optional()?
                {
                    found.push(stats);
                }
            }
            Ok(found)
        })
        .await
    }
}

pub(super) const STATS_SELECT: &str = "SELECT webhook_id, counted_since, last_attempt_at,
    last_success_at, last_failure_at, last_error, failures_in_a_row, successes_in_a_row,
    degraded_alert
    FROM webhook_stats";

fn stats_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookStats> {
    Ok(WebhookStats {
        webhook_id: r.get(0)?,
        counted_since_ms: r.get(1)?,
        last_attempt_at_ms: r.get(2)?,
        last_success_at_ms: r.get(3)?,
        last_failure_at_ms: r.get(4)?,
        last_error: r.get(5)?,
        failures_in_a_row: r.get::<_, i64>(6)?.max(0) as u64,
        successes_in_a_row: r.get::<_, i64>(7)?.max(0) as u64,
        degraded_alert: r.get::<_, i64>(8)? != 0,
    })
}

/// A filter value as the column stores it (status codes are integers).
fn filter_value(dimension: crate::rollups::Dimension, value: &str) -> rusqlite::types::Value {
    match dimension {
        crate::rollups::Dimension::StatusCode => value.parse::<i64>().unwrap_or(-1).into(),
        _ => value.to_string().into(),
    }
}

/// Rollup rows past their granularity's keeping time, once per retention
/// sweep: each finds at most the rows that aged out since the last.
pub(super) fn prune(conn: &Connection, now_ms: i64) -> Result<usize> {
    let mut dropped = 0;
    for granularity in Granularity::ALL {
        dropped += conn
            .prepare_cached(
                "DELETE FROM attempt_rollups WHERE granularity = ?1 AND bucket_start < ?2",
            )?
            .execute(params![
                granularity.width_ms(),
                now_ms - granularity.kept_for_ms()
            ])?;
    }
    Ok(dropped)
}
