//! The audit log on PostgreSQL.

use serde_json::Value;
use sqlx::{Postgres, Row, Transaction};

use super::PgStore;
use crate::{AuditEntry, AuditFilter, AuditLog, AuditRow, Result, StoreError};

pub(super) async fn record(tx: &mut Transaction<'_, Postgres>, entry: &AuditEntry) -> Result<()> {
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id,
                                before, after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(herald_core::ids::new_id(herald_core::ids::AUDIT))
    .bind(&entry.tenant_id)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.resource_type)
    .bind(&entry.resource_id)
    .bind(json(&entry.before))
    .bind(json(&entry.after))
    .bind(entry.at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records every entry of a change.
pub(super) async fn record_all(
    tx: &mut Transaction<'_, Postgres>,
    entries: &[AuditEntry],
) -> Result<()> {
    for entry in entries {
        record(tx, entry).await?;
    }
    Ok(())
}

impl AuditLog for PgStore {
    async fn list_audit(&self, filter: AuditFilter) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, id, tenant_id, actor, action, resource_type, resource_id,
                    before, after, created_at
             FROM audit_log
             WHERE tenant_id = $1 AND seq < $2 AND ($3::text IS NULL OR resource_id = $3)
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(&filter.tenant_id)
        .bind(filter.before_seq.unwrap_or(i64::MAX))
        .bind(&filter.resource_id)
        .bind(filter.limit as i64)
        .fetch_all(self.pool())
        .await?;
        let parse = |text: Option<String>| -> Result<Option<Value>> {
            text.map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))
            })
            .transpose()
        };
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get(0)?,
                    id: r.try_get(1)?,
                    entry: AuditEntry {
                        tenant_id: r.try_get(2)?,
                        actor: r.try_get(3)?,
                        action: r.try_get(4)?,
                        resource_type: r.try_get(5)?,
                        resource_id: r.try_get(6)?,
                        before: parse(r.try_get(7)?)?,
                        after: parse(r.try_get(8)?)?,
                        at_ms: r.try_get(9)?,
                    },
                })
            })
            .collect()
    }
}
