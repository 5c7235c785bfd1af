//! Rollups on PostgreSQL: what a batch of attempt records adds is summed
//! in memory and written in the batch's own transaction, one upsert per
//! touched row, in key order (so two nodes writing the same rows cannot
//! deadlock). Histograms are arrays merged in SQL, so concurrent writers
//! never lose each other's counts.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};

use super::PgStore;
use crate::rollups::{
    AnalyticsQuery, AnalyticsRow, FIGURE_COLUMNS, Granularity, RollupFigures, Staged, WebhookStats,
    aggregate,
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
    for (key, f) in &staged.rollups {
        let h = &f.histogram;
        // Trailing empty buckets are left off (most attempts are short):
        // the merge below pads the shorter array.
        let used = h.counts().iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        let counts: Vec<i64> = h.counts()[..used].iter().map(|&c| c as i64).collect();
        sqlx::query(
            "INSERT INTO attempt_rollups
               (tenant_id, granularity, bucket_start, webhook_id, provider, event_type, outcome,
                status_code, attempts, successes, first_attempts, retries, delivered, failed,
                duration_sum_ms, duration_min_ms, duration_max_ms, histogram)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18)
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
               duration_max_ms = GREATEST(attempt_rollups.duration_max_ms,
                                          excluded.duration_max_ms),
               histogram = ARRAY(
                 SELECT COALESCE(mine, 0) + COALESCE(theirs, 0)
                 FROM unnest(attempt_rollups.histogram, excluded.histogram)
                      WITH ORDINALITY AS t(mine, theirs, i)
                 ORDER BY i)",
        )
        .bind(&key.tenant_id)
        .bind(key.granularity.width_ms())
        .bind(key.bucket_start)
        .bind(&key.webhook_id)
        .bind(&key.provider)
        .bind(&key.event_type)
        .bind(&key.outcome)
        .bind(key.status_code)
        .bind(f.attempts as i64)
        .bind(f.successes as i64)
        .bind(f.first_attempts as i64)
        .bind(f.retries as i64)
        .bind(f.delivered as i64)
        .bind(f.failed as i64)
        .bind(f.duration_sum_ms as i64)
        .bind(h.min_ms().unwrap_or(0) as i64)
        .bind(h.max_ms().unwrap_or(0) as i64)
        .bind(&counts)
        .execute(&mut **tx)
        .await?;
    }
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

const FIGURES: &str = FIGURE_COLUMNS;

/// Reads [`FIGURES`] from column `from` on, by position (a lookup by name
/// per column and row costs more than the row itself).
fn figures_of(r: &PgRow, from: usize) -> sqlx::Result<RollupFigures> {
    let mut n = [0i64; 9];
    for (i, v) in n.iter_mut().enumerate() {
        *v = r.try_get(from + i)?;
    }
    let counts: Vec<i64> = r.try_get(from + 9)?;
    let counts: Vec<u64> = counts.into_iter().map(|c| c.max(0) as u64).collect();
    Ok(RollupFigures::from_stored(n, &counts))
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
    pub(super) async fn analytics_rows(&self, query: AnalyticsQuery) -> Result<Vec<AnalyticsRow>> {
        let mut sql: QueryBuilder<'_, Postgres> =
            QueryBuilder::new(format!("SELECT bucket_start, {FIGURES}"));
        for dimension in &query.group_by {
            // Status codes are integers; every dimension answers as text.
            sql.push(format!(
                ", {}::text AS d_{}",
                dimension.column(),
                dimension.column()
            ));
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
        let rows = sql.build().fetch_all(self.pool()).await?;
        let mut read = Vec::with_capacity(rows.len());
        for row in &rows {
            let dimensions = (0..query.group_by.len())
                .map(|i| row.try_get::<String, _>(11 + i))
                .collect::<sqlx::Result<Vec<String>>>()?;
            read.push((row.try_get::<i64, _>(0)?, dimensions, figures_of(row, 1)?));
        }
        Ok(aggregate(&query, read))
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
