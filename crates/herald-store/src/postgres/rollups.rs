//! Rollups on PostgreSQL: what a batch of attempt records adds is summed
//! in memory and written in the batch's own transaction, one upsert per
//! touched row, in key order (so two nodes writing the same rows cannot
//! deadlock). Histograms are arrays merged in SQL, so concurrent writers
//! never lose each other's counts.

use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};

use super::PgStore;
use crate::rollups::{
    AnalyticsQuery, AnalyticsRow, BUCKETS, Granularity, Groups, RollupFigures, Staged, WebhookStats,
};
use crate::{AttemptRecord, Result};

/// Adds the records (those whose delivery was recorded) to the rollups
/// and stats, inside `tx`.
pub(super) async fn record(
    tx: &mut Transaction<'static, Postgres>,
    records: &[&AttemptRecord],
) -> Result<()> {
    let mut staged = Staged::default();
    for record in records {
        staged.add(record);
    }
    upsert_rollups(tx, &staged).await?;
    for (webhook_id, d) in &staged.stats {
        sqlx::query(
            "INSERT INTO webhook_stats (webhook_id, tenant_id, last_attempt_at, last_success_at,
                                        last_failure_at, last_error, failures_in_a_row,
                                    successes_in_a_row)
             VALUES ($1, $2, $3, $4, $5, $6, $8, $10)
             ON CONFLICT (webhook_id) DO UPDATE SET
               last_attempt_at = GREATEST(webhook_stats.last_attempt_at, excluded.last_attempt_at),
               last_success_at = GREATEST(webhook_stats.last_success_at, excluded.last_success_at),
               last_failure_at = GREATEST(webhook_stats.last_failure_at, excluded.last_failure_at),
               last_error = COALESCE(excluded.last_error, webhook_stats.last_error),
               failures_in_a_row = CASE WHEN $7 THEN $8
                                        ELSE webhook_stats.failures_in_a_row + $8 END,
               successes_in_a_row = CASE WHEN $9 THEN $10
                                         ELSE webhook_stats.successes_in_a_row + $10 END",
        )
        .bind(webhook_id)
        .bind(&d.tenant_id)
        .bind(d.last_attempt_at)
        .bind(d.last_success_at)
        .bind(d.last_failure_at)
        .bind(&d.last_error)
        .bind(d.had_success)
        .bind(d.trailing_failures as i64)
        .bind(d.had_failure)
        .bind(d.trailing_successes as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Adds the staged rollup rows in one statement, a column array each.
/// Histograms travel as array literals (`{3,0,5}`): PostgreSQL has no
/// array of arrays of different lengths. The rows are unique and sorted by
/// key, so two batches touching the same rows lock them in one order.
async fn upsert_rollups(tx: &mut Transaction<'static, Postgres>, staged: &Staged) -> Result<()> {
    let rows = staged.rows();
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let mut text: [Vec<&str>; 5] = Default::default();
    let mut numbers: [Vec<i64>; 12] = Default::default();
    let mut histograms = Vec::with_capacity(n);
    for (key, f) in &rows {
        let h = &f.histogram;
        let texts = [
            key.tenant_id.as_str(),
            key.webhook_id.as_str(),
            key.provider.as_str(),
            key.event_type.as_str(),
            key.outcome.as_str(),
        ];
        for (column, value) in text.iter_mut().zip(texts) {
            column.push(value);
        }
        let key_numbers = [
            key.granularity.width_ms(),
            key.bucket_start,
            key.status_code,
        ];
        let values = key_numbers.into_iter().chain(f.stored_numbers());
        for (column, value) in numbers.iter_mut().zip(values) {
            column.push(value);
        }
        // Trailing empty buckets are left off (most attempts are short):
        // the merge below pads the shorter array.
        let used = h.counts().iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        let counts: Vec<String> = h.counts()[..used].iter().map(u64::to_string).collect();
        histograms.push(format!("{{{}}}", counts.join(",")));
    }
    let mut query = sqlx::query(
        "INSERT INTO attempt_rollups
           (tenant_id, webhook_id, provider, event_type, outcome, granularity, bucket_start,
            status_code, attempts, successes, first_attempts, retries, delivered, failed,
            duration_sum_ms, duration_min_ms, duration_max_ms, histogram)
         SELECT t, w, p, e, o, g, b, s, a, su, fa, r, d, f, ds, mn, mx, h::bigint[]
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
                     $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
                     $15::bigint[], $16::bigint[], $17::bigint[], $18::text[])
              AS u(t, w, p, e, o, g, b, s, a, su, fa, r, d, f, ds, mn, mx, h)
         ON CONFLICT (tenant_id, granularity, bucket_start, webhook_id, provider,
                      event_type, outcome, status_code) DO UPDATE SET
           attempts = attempt_rollups.attempts + excluded.attempts,
           successes = attempt_rollups.successes + excluded.successes,
           first_attempts = attempt_rollups.first_attempts + excluded.first_attempts,
           retries = attempt_rollups.retries + excluded.retries,
           delivered = attempt_rollups.delivered + excluded.delivered,
           failed = attempt_rollups.failed + excluded.failed,
           duration_sum_ms = attempt_rollups.duration_sum_ms + excluded.duration_sum_ms,
           duration_min_ms = LEAST(attempt_rollups.duration_min_ms, excluded.duration_min_ms),
           duration_max_ms = GREATEST(attempt_rollups.duration_max_ms, excluded.duration_max_ms),
           histogram = ARRAY(
             SELECT COALESCE(mine, 0) + COALESCE(theirs, 0)
             FROM unnest(attempt_rollups.histogram, excluded.histogram)
                  WITH ORDINALITY AS t(mine, theirs, i)
             ORDER BY i)",
    );
    for column in &text {
        query = query.bind(column);
    }
    for column in &numbers {
        query = query.bind(column);
    }
    query.bind(&histograms).execute(&mut **tx).await?;
    Ok(())
}

/// Adds a group's figures, read from column `from` on by position (a
/// lookup by name per column and row costs more than the row itself), to
/// `figures`: the [`crate::rollups::FIGURE_COLUMNS`] but the histogram, then the group's
/// histograms as text (`3,0,5;1,2`).
fn add_figures(figures: &mut RollupFigures, r: &PgRow, from: usize) -> sqlx::Result<()> {
    let mut n = [0i64; 9];
    for (i, v) in n.iter_mut().enumerate() {
        *v = r.try_get(from + i)?;
    }
    let histograms: Option<&str> = r.try_get(from + 9)?;
    let mut counts = [0u64; BUCKETS];
    for histogram in histograms.unwrap_or_default().split(';') {
        let values = histogram.split(',').filter(|c| !c.is_empty());
        for (i, count) in values.enumerate() {
            let count: u64 = count.parse().map_err(|e| sqlx::Error::ColumnDecode {
                index: (from + 9).to_string(),
                source: Box::new(e),
            })?;
            counts[i.min(BUCKETS - 1)] += count;
        }
    }
    figures.add_stored(n, counts);
    Ok(())
}

pub(super) const STATS_SELECT: &str = "SELECT webhook_id, counted_since, last_attempt_at,
    last_success_at, last_failure_at, last_error, failures_in_a_row, successes_in_a_row,
    degraded_alert
    FROM webhook_stats";

fn stats_of(r: &PgRow) -> sqlx::Result<WebhookStats> {
    Ok(WebhookStats {
        webhook_id: r.try_get(0)?,
        counted_since_ms: r.try_get(1)?,
        last_attempt_at_ms: r.try_get(2)?,
        last_success_at_ms: r.try_get(3)?,
        last_failure_at_ms: r.try_get(4)?,
        last_error: r.try_get(5)?,
        failures_in_a_row: r.try_get::<i64, _>(6)?.max(0) as u64,
        successes_in_a_row: r.try_get::<i64, _>(7)?.max(0) as u64,
        degraded_alert: r.try_get::<i64, _>(8)? != 0,
    })
}

impl PgStore {
    /// The rollup rows of a query, summed by PostgreSQL into the answer's
    /// buckets and groups: the figures by `sum`, `min` and `max`, the
    /// histograms (arrays of different lengths, which no aggregate adds
    /// up) joined as text and added up here. Only the answer's rows cross
    /// the wire, not every rollup row under them: a week in 5-minute
    /// buckets is 2,016 rows instead of tens of thousands.
    pub(super) async fn analytics_rows(&self, query: AnalyticsQuery) -> Result<Vec<AnalyticsRow>> {
        let dimensions: Vec<String> = (0..query.group_by.len())
            .map(|i| format!(", d{i}"))
            .collect();
        let dimensions = dimensions.concat();
        let mut sql: QueryBuilder<'_, Postgres> = QueryBuilder::new("SELECT ");
        match query.bucket_ms {
            // The start of the answer's bucket the row falls in (a
            // remainder that is never negative: rows may start before the
            // range does, at the granularity's boundary).
            Some(width) => {
                sql.push("b - ((b - ");
                sql.push_bind(query.start_ms);
                sql.push(format!(") % {width} + {width}) % {width}"));
            }
            None => {
                sql.push("0::bigint");
            }
        }
        // Two steps: first by the rows' own bucket, which follows the
        // primary key's order (no sort, nothing spilled to disk, whatever
        // the planner's statistics), then the few rows that leaves into
        // the answer's buckets. Grouping by the answer's bucket at once
        // sorted every rollup row and took a third longer.
        sql.push(format!(
            " AS bucket, sum(a)::bigint, sum(s)::bigint, sum(fa)::bigint, sum(r)::bigint,
              sum(d)::bigint, sum(f)::bigint, sum(ds)::bigint, min(mn), max(mx),
              string_agg(h, ';'){dimensions}
             FROM (SELECT bucket_start AS b, sum(attempts) AS a, sum(successes) AS s,
                     sum(first_attempts) AS fa, sum(retries) AS r, sum(delivered) AS d,
                     sum(failed) AS f, sum(duration_sum_ms) AS ds, min(duration_min_ms) AS mn,
                     max(duration_max_ms) AS mx,
                     string_agg(array_to_string(histogram, ','), ';') AS h"
        ));
        for (i, dimension) in query.group_by.iter().enumerate() {
            // Status codes are integers; every dimension answers as text.
            sql.push(format!(", {}::text AS d{i}", dimension.column()));
        }
        sql.push(" FROM attempt_rollups WHERE tenant_id = ");
        sql.push_bind(&query.tenant_id);
        sql.push(" AND granularity = ");
        sql.push_bind(query.granularity.width_ms());
        sql.push(" AND bucket_start >= ");
        sql.push_bind(query.granularity.bucket_start(query.start_ms));
        sql.push(" AND bucket_start < ");
        sql.push_bind(query.end_ms);
        for (dimension, allowed) in &query.filters {
            sql.push(format!(" AND {}::text = ANY(", dimension.column()));
            sql.push_bind(allowed.clone());
            sql.push(")");
        }
        sql.push(format!(
            " GROUP BY bucket_start{dimensions}) by_row_bucket GROUP BY 1{dimensions}"
        ));
        let mut rows = sql.build().fetch(self.pool());
        let mut groups = Groups::new(&query);
        while let Some(row) = rows.try_next().await? {
            let dimensions = (0..query.group_by.len())
                .map(|i| row.try_get::<String, _>(11 + i))
                .collect::<sqlx::Result<Vec<String>>>()?;
            add_figures(groups.of(row.try_get(0)?, dimensions), &row, 1)?;
        }
        drop(rows);
        Ok(groups.into_rows())
    }

    pub(super) async fn stats_of(
        &self,
        tenant_id: &str,
        webhook_ids: Vec<String>,
    ) -> Result<Vec<WebhookStats>> {
        let rows = sqlx::query(&format!(
            "{STATS_SELECT} WHERE tenant_id = $1 AND webhook_id = ANY($2)"
        ))
        .bind(tenant_id)
        .bind(&webhook_ids)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(stats_of).collect::<sqlx::Result<_>>()?)
    }

    pub(super) async fn set_alert(&self, webhook_id: &str, raised: bool) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE webhook_stats SET degraded_alert = $2
             WHERE webhook_id = $1 AND degraded_alert != $2",
        )
        .bind(webhook_id)
        .bind(i64::from(raised))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }
}

/// Rollup rows past their granularity's keeping time, once per retention
/// sweep: each finds at most the rows that aged out since the last.
pub(super) async fn prune(pool: &sqlx::PgPool, now_ms: i64) -> Result<usize> {
    let mut dropped = 0;
    for granularity in Granularity::ALL {
        dropped +=
            sqlx::query("DELETE FROM attempt_rollups WHERE granularity = $1 AND bucket_start < $2")
                .bind(granularity.width_ms())
                .bind(now_ms - granularity.kept_for_ms())
                .execute(pool)
                .await?
                .rows_affected() as usize;
    }
    Ok(dropped)
}
