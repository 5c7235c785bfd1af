//! Stored webhooks on PostgreSQL (the row layout is in
//! [`crate::stored_webhook`]). Every change is announced to the other nodes,
//! which reload the webhook into their routing tables.

use herald_core::webhook::Webhook;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::{PgStore, audit, notify};
use crate::cluster::WEBHOOK_CHANNEL;
use crate::key_check;
use crate::registry;
use crate::sealing::Sealer;
use crate::stored_webhook::{COLUMNS, SealedWebhook, StoredRow, conflict};
use crate::{AuditEntry, RegistrySnapshot, Result, StoreError, WebhookStore};

fn read_row(r: &PgRow) -> Result<StoredRow> {
    Ok(StoredRow {
        id: r.try_get(0)?,
        spec: r.try_get(1)?,
        status: r.try_get(2)?,
        disabled_reason: r.try_get(3)?,
        disabled_at: r.try_get(4)?,
        version: r.try_get(5)?,
    })
}

/// Replaces the stored row if it is still the version the copy was read
/// at, moving the registry on when its routing changed; false when the
/// webhook no longer exists. A concurrent writer that got there first holds
/// the row until it commits; the version is then compared with what it
/// wrote.
async fn update_row(
    tx: &mut Transaction<'_, Postgres>,
    row: &SealedWebhook,
    reset_failures: bool,
) -> Result<bool> {
    // The self-join reads the row as it was before this update.
    let routing: Option<String> = sqlx::query_scalar(
        "UPDATE webhooks w SET status = $3, spec = $4, updated_at = $5,
                disabled_reason = $6, disabled_at = $7,
                consecutive_failures = CASE WHEN $8 THEN 0 ELSE w.consecutive_failures END,
                version = w.version + 1, routing = $10
         FROM (SELECT id, routing FROM webhooks WHERE id = $1) old
         WHERE w.id = old.id AND w.tenant_id = $2 AND w.version = $9
         RETURNING old.routing",
    )
    .bind(&row.id)
    .bind(&row.tenant_id)
    .bind(row.status)
    .bind(&row.spec)
    .bind(row.updated_at_ms)
    .bind(&row.disabled_reason)
    .bind(&row.disabled_at)
    .bind(reset_failures)
    .bind(row.version)
    .bind(&row.routing)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(routing) = routing {
        if routing != row.routing {
            bump_registry(tx).await?;
        }
        return Ok(true);
    }
    let exists = sqlx::query("SELECT 1 FROM webhooks WHERE id = $1 AND tenant_id = $2")
        .bind(&row.id)
        .bind(&row.tenant_id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    match exists {
        true => Err(conflict(&row.id, row.version)),
        false => Ok(false),
    }
}

/// Refuses a master key other than the one the database was set up with
/// (see [`crate::key_check`]). Nodes that start together race to write the
/// check; each then compares with what was kept, so only one key wins.
pub(super) async fn check_key(pool: &PgPool, sealer: &Sealer) -> Result<()> {
    let stored = async || -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM herald_meta WHERE name = $1")
                .bind(key_check::NAME)
                .fetch_optional(pool)
                .await?,
        )
    };
    if let Some(check) = stored().await? {
        return key_check::compare(sealer, &check);
    }
    let sealed: Vec<(String, String)> =
        sqlx::query_as("SELECT id, spec FROM webhooks WHERE spec LIKE 'sealed:%'")
            .fetch_all(pool)
            .await?;
    key_check::rows_open(
        sealer,
        sealed.iter().map(|(id, spec)| (id.as_str(), spec.as_str())),
    )?;
    sqlx::query("INSERT INTO herald_meta (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(key_check::NAME)
        .bind(sealer.key_check())
        .execute(pool)
        .await?;
    let check = stored()
        .await?
        .ok_or_else(|| StoreError::Database("the key check was not kept".into()))?;
    key_check::compare(sealer, &check)
}

/// Announces a changed webhook to every node.
async fn announce(tx: &mut Transaction<'_, Postgres>, id: &str) -> Result<()> {
    notify(tx, WEBHOOK_CHANNEL, &[id.to_string()]).await
}

