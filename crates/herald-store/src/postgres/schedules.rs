//! Recurring schedules on PostgreSQL, shared by every node: the tick
//! compare-and-set is one `UPDATE … WHERE next_run_at = $from`, so of
//! several nodes stepping the same schedule one wins.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use crate::schedules::COLUMNS;
use crate::{Result, ScheduleAdvance, ScheduleRow, ScheduleStore};

fn read_row(r: &PgRow) -> Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        name: r.try_get(2)?,
        cron: r.try_get(3)?,
        timezone: r.try_get(4)?,
        event_type: r.try_get(5)?,
        event_data: r.try_get(6)?,
        paused: r.try_get::<i64, _>(7)? != 0,
        next_run_at_ms: r.try_get(8)?,
        last_run_at_ms: r.try_get(9)?,
        runs: r.try_get(10)?,
        skipped: r.try_get(11)?,
        created_at_ms: r.try_get(12)?,
        updated_at_ms: r.try_get(13)?,
    })
}

impl ScheduleStore for PgStore {
    async fn insert_schedule(&self, row: ScheduleRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO schedules ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&row.id)
        .bind(&row.tenant_id)
        .bind(&row.name)
        .bind(&row.cron)
        .bind(&row.timezone)
        .bind(&row.event_type)
        .bind(&row.event_data)
        .bind(row.paused as i64)
        .bind(row.next_run_at_ms)
        .bind(row.last_run_at_ms)
        .bind(row.runs)
        .bind(row.skipped)
        .bind(row.created_at_ms)
        .bind(row.updated_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn update_schedule(&self, row: ScheduleRow) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE schedules SET name = $3, cron = $4, timezone = $5, event_type = $6,
                    event_data = $7, paused = $8, next_run_at = $9, updated_at = $10
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&row.tenant_id)
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.cron)
        .bind(&row.timezone)
        .bind(&row.event_type)
        .bind(&row.event_data)
        .bind(row.paused as i64)
        .bind(row.next_run_at_ms)
        .bind(row.updated_at_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn delete_schedule(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM schedules WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn get_schedule(&self, tenant_id: &str, id: &str) -> Result<Option<ScheduleRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(read_row)
        .transpose()
    }

    async fn list_schedules(&self, tenant_id: &str) -> Result<Vec<ScheduleRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_row).collect()
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<ScheduleRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM schedules
             WHERE paused = 0 AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2"
        ))
        .bind(now_ms)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_row).collect()
    }

    async fn next_schedule_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_run_at) FROM schedules WHERE paused = 0")
                .fetch_one(self.pool())
                .await?,
        )
    }

    async fn advance_schedule(&self, step: ScheduleAdvance) -> Result<bool> {
        let emitted = step.emitted as i64;
        let moved = sqlx::query(
            "UPDATE schedules
             SET next_run_at = $3,
                 last_run_at = CASE WHEN $4 = 1 THEN $2 ELSE last_run_at END,
                 runs = runs + $4, skipped = skipped + $5 + (1 - $4), updated_at = $6
             WHERE id = $1 AND next_run_at = $2",
        )
        .bind(&step.id)
        .bind(step.from_ms)
        .bind(step.to_ms)
        .bind(emitted)
        .bind(step.skipped)
        .bind(step.now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(moved == 1)
    }
}
