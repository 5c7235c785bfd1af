//! Recurring schedules on SQLite.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::schedules::COLUMNS;
use crate::{Result, ScheduleAdvance, ScheduleRow, ScheduleStore};

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        name: r.get(2)?,
        cron: r.get(3)?,
        timezone: r.get(4)?,
        event_type: r.get(5)?,
        event_data: r.get(6)?,
        paused: r.get::<_, i64>(7)? != 0,
        next_run_at_ms: r.get(8)?,
        last_run_at_ms: r.get(9)?,
        runs: r.get(10)?,
        skipped: r.get(11)?,
        created_at_ms: r.get(12)?,
        updated_at_ms: r.get(13)?,
    })
}

impl ScheduleStore for SqliteStore {
    async fn insert_schedule(&self, row: ScheduleRow) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO schedules ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))?
            .execute(params![
                row.id,
                row.tenant_id,
                row.name,
                row.cron,
                row.timezone,
                row.event_type,
                row.event_data,
                row.paused as i64,
                row.next_run_at_ms,
                row.last_run_at_ms,
                row.runs,
                row.skipped,
                row.created_at_ms,
                row.updated_at_ms,
            ])?;
            Ok(())
        })
        .await
    }

    async fn update_schedule(&self, row: ScheduleRow) -> Result<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE schedules SET name = ?3, cron = ?4, timezone = ?5, event_type = ?6,
                            event_data = ?7, paused = ?8, next_run_at = ?9, updated_at = ?10
                     WHERE tenant_id = ?1 AND id = ?2",
                )?
                .execute(params![
                    row.tenant_id,
                    row.id,
                    row.name,
                    row.cron,
                    row.timezone,
                    row.event_type,
                    row.event_data,
                    row.paused as i64,
                    row.next_run_at_ms,
                    row.updated_at_ms,
                ])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete_schedule(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM schedules WHERE tenant_id = ?1 AND id = ?2")?
                .execute(params![tenant_id, id])?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn get_schedule(&self, tenant_id: &str, id: &str) -> Result<Option<ScheduleRow>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM schedules WHERE tenant_id = ?1 AND id = ?2"
                ))?
                .query_row(params![tenant_id, id], read_row)
                .optional()?)
        })
        .await
    }

    async fn list_schedules(&self, tenant_id: &str) -> Result<Vec<ScheduleRow>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM schedules WHERE tenant_id = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([tenant_id], read_row)?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<ScheduleRow>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM schedules
                 WHERE paused = 0 AND next_run_at <= ?1 ORDER BY next_run_at LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![now_ms, limit as i64], read_row)?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn next_schedule_due(&self) -> Result<Option<i64>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT MIN(next_run_at) FROM schedules WHERE paused = 0")?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }

    async fn advance_schedule(&self, step: ScheduleAdvance) -> Result<bool> {
        self.write(move |conn| {
            let moved = conn
                .prepare_cached(
                    "UPDATE schedules
                     SET next_run_at = ?3,
                         last_run_at = CASE WHEN ?4 = 1 THEN ?2 ELSE last_run_at END,
                         runs = runs + ?4, skipped = skipped + ?5 + (1 - ?4), updated_at = ?6
                     WHERE id = ?1 AND next_run_at = ?2",
                )?
                .execute(params![
                    step.id,
                    step.from_ms,
                    step.to_ms,
                    step.emitted as i64,
                    step.skipped,
                    step.now_ms,
                ])?;
            Ok(moved == 1)
        })
        .await
    }
}
