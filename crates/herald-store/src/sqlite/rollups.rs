//! Rollups on SQLite. Attempt records stage what they add (see [`stage`])
//! on the writer thread; the writer folds it into the tables once per
//! transaction, just before its commit ([`flush`]), and forgets it when the
//! transaction rolls back ([`discard`]). A group commit of a thousand
//! attempts to one webhook thus writes three rollup rows, not three
//! thousand, and the rollups commit with the attempts or not at all.

use std::cell::RefCell;
use std::sync::LazyLock;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use crate::rollups::{
    AnalyticsQuery, AnalyticsRow, DurationHistogram, FIGURE_COLUMNS, Granularity, Groups,
    RollupFigures, RollupKey, Staged, StatsDelta, WebhookStats,
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
    for (key, figures) in &staged.rows() {
        add_rollup(conn, key, figures)?;
    }
    for (webhook_id, delta) in &staged.stats {
        add_stats(conn, webhook_id, delta)?;
    }
    Ok(())
}

/// The SQL function that adds two stored histograms (see [`encode`]),
/// registered on the writer's connection by [`register_functions`].
const HISTOGRAM_ADD: &str = "herald_histogram_add";

/// Registers the functions [`add_rollup`] and the migrations need on
/// `conn`: [`HISTOGRAM_ADD`], and `herald_histogram_sum`, its aggregate
/// (a migration sums minute rows into the five-minute rows they make).
pub(super) fn register_functions(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(HISTOGRAM_ADD, 2, flags, |ctx| {
        let a = ctx.get_raw(0).as_blob().map_err(user_error)?;
        let b = ctx.get_raw(1).as_blob().map_err(user_error)?;
        Ok(add_encoded(a, b))
    })?;
    conn.create_aggregate_function("herald_histogram_sum", 1, flags, HistogramSum)?;
    Ok(())
}

/// `herald_histogram_sum(histogram)`: the sum of a group's histograms.
struct HistogramSum;

impl rusqlite::functions::Aggregate<Vec<u8>, Vec<u8>> for HistogramSum {
    fn init(&self, _: &mut rusqlite::functions::Context<'_>) -> rusqlite::Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        sum: &mut Vec<u8>,
    ) -> rusqlite::Result<()> {
        let histogram = ctx.get_raw(0).as_blob().map_err(user_error)?;
        *sum = add_encoded(sum, histogram);
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        sum: Option<Vec<u8>>,
    ) -> rusqlite::Result<Vec<u8>> {
        Ok(sum.unwrap_or_default())
    }
}

fn user_error(e: rusqlite::types::FromSqlError) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(e))
}

/// The sum of two encoded histograms, encoded.
fn add_encoded(a: &[u8], b: &[u8]) -> Vec<u8> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut sum = long.to_vec();
    for (into, add) in sum.chunks_exact_mut(8).zip(short.chunks_exact(8)) {
        let total = u64::from_le_bytes(into.try_into().expect("chunks of 8"))
            + u64::from_le_bytes(add.try_into().expect("chunks of 8"));
        into.copy_from_slice(&total.to_le_bytes());
    }
    sum
}

/// Adds a staged row in one statement: inserted, or summed into the row
/// already there (the histograms by [`HISTOGRAM_ADD`]). It runs for every
/// row a transaction touches; reading the row first and writing it back
/// cost a second statement each time.
static ADD_ROLLUP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO attempt_rollups
           (tenant_id, granularity, bucket_start, webhook_id, provider, event_type, outcome,
            status_code, {FIGURES})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18)
         ON CONFLICT (tenant_id, granularity, bucket_start, webhook_id, provider, event_type,
                      outcome, status_code) DO UPDATE SET
           attempts = attempts + excluded.attempts,
           successes = successes + excluded.successes,
           first_attempts = first_attempts + excluded.first_attempts,
           retries = retries + excluded.retries,
           delivered = delivered + excluded.delivered,
           failed = failed + excluded.failed,
           duration_sum_ms = duration_sum_ms + excluded.duration_sum_ms,
           duration_min_ms = MIN(duration_min_ms, excluded.duration_min_ms),
           duration_max_ms = MAX(duration_max_ms, excluded.duration_max_ms),
           histogram = {HISTOGRAM_ADD}(histogram, excluded.histogram)"
    )
});

fn add_rollup(conn: &Connection, key: &RollupKey, figures: &RollupFigures) -> Result<()> {
    let width = key.granularity.width_ms();
    let histogram = encode(&figures.histogram);
    let numbers = figures.stored_numbers();
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &key.tenant_id,
        &width,
        &key.bucket_start,
        &key.webhook_id,
        &key.provider,
        &key.event_type,
        &key.outcome,
        &key.status_code,
    ];
    values.extend(numbers.iter().map(|n| n as &dyn rusqlite::ToSql));
    values.push(&histogram);
    conn.prepare_cached(&ADD_ROLLUP)?
        .execute(rusqlite::params_from_iter(values))?;
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

/// The figure columns, in the order [`add_figures`] reads them.
const FIGURES: &str = FIGURE_COLUMNS;

/// Adds the [`FIGURES`] read from column `from` on to `figures`; the
/// histogram is read in place, not copied out.
fn add_figures(
    figures: &mut RollupFigures,
    r: &rusqlite::Row<'_>,
    from: usize,
) -> rusqlite::Result<()> {
    let mut n = [0i64; 9];
    for (i, v) in n.iter_mut().enumerate() {
        *v = r.get(from + i)?;
    }
    let blob = r.get_ref(from + 9)?.as_blob()?;
    figures.add_stored(n, decode(blob));
    Ok(())
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

fn decode(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8")))
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
            let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
            let mut groups = Groups::new(&query);
            while let Some(r) = rows.next()? {
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
                add_figures(groups.of(r.get(0)?, dimensions), r, 1)?;
            }
            Ok(groups.into_rows())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_histograms_add_bucket_by_bucket_whatever_their_lengths() {
        let mut a = DurationHistogram::default();
        let mut b = DurationHistogram::default();
        for ms in [1, 1, 40] {
            a.record(ms);
        }
        for ms in [1, 90_000] {
            b.record(ms);
        }
        let mut both = a.clone();
        both.merge(&b);
        assert_eq!(add_encoded(&encode(&a), &encode(&b)), encode(&both));
        assert_eq!(add_encoded(&encode(&b), &encode(&a)), encode(&both));
        assert_eq!(add_encoded(&[], &encode(&a)), encode(&a));
    }
}
