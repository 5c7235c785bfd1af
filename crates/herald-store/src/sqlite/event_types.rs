//! The event type registry on SQLite.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::audit;
use crate::event_types::COLUMNS;
use crate::{AuditEntry, EventTypeFilter, EventTypeRow, EventTypeStore, Result};

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventTypeRow> {
    Ok(EventTypeRow {
        tenant_id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        schema: r.get(3)?,
        examples: r.get(4)?,
        deprecated: r.get::<_, i64>(5)? != 0,
        archived: r.get::<_, i64>(6)? != 0,
        version: r.get(7)?,
        created_at_ms: r.get(8)?,
        updated_at_ms: r.get(9)?,
    })
}

impl EventTypeStore for SqliteStore {
    async fn insert_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO event_types ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9)"
            ))?
            .execute(params![
                row.tenant_id,
                row.name,
                row.description,
                row.schema,
                row.examples,
                row.deprecated as i64,
                row.archived as i64,
                row.created_at_ms,
                row.updated_at_ms,
            ])?;
            audit::record(conn, &audit)
        })
        .await
    }

    async fn update_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE event_types SET description = ?3, schema = ?4, examples = ?5,
                            deprecated = ?6, archived = ?7, version = ?8, updated_at = ?9
                     WHERE tenant_id = ?1 AND name = ?2 AND version = ?8 - 1",
                )?
                .execute(params![
                    row.tenant_id,
                    row.name,
                    row.description,
                    row.schema,
                    row.examples,
                    row.deprecated as i64,
                    row.archived as i64,
                    row.version,
                    row.updated_at_ms,
                ])?;
            if changed == 1 {
                audit::record(conn, &audit)?;
            }
            Ok(changed == 1)
        })
        .await
    }

    async fn delete_event_type(
        &self,
        tenant_id: &str,
        name: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        self.audited_change(
            "DELETE FROM event_types WHERE tenant_id = ?1 AND name = ?2",
            [tenant_id, name],
            audit,
        )
        .await
    }

    async fn get_event_type(&self, tenant_id: &str, name: &str) -> Result<Option<EventTypeRow>> {
        let (tenant_id, name) = (tenant_id.to_string(), name.to_string());
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM event_types WHERE tenant_id = ?1 AND name = ?2"
                ))?
                .query_row(params![tenant_id, name], read_row)
                .optional()?)
        })
        .await
    }

    async fn list_event_types(&self, filter: EventTypeFilter) -> Result<Vec<EventTypeRow>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM event_types
                 WHERE tenant_id = ?1 AND (?2 IS NULL OR name > ?2) AND (?3 = 1 OR archived = 0)
                 ORDER BY name LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![
                    filter.tenant_id,
                    filter.after_name,
                    filter.include_archived as i64,
                    filter.limit as i64
                ],
                read_row,
            )?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn schema_validation(&self, tenant_id: &str) -> Result<Option<String>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT schema_validation FROM tenants WHERE id = ?1")?
                .query_row([tenant_id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_schema_validation(
        &self,
        tenant_id: &str,
        mode: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        self.audited_change(
            "UPDATE tenants SET schema_validation = ?2 WHERE id = ?1",
            [tenant_id, mode],
            audit,
        )
        .await
    }
}

impl SqliteStore {
    /// Runs `sql` with two text parameters and records `audit` with it
    /// when it changed one row; whether it did.
    async fn audited_change(
        &self,
        sql: &'static str,
        params: [&str; 2],
        audit: AuditEntry,
    ) -> Result<bool> {
        let params = params.map(str::to_string);
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(sql)?
                .execute(params![params[0], params[1]])?;
            if changed == 1 {
                audit::record(conn, &audit)?;
            }
            Ok(changed == 1)
        })
        .await
    }
}
