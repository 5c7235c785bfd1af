//! Tenants and their API keys on PostgreSQL.

use sqlx::{Postgres, Transaction};

use super::{PgStore, audit, notify};
use crate::cluster::{EVENT_TYPE_CHANNEL, WEBHOOK_CHANNEL};
use crate::{ApiKeyRow, AuditEntry, Result, TenantRow, TenantStore};

async fn insert_key(tx: &mut Transaction<'_, Postgres>, key: &ApiKeyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.id)
    .bind(&key.tenant_id)
    .bind(&key.key_hash)
    .bind(key.created_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn tenant_exists(tx: &mut Transaction<'_, Postgres>, id: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

type TenantTuple = (String, String, i64);
type KeyTuple = (String, String, Vec<u8>, i64);

fn tenant((id, name, created_at_ms): TenantTuple) -> TenantRow {
    TenantRow {
        id,
        name,
        created_at_ms,
    }
}

fn key((id, tenant_id, key_hash, created_at_ms): KeyTuple) -> ApiKeyRow {
    ApiKeyRow {
        id,
        tenant_id,
        key_hash,
        created_at_ms,
    }
}

impl TenantStore for PgStore {
    async fn create_tenant(
        &self,
        tenant: TenantRow,
        key: ApiKeyRow,
        audits: Vec<AuditEntry>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(tenant.created_at_ms)
            .execute(&mut *tx)
            .await?;
        insert_key(&mut tx, &key).await?;
        audit::record_all(&mut tx, &audits).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRow>> {
        let rows: Vec<TenantTuple> =
            sqlx::query_as("SELECT id, name, created_at FROM tenants ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(tenant).collect())
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRow>> {
        let row: Option<TenantTuple> =
            sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(tenant))
    }

    async fn delete_tenant(
        &self,
        id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Option<Vec<String>>> {
        let mut tx = self.begin().await?;
        if !tenant_exists(&mut tx, id).await? {
            return Ok(None);
        }
        let webhook_ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM webhooks WHERE tenant_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for statement in [
            "DELETE FROM attempts WHERE tenant_id = $1",
            "DELETE FROM deliveries WHERE tenant_id = $1",
            "DELETE FROM events WHERE tenant_id = $1",
            "DELETE FROM attempt_rollups WHERE tenant_id = $1",
            "DELETE FROM webhook_stats WHERE tenant_id = $1",
            "DELETE FROM schedules WHERE tenant_id = $1",
            "DELETE FROM event_types WHERE tenant_id = $1",
            "DELETE FROM console_sessions WHERE tenant_id = $1",
            "DELETE FROM portal_links WHERE tenant_id = $1",
            "DELETE FROM lane_leases WHERE webhook_id IN
               (SELECT id FROM webhooks WHERE tenant_id = $1)",
            "DELETE FROM webhooks WHERE tenant_id = $1",
            "DELETE FROM api_keys WHERE tenant_id = $1",
            "DELETE FROM tenants WHERE id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        audit::record_all(&mut tx, &audits).await?;
        notify(&mut tx, WEBHOOK_CHANNEL, &webhook_ids).await?;
        notify(&mut tx, EVENT_TYPE_CHANNEL, &[id.to_string()]).await?;
        if !webhook_ids.is_empty() {
            super::webhooks::bump_registry(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(Some(webhook_ids))
    }

    async fn add_api_key(&self, key: ApiKeyRow, audit: AuditEntry) -> Result<bool> {
        let mut tx = self.begin().await?;
        if !tenant_exists(&mut tx, &key.tenant_id).await? {
            return Ok(false);
        }
        insert_key(&mut tx, &key).await?;
        audit::record(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND tenant_id = $2")
            .bind(key_id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            // Whoever signed in to the console with the key is signed out
            // with it.
            sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1 AND actor = $2")
                .bind(tenant_id)
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
            audit::record(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKeyRow>> {
        let rows: Vec<KeyTuple> = sqlx::query_as(
            "SELECT id, tenant_id, key_hash, created_at FROM api_keys
             WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(key).collect())
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRow>> {
        let row: Option<KeyTuple> = sqlx::query_as(
            "SELECT id, tenant_id, key_hash, created_at FROM api_keys WHERE id = $1",
        )
        .bind(key_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(key))
    }
}
