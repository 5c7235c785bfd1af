//! Tenants and their API keys on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::audit;
use crate::{ApiKeyRow, AuditEntry, Result, TenantRow, TenantStore};

fn insert_key(conn: &Connection, key: &ApiKeyRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        key.id,
        key.tenant_id,
        key.key_hash,
        key.created_at_ms
    ])?;
    Ok(())
}

fn tenant_exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

impl TenantStore for SqliteStore {
    async fn create_tenant(
        &self,
        tenant: TenantRow,
        key: ApiKeyRow,
        audits: Vec<AuditEntry>,
    ) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached("INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)")?
                .execute(params![tenant.id, tenant.name, tenant.created_at_ms])?;
            insert_key(conn, &key)?;
            audits.iter().try_for_each(|a| audit::record(conn, a))
        })
        .await
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRow>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id, name, created_at FROM tenants ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(TenantRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at_ms: r.get(2)?,
                })
            })?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRow>> {
        let id = id.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id, name, created_at FROM tenants WHERE id = ?1")?
                .query_row([id], |r| {
                    Ok(TenantRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at_ms: r.get(2)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn delete_tenant(
        &self,
        id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Option<Vec<String>>> {
        let id = id.to_string();
        self.write(move |conn| {
            if !tenant_exists(conn, &id)? {
                return Ok(None);
            }
            let webhook_ids: Vec<String> = conn
                .prepare_cached("SELECT id FROM webhooks WHERE tenant_id = ?1")?
                .query_map([&id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for statement in [
                "DELETE FROM attempts WHERE delivery_seq IN
                   (SELECT seq FROM deliveries WHERE tenant_id = ?1)",
                "DELETE FROM deliveries WHERE tenant_id = ?1",
                "DELETE FROM events WHERE tenant_id = ?1",
                "DELETE FROM attempt_rollups WHERE tenant_id = ?1",
                "DELETE FROM webhook_stats WHERE tenant_id = ?1",
                "DELETE FROM schedules WHERE tenant_id = ?1",
                "DELETE FROM event_types WHERE tenant_id = ?1",
                "DELETE FROM console_sessions WHERE tenant_id = ?1",
                "DELETE FROM portal_links WHERE tenant_id = ?1",
                "DELETE FROM webhooks WHERE tenant_id = ?1",
                "DELETE FROM api_keys WHERE tenant_id = ?1",
                "DELETE FROM tenants WHERE id = ?1",
            ] {
                conn.prepare_cached(statement)?.execute([&id])?;
            }
            audits.iter().try_for_each(|a| audit::record(conn, a))?;
            if !webhook_ids.is_empty() {
                super::webhooks::bump_registry(conn)?;
            }
            Ok(Some(webhook_ids))
        })
        .await
    }

    async fn add_api_key(&self, key: ApiKeyRow, audit: AuditEntry) -> Result<bool> {
        self.write(move |conn| {
            if !tenant_exists(conn, &key.tenant_id)? {
                return Ok(false);
            }
            insert_key(conn, &key)?;
            audit::record(conn, &audit)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        let (tenant_id, key_id) = (tenant_id.to_string(), key_id.to_string());
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM api_keys WHERE id = ?1 AND tenant_id = ?2")?
                .execute(params![key_id, tenant_id])?;
            if n == 1 {
                // Whoever signed in to the console with the key is signed
                // out with it.
                conn.prepare_cached(
                    "DELETE FROM console_sessions WHERE tenant_id = ?1 AND actor = ?2",
                )?
                .execute(params![tenant_id, key_id])?;
                audit::record(conn, &audit)?;
            }
            Ok(n == 1)
        })
        .await
    }

    async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKeyRow>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, tenant_id, key_hash, created_at FROM api_keys
                 WHERE tenant_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([tenant_id], read_key)?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRow>> {
        let key_id = key_id.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, tenant_id, key_hash, created_at FROM api_keys WHERE id = ?1",
                )?
                .query_row([key_id], read_key)
                .optional()?)
        })
        .await
    }
}

fn read_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        key_hash: r.get(2)?,
        created_at_ms: r.get(3)?,
    })
}