/// Moves the registry version on, in the change's transaction. The row is
/// then locked until the commit: webhook changes take it last, after their
/// webhook rows, so they queue behind each other without deadlocking.
pub(super) async fn bump_registry(tx: &mut Transaction<'_, Postgres>) -> Result<()> {
    sqlx::query(registry::BUMP).execute(&mut **tx).await?;
    Ok(())
}

impl WebhookStore for PgStore {
    async fn insert_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<()> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at,
                                   disabled_reason, disabled_at, version, routing)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
        )
        .bind(&row.id)
        .bind(&row.tenant_id)
        .bind(row.status)
        .bind(&row.spec)
        .bind(row.created_at_ms)
        .bind(row.updated_at_ms)
        .bind(&row.disabled_reason)
        .bind(&row.disabled_at)
        .bind(&row.routing)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, &audit).await?;
        announce(&mut tx, &row.id).await?;
        bump_registry(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<bool> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        let mut tx = self.begin().await?;
        let updated = update_row(&mut tx, &row, false).await?;
        if updated {
            audit::record(&mut tx, &audit).await?;
            announce(&mut tx, &row.id).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    async fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> Result<Option<u64>> {
        let row = SealedWebhook::new(self.sealer(), webhook)?;
        let mut tx = self.begin().await?;
        if !update_row(&mut tx, &row, true).await? {
            return Ok(None);
        }
        audit::record(&mut tx, &audit).await?;
        // Enabling a webhook again starts its health's count over.
        sqlx::query(
            "UPDATE webhook_stats SET counted_since = $2, failures_in_a_row = 0
             WHERE webhook_id = $1",
        )
        .bind(&row.id)
        .bind(row.updated_at_ms)
        .execute(&mut *tx)
        .await?;
        let mut discarded = 0;
        if discard_held {
            discarded = sqlx::query(
                "UPDATE deliveries SET status = 'skipped', next_attempt_at = NULL,
                        last_error = 'discarded when the webhook was enabled again',
                        updated_at = $2
                 WHERE webhook_id = $1 AND status IN ('pending', 'retrying')",
            )
            .bind(&row.id)
            .bind(row.updated_at_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        announce(&mut tx, &row.id).await?;
        tx.commit().await?;
        Ok(Some(discarded))
    }

    async fn delete_webhooks(
        &self,
        tenant_id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let mut deleted = Vec::new();
        for audit in &audits {
            let id = &audit.resource_id;
            let n = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                continue;
            }
            for statement in [
                "DELETE FROM attempts WHERE delivery_seq IN
                   (SELECT seq FROM deliveries WHERE webhook_id = $1)",
                "DELETE FROM deliveries WHERE webhook_id = $1",
                "DELETE FROM lane_leases WHERE webhook_id = $1",
                // Its rollups stay: the tenant's analytics still count
                // what was sent.
                "DELETE FROM webhook_stats WHERE webhook_id = $1",
            ] {
                sqlx::query(statement).bind(id).execute(&mut *tx).await?;
            }
            audit::record(&mut tx, audit).await?;
            announce(&mut tx, id).await?;
            deleted.push(id.clone());
        }
        if !deleted.is_empty() {
            bump_registry(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(self.pool())
        .await?;
        self.open_rows(row.as_slice()).map(|mut w| w.pop())
    }

    async fn find_webhook(&self, id: &str) -> Result<Option<Webhook>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        self.open_rows(row.as_slice()).map(|mut w| w.pop())
    }

    async fn list_webhooks(
        &self,
        tenant_id: &str,
        after_id: Option<String>,
    ) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id > $2 ORDER BY id"
        ))
        .bind(tenant_id)
        .bind(after_id.unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        self.open_rows(&rows)
    }

    async fn load_registry(&self) -> Result<RegistrySnapshot> {
        // One snapshot: the version and the rows of one moment.
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let version: i64 = sqlx::query_scalar(registry::READ)
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RegistrySnapshot {
            version,
            webhooks: self.open_rows(&rows)?,
        })
    }

    async fn registry_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(registry::READ)
            .fetch_one(self.pool())
            .await?)
    }
}

impl PgStore {
    fn open_rows(&self, rows: &[PgRow]) -> Result<Vec<Webhook>> {
        rows.iter()
            .map(|r| read_row(r)?.open(self.sealer()))
            .collect()
    }
}
