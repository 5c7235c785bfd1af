//! Stored webhooks: one row each, the configuration as sealed JSON (see
//! [`crate::sealing`]), with the few fields SQL changes on its own (status,
//! the circuit breaker's reason and time) in plain columns beside it.

use chrono::{DateTime, Utc};
use herald_core::webhook::{Webhook, WebhookStatus};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::audit::{self, AuditEntry};
use crate::sealing::Sealer;
use crate::{Result, Store, StoreError};

/// The columns [`StoredRow::read`] expects, in order.
const COLUMNS: &str = "id, spec, status, disabled_reason, disabled_at";

/// A webhook row as read, before it is opened.
struct StoredRow {
    id: String,
    spec: String,
    status: String,
    disabled_reason: Option<String>,
    disabled_at: Option<String>,
}

impl StoredRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<StoredRow> {
        Ok(StoredRow {
            id: r.get(0)?,
            spec: r.get(1)?,
            status: r.get(2)?,
            disabled_reason: r.get(3)?,
            disabled_at: r.get(4)?,
        })
    }

    /// Opens the sealed JSON and lays the plain columns over it: they are
    /// the truth for what the circuit breaker changes.
    fn open(self, sealer: &Sealer) -> Result<Webhook> {
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt(format!("webhook {}: {e}", self.id));
        let mut webhook: Webhook = if Sealer::is_sealed(&self.spec) {
            serde_json::from_slice(&sealer.open(&self.id, &self.spec)?).map_err(corrupt)?
        } else {
            serde_json::from_str(&self.spec).map_err(corrupt)?
        };
        webhook.spec.status = match self.status.as_str() {
            "paused" => WebhookStatus::Paused,
            "disabled" => WebhookStatus::Disabled,
            _ => WebhookStatus::Active,
        };
        webhook.disabled_reason = self.disabled_reason;
        webhook.disabled_at = self
            .disabled_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(webhook)
    }
}

/// A webhook sealed for storage, with its plain columns.
struct SealedWebhook {
    id: String,
    tenant_id: String,
    status: &'static str,
    spec: String,
    disabled_reason: Option<String>,
    disabled_at: Option<String>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

impl SealedWebhook {
    fn new(sealer: &Sealer, webhook: &Webhook) -> Result<SealedWebhook> {
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(webhook).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        Ok(SealedWebhook {
            id: webhook.id.clone(),
            tenant_id: webhook.tenant_id.clone(),
            status: webhook.spec.status.as_str(),
            spec: sealer.seal(&webhook.id, &json),
            disabled_reason: webhook.disabled_reason.clone(),
            disabled_at: webhook.disabled_at.map(format_time),
            created_at_ms: webhook.created_at.timestamp_millis(),
            updated_at_ms: webhook.updated_at.timestamp_millis(),
        })
    }

    /// Replaces the stored row; false when the webhook no longer exists.
    fn update(&self, conn: &Connection, reset_failures: bool) -> Result<bool> {
        let n = conn
            .prepare_cached(
                "UPDATE webhooks SET status = ?3, spec = ?4, updated_at = ?5,
                        disabled_reason = ?6, disabled_at = ?7,
                        consecutive_failures = CASE WHEN ?8 THEN 0 ELSE consecutive_failures END
                 WHERE id = ?1 AND tenant_id = ?2",
            )?
            .execute(params![
                self.id,
                self.tenant_id,
                self.status,
                self.spec,
                self.updated_at_ms,
                self.disabled_reason,
                self.disabled_at,
                reset_failures,
            ])?;
        Ok(n == 1)
    }
}

pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Seals rows written before sealing existed, then rewrites the file so no
/// free page keeps their plain text. Runs once, at start.
pub(crate) fn seal_plain_rows(conn: &Connection, sealer: &Sealer) -> Result<()> {
    let plain: Vec<StoredRow> = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE spec NOT LIKE 'sealed:%'"
        ))?
        .query_map([], StoredRow::read)?
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

impl Store {
    pub async fn insert_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<()> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at,
                                       disabled_reason, disabled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
            ])?;
            audit::record(conn, &audit)
        })
        .await
    }

    /// Replaces a webhook; false when it no longer exists.
    pub async fn update_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<bool> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            let updated = row.update(conn, false)?;
            if updated {
                audit::record(conn, &audit)?;
            }
            Ok(updated)
        })
        .await
    }

    /// Replaces a webhook being enabled again: its failure count starts over
    /// and, with `discard_held`, the deliveries it held are closed as
    /// `skipped`. Returns how many were discarded, or `None` when the
    /// webhook no longer exists.
    pub async fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> Result<Option<u64>> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        self.write(move |conn| {
            if !row.update(conn, true)? {
                return Ok(None);
            }
            audit::record(conn, &audit)?;
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

    /// Deletes webhooks with their deliveries and attempts; returns the ids
    /// that existed. `audits` holds one entry per id asked for; only those
    /// of webhooks that existed are recorded.
    pub async fn delete_webhooks(
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
            Ok(deleted)
        })
        .await
    }

    pub async fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM webhooks WHERE id = ?1 AND tenant_id = ?2"
            ))?
            .query_row(params![id, tenant_id], StoredRow::read)
            .optional()?
            .map(|row| row.open(&sealer))
            .transpose()
        })
        .await
    }

    /// A tenant's webhooks with ids after `after_id`, oldest first.
    pub async fn list_webhooks(
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
            let rows = stmt.query_map(
                params![tenant_id, after_id.unwrap_or_default()],
                StoredRow::read,
            )?;
            rows.map(|r| r?.open(&sealer)).collect()
        })
        .await
    }

    /// Every webhook of every tenant, for the in-memory routing table.
    pub async fn all_webhooks(&self) -> Result<Vec<Webhook>> {
        let sealer = self.sealer_handle();
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))?;
            let rows = stmt.query_map([], StoredRow::read)?;
            rows.map(|r| r?.open(&sealer)).collect()
        })
        .await
    }
}

/// Deletes one webhook of a tenant with its deliveries and attempts; false
/// when it did not exist.
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
    Ok(true)
}
