//! The audit log on SQLite.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::SqliteStore;
use crate::{AuditEntry, AuditFilter, AuditLog, AuditRow, Result, StoreError};

pub(crate) fn record(conn: &Connection, entry: &AuditEntry) -> Result<()> {
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    conn.prepare_cached(
        "INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id,
                                before, after, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        herald_core::ids::new_id(herald_core::ids::AUDIT),
        entry.tenant_id,
        entry.actor,
        entry.action,
        entry.resource_type,
        entry.resource_id,
        json(&entry.before),
        json(&entry.after),
        entry.at_ms,
    ])?;
    Ok(())
}

impl AuditLog for SqliteStore {
    async fn list_audit(&self, filter: AuditFilter) -> Result<Vec<AuditRow>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, id, tenant_id, actor, action, resource_type, resource_id,
                        before, after, created_at
                 FROM audit_log
                 WHERE tenant_id = ?1 AND seq < ?2 AND (?3 IS NULL OR resource_id = ?3)
                 ORDER BY seq DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(
                params![
                    filter.tenant_id,
                    filter.before_seq.unwrap_or(i64::MAX),
                    filter.resource_id,
                    filter.limit as i64,
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        AuditEntry {
                            tenant_id: r.get(2)?,
                            actor: r.get(3)?,
                            action: r.get(4)?,
                            resource_type: r.get(5)?,
                            resource_id: r.get(6)?,
                            before: None,
                            after: None,
                            at_ms: r.get(9)?,
                        },
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                },
            )?;
            let parse = |text: Option<String>| -> Result<Option<Value>> {
                text.map(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))
                })
                .transpose()
            };
            rows.map(|row| {
                let (seq, id, mut entry, before, after) = row?;
                entry.before = parse(before)?;
                entry.after = parse(after)?;
                Ok(AuditRow { seq, id, entry })
            })
            .collect()
        })
        .await
    }
}
