//! The event type registry on PostgreSQL. Every change tells the other
//! nodes, which read the tenant's compiled schemas again.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::{PgStore, audit, notify};
use crate::cluster::EVENT_TYPE_CHANNEL;
use crate::event_types::COLUMNS;
use crate::{AuditEntry, EventTypeFilter, EventTypeRow, EventTypeStore, Result};

fn read_row(r: &PgRow) -> Result<EventTypeRow> {
    Ok(EventTypeRow {
        tenant_id: r.try_get(0)?,
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        schema: r.try_get(3)?,
        examples: r.try_get(4)?,
        deprecated: r.try_get::<i64, _>(5)? != 0,
        archived: r.try_get::<i64, _>(6)? != 0,
        version: r.try_get(7)?,
        created_at_ms: r.try_get(8)?,
        updated_at_ms: r.try_get(9)?,
    })
}

/// Records the change and tells every node, when `tx` commits.
async fn changed(tx: &mut Transaction<'_, Postgres>, audit: &AuditEntry) -> Result<()> {
    audit::record(tx, audit).await?;
    notify(
        tx,
        EVENT_TYPE_CHANNEL,
        std::slice::from_ref(&audit.tenant_id),
    )
    .await
}

impl EventTypeStore for PgStore {
    async fn insert_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO event_types ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)"
        ))
        .bind(&row.tenant_id)
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.schema)
        .bind(&row.examples)
        .bind(row.deprecated as i64)
        .bind(row.archived as i64)
        .bind(row.created_at_ms)
        .bind(row.updated_at_ms)
        .execute(&mut *tx)
        .await?;
        changed(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE event_types SET description = $3, schema = $4, examples = $5,
                    deprecated = $6, archived = $7, version = $8, updated_at = $9
             WHERE tenant_id = $1 AND name = $2 AND version = $8 - 1",
        )
        .bind(&row.tenant_id)
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.schema)
        .bind(&row.examples)
        .bind(row.deprecated as i64)
        .bind(row.archived as i64)
        .bind(row.version)
        .bind(row.updated_at_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            changed(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn delete_event_type(
        &self,
        tenant_id: &str,
        name: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        self.audited_change(
            "DELETE FROM event_types WHERE tenant_id = $1 AND name = $2",
            [tenant_id, name],
            audit,
        )
        .await
    }

    async fn get_event_type(&self, tenant_id: &str, name: &str) -> Result<Option<EventTypeRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM event_types WHERE tenant_id = $1 AND name = $2"
        ))
        .bind(tenant_id)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(read_row).transpose()
    }

    async fn list_event_types(&self, filter: EventTypeFilter) -> Result<Vec<EventTypeRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM event_types
             WHERE tenant_id = $1 AND ($2::text IS NULL OR name > $2) AND ($3 OR archived = 0)
             ORDER BY name LIMIT $4"
        ))
        .bind(&filter.tenant_id)
        .bind(&filter.after_name)
        .bind(filter.include_archived)
        .bind(filter.limit as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_row).collect()
    }

    async fn schema_validation(&self, tenant_id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT schema_validation FROM tenants WHERE id = $1")
                .bind(tenant_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn set_schema_validation(
        &self,
        tenant_id: &str,
        mode: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        self.audited_change(
            "UPDATE tenants SET schema_validation = $2 WHERE id = $1",
            [tenant_id, mode],
            audit,
        )
        .await
    }
}

impl PgStore {
    /// Runs `sql` with two text parameters and, when it changed one row,
    /// records `audit` and announces the change in the same transaction;
    /// whether it did.
    async fn audited_change(
        &self,
        sql: &str,
        params: [&str; 2],
        audit: AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(sql)
            .bind(params[0])
            .bind(params[1])
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            changed(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }
}
