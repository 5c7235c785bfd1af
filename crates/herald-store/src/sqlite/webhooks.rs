//! Stored webhooks on SQLite (the row layout is in [`crate::stored_webhook`]).

use herald_core::webhook::Webhook;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, audit};
use crate::key_check;
use crate::registry;
use crate::sealing::Sealer;
use crate::stored_webhook::{COLUMNS, SealedWebhook, StoredRow, conflict};
use crate::{AuditEntry, RegistrySnapshot, Result, StoreError, WebhookStore};

fn read_row(r: &Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow {
        id: r.get(0)?,
        spec: r.get(1)?,
        status: r.get(2)?,
        disabled_reason: r.get(3)?,
        disabled_at: r.get(4)?,
        version: r.get(5)?,
    })
}

/// Replaces the stored row if it is still the version the copy was read
/// at, moving the registry on when its routing changed; false when the
/// webhook no longer exists.
fn update_row(conn: &Connection, row: &SealedWebhook, reset_failures: bool) -> Result<bool> {
    let routing: Option<String> = conn
        .prepare_cached("SELECT routing FROM webhooks WHERE id = ?1 AND version = ?2")?
        .query_row(params![row.id, row.version], |r| r.get(0))
        .optional()?;
    let n = conn
        .prepare_cached(
            "UPDATE webhooks SET status = ?3, spec = ?4, updated_at = ?5,
                    disabled_reason = ?6, disabled_at = ?7,
                    consecutive_failures = CASE WHEN ?8 THEN 0 ELSE consecutive_failures END,
                    version = version + 1, routing = ?10
             WHERE id = ?1 AND tenant_id = ?2 AND version = ?9",
        )?
        .execute(params![
            row.id,
            row.tenant_id,
            row.status,
            row.spec,
            row.updated_at_ms,
            row.disabled_reason,
            row.disabled_at,
            reset_failures,
            row.version,
            row.routing,
        ])?;
    if n == 1 {
        if routing.as_deref() != Some(row.routing.as_str()) {
            bump_registry(conn)?;
        }
        return Ok(true);
    }
    let exists = conn
        .prepare_cached("SELECT 1 FROM webhooks WHERE id = ?1 AND tenant_id = ?2")?
        .query_row(params![row.id, row.tenant_id], |_| Ok(()))
        .optional()?
        .is_some();
    match exists {
        true => Err(conflict(&row.id, row.version)),
        false => Ok(false),
    }
}

/// Refuses a master key other than the one the database was set up with
/// (see [`crate::key_check`]). Runs once, at start, before anything is
/// written with the key.
pub(crate) fn check_key(conn: &Connection, sealer: &Sealer) -> Result<()> {
    let stored = |conn: &Connection| -> Result<Option<String>> {
        Ok(conn
            .query_row(
                "SELECT value FROM herald_meta WHERE name = ?1",
                [key_check::NAME],
                |r| r.get(0),
            )
            .optional()?)
    };
    if let Some(check) = stored(conn)? {
        return key_check::compare(sealer, &check);
    }
    let sealed: Vec<(String, String)> = conn
        .prepare("SELECT id, spec FROM webhooks WHERE spec LIKE 'sealed:%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    key_check::rows_open(
        sealer,
        sealed.iter().map(|(id, spec)| (id.as_str(), spec.as_str())),
    )?;
    conn.execute(
        "INSERT INTO herald_meta (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![key_check::NAME, sealer.key_check()],
    )?;
    let check =
        stored(conn)?.ok_or_else(|| StoreError::Database("the key check was not kept".into()))?;
    key_check::compare(sealer, &check)
}

/// Seals rows written before sealing existed, then rewrites the file so no
/// free page keeps their plain text. Runs once, at start.
pub(crate) fn seal_plain_rows(conn: &Connection, sealer: &Sealer) -> Result<()> {
    let plain: Vec<StoredRow> = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE spec NOT LIKE 'sealed:%'"
        ))?
        .query_map([], read_row)?
        .collect::<rusqlite::Result<_>>()?;
    if plain.is_empty() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for row in plain {
        let webhook = row.open(sealer)?;
        let sealed = SealedWebhook::new(sealer, &webhook)?;
        tx.execute(
            "UPDATE webhooks SET spec = ?2 WHERE id = ?1",
            params![sealed.id, sealed.spec],
        )?;
    }
    tx.commit()?;
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    tracing::info!("sealed webhook rows stored before encryption at rest");
    Ok(())
}

