//! Stored webhooks: one row each, the configuration as JSON.

use herald_core::webhook::Webhook;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, Store, StoreError};

fn decode(spec: String) -> Result<Webhook> {
    serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(format!("webhook row: {e}")))
}

fn encode(webhook: &Webhook) -> Result<String> {
    serde_json::to_string(webhook).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    pub async fn insert_webhook(&self, webhook: Webhook) -> Result<()> {
        let spec = encode(&webhook)?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                webhook.id,
                webhook.tenant_id,
                webhook.spec.status.as_str(),
                spec,
                webhook.created_at.timestamp_millis(),
                webhook.updated_at.timestamp_millis(),
            ])?;
            Ok(())
        })
        .await
    }

    /// Replaces a webhook; false when it no longer exists.
    pub async fn update_webhook(&self, webhook: Webhook) -> Result<bool> {
        let spec = encode(&webhook)?;
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE webhooks SET status = ?3, spec = ?4, updated_at = ?5
                     WHERE id = ?1 AND tenant_id = ?2",
                )?
                .execute(params![
                    webhook.id,
                    webhook.tenant_id,
                    webhook.spec.status.as_str(),
                    spec,
                    webhook.updated_at.timestamp_millis(),
                ])?;
            Ok(n == 1)
        })
        .await
    }

    /// Replaces a webhook being enabled again: its failure count starts over
    /// and, with `discard_held`, the deliveries it held are closed as
    /// `skipped`. Returns how many were discarded, or `None` when the
    /// webhook no longer exists.
    pub async fn enable_webhook(
        &self,
        webhook: Webhook,
        discard_held: bool,
    ) -> Result<Option<u64>> {
        let spec = encode(&webhook)?;
        self.write(move |conn| {
            let now = webhook.updated_at.timestamp_millis();
            let n = conn
                .prepare_cached(
                    "UPDATE webhooks SET status = ?3, spec = ?4, updated_at = ?5,
                            consecutive_failures = 0
                     WHERE id = ?1 AND tenant_id = ?2",
                )?
                .execute(params![
                    webhook.id,
                    webhook.tenant_id,
                    webhook.spec.status.as_str(),
                    spec,
                    now,
                ])?;
            if n == 0 {
                return Ok(None);
            }
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
                .execute(params![webhook.id, now])?;
            Ok(Some(discarded as u64))
        })
        .await
    }

    /// Deletes webhooks with their deliveries and attempts; returns the ids
    /// that existed.
    pub async fn delete_webhooks(&self, tenant_id: &str, ids: Vec<String>) -> Result<Vec<String>> {
        let tenant_id = tenant_id.to_string();
        self.write(move |conn| {
            let mut deleted = Vec::new();
            for id in &ids {
                let n = conn
                    .prepare_cached("DELETE FROM webhooks WHERE id = ?1 AND tenant_id = ?2")?
                    .execute(params![id, tenant_id])?;
                if n == 0 {
                    continue;
                }
                conn.prepare_cached(
                    "DELETE FROM attempts WHERE delivery_seq IN
                       (SELECT seq FROM deliveries WHERE webhook_id = ?1)",
                )?
                .execute([id])?;
                conn.prepare_cached("DELETE FROM deliveries WHERE webhook_id = ?1")?
                    .execute([id])?;
                deleted.push(id.clone());
            }
            Ok(deleted)
        })
        .await
    }

    pub async fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.read(move |conn| {
            conn.prepare_cached("SELECT spec FROM webhooks WHERE id = ?1 AND tenant_id = ?2")?
                .query_row(params![id, tenant_id], |r| r.get::<_, String>(0))
                .optional()?
                .map(decode)
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
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT spec FROM webhooks WHERE tenant_id = ?1 AND id > ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![tenant_id, after_id.unwrap_or_default()], |r| {
                r.get::<_, String>(0)
            })?;
            rows.map(|r| decode(r?)).collect()
        })
        .await
    }

    /// Every webhook of every tenant, for the in-memory routing table.
    pub async fn all_webhooks(&self) -> Result<Vec<Webhook>> {
        self.read(all_webhooks).await
    }
}

fn all_webhooks(conn: &Connection) -> Result<Vec<Webhook>> {
    let mut stmt = conn.prepare_cached("SELECT spec FROM webhooks ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| decode(r?)).collect()
}