impl WebhookStore for SqliteStore {
    async fn insert_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<()> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at,
                                       disabled_reason, disabled_at, version, routing)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
            )?
            .execute(params![
                row.id,
                row.tenant_id,
                row.status,
                row.spec,
                row.created_at_ms,
                row.updated_at_ms,
                row.disabled_reason,
                row.disabled_at,
                row.routing,
            ])?;
            bump_registry(conn)?;
            audit::record(conn, &audit)
        })
        .await
    }

    async fn update_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<bool> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            let updated = update_row(conn, &row, false)?;
            if updated {
                audit::record(conn, &audit)?;
            }
            Ok(updated)
        })
        .await
    }

    async fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> Result<Option<u64>> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            if !update_row(conn, &row, true)? {
                return Ok(None);
            }
            audit::record(conn, &audit)?;
            conn.prepare_cached(RESTART_STATS_SQLITE)?
                .execute(params![row.id, row.updated_at_ms])?;
            if !discard_held {
                return Ok(Some(0));
            }
            let discarded = conn
                .prepare_cached(
                    "UPDATE deliveries SET status = 'skipped', next_attempt_at = NULL,
                            last_error = 'discarded when the webhook was enabled again',
                            updated_at = ?2
                     WHERE webhook_id = ?1 AND status IN ('pending', 'retrying')",
                )?
                .execute(params![row.id, row.updated_at_ms])?;
            Ok(Some(discarded as u64))
        })
        .await
    }

    async fn delete_webhooks(
        &self,
        tenant_id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Vec<String>> {
        let tenant_id = tenant_id.to_string();
        self.write(move |conn| {
            let mut deleted = Vec::new();
            for audit in &audits {
                let id = &audit.resource_id;
                if delete_webhook(conn, &tenant_id, id)? {
                    audit::record(conn, audit)?;
                    deleted.push(id.clone());
                }
            }
            if !deleted.is_empty() {
                bump_registry(conn)?;
            }
            Ok(deleted)
        })
        .await
    }

    async fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM webhooks WHERE id = ?1 AND tenant_id = ?2"
            ))?
            .query_row(params![id, tenant_id], read_row)
            .optional()?
            .map(|row| row.open(&sealer))
            .transpose()
        })
        .await
    }

    async fn list_webhooks(
        &self,
        tenant_id: &str,
        after_id: Option<String>,
    ) -> Result<Vec<Webhook>> {
        let tenant_id = tenant_id.to_string();
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = ?1 AND id > ?2 ORDER BY id"
            ))?;
            let rows =
                stmt.query_map(params![tenant_id, after_id.unwrap_or_default()], read_row)?;
            rows.map(|r| r?.open(&sealer)).collect()
        })
        .await
    }

    async fn find_webhook(&self, id: &str) -> Result<Option<Webhook>> {
        let id = id.to_string();
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"))?
                .query_row([id], read_row)
                .optional()?
                .map(|row| row.open(&sealer))
                .transpose()
        })
        .await
    }

    async fn load_registry(&self) -> Result<RegistrySnapshot> {
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            // One read transaction: the version and the rows of one moment.
            let tx = conn.unchecked_transaction()?;
            let version = tx.query_row(registry::READ, [], |r| r.get(0))?;
            let mut stmt =
                tx.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))?;
            let webhooks = stmt
                .query_map([], read_row)?
                .map(|r| r?.open(&sealer))
                .collect::<Result<_>>()?;
            Ok(RegistrySnapshot { version, webhooks })
        })
        .await
    }

    async fn registry_version(&self) -> Result<i64> {
        self.read(|conn| Ok(conn.query_row(registry::READ, [], |r| r.get(0))?))
            .await
    }
}

/// Moves the registry version on, in the change's transaction.
pub(super) fn bump_registry(conn: &Connection) -> Result<()> {
    conn.prepare_cached(registry::BUMP)?.execute([])?;
    Ok(())
}

/// Deletes one webhook of a tenant with its deliveries and attempts; false
/// when it did not exist.
/// Enabling a webhook again starts its health's count over.
const RESTART_STATS_SQLITE: &str =
    "UPDATE webhook_stats SET counted_since = ?2, failures_in_a_row = 0 WHERE webhook_id = ?1";

pub(crate) fn delete_webhook(conn: &Connection, tenant_id: &str, id: &str) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM webhooks WHERE id = ?1 AND tenant_id = ?2")?
        .execute(params![id, tenant_id])?;
    if n == 0 {
        return Ok(false);
    }
    conn.prepare_cached(
        "DELETE FROM attempts WHERE delivery_seq IN
           (SELECT seq FROM deliveries WHERE webhook_id = ?1)",
    )?
    .execute([id])?;
    conn.prepare_cached("DELETE FROM deliveries WHERE webhook_id = ?1")?
        .execute([id])?;
    // Its rollups stay: the tenant's analytics still count what was sent.
    conn.prepare_cached("DELETE FROM webhook_stats WHERE webhook_id = ?1")?
        .execute([id])?;
    Ok(true)
}
