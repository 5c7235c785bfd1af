//! Console sessions and portal links on PostgreSQL, shared by every node:
//! a session signed in on one node works on the others, and a portal link
//! is redeemed by one `UPDATE … WHERE used_at IS NULL RETURNING`, so of
//! several nodes redeeming it at once one gets it (the others wait for the
//! row lock, see it used, and match nothing).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{PgStore, audit};
use crate::types::{
    CONSOLE_SESSION_COLUMNS, PORTAL_LINK_COLUMNS, features_from_json, features_to_json,
};
use crate::{AuditEntry, ConsoleSessionRow, ConsoleStore, PortalLinkRow, Result};

fn read_session(r: &PgRow) -> Result<ConsoleSessionRow> {
    Ok(ConsoleSessionRow {
        token_hash: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        actor: r.try_get(2)?,
        read_only: r.try_get::<i64, _>(3)? != 0,
        features: features_from_json(r.try_get(4)?)?,
        csrf_token: r.try_get(5)?,
        portal: r.try_get::<i64, _>(6)? != 0,
        created_at_ms: r.try_get(7)?,
        expires_at_ms: r.try_get(8)?,
    })
}

fn read_link(r: &PgRow) -> Result<PortalLinkRow> {
    Ok(PortalLinkRow {
        token_hash: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        read_only: r.try_get::<i64, _>(2)? != 0,
        features: features_from_json(r.try_get(3)?)?,
        session_ttl_ms: r.try_get(4)?,
        created_at_ms: r.try_get(5)?,
        expires_at_ms: r.try_get(6)?,
    })
}

impl ConsoleStore for PgStore {
    async fn insert_console_session(&self, row: ConsoleSessionRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO console_sessions ({CONSOLE_SESSION_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&row.token_hash)
        .bind(&row.tenant_id)
        .bind(&row.actor)
        .bind(row.read_only as i64)
        .bind(features_to_json(&row.features))
        .bind(&row.csrf_token)
        .bind(row.portal as i64)
        .bind(row.created_at_ms)
        .bind(row.expires_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn find_console_session(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<ConsoleSessionRow>> {
        sqlx::query(&format!(
            "SELECT {CONSOLE_SESSION_COLUMNS} FROM console_sessions
             WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(read_session)
        .transpose()
    }

    async fn delete_console_session(&self, token_hash: Vec<u8>) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn insert_portal_link(&self, row: PortalLinkRow, audit: AuditEntry) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO portal_links ({PORTAL_LINK_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&row.token_hash)
        .bind(&row.tenant_id)
        .bind(row.read_only as i64)
        .bind(features_to_json(&row.features))
        .bind(row.session_ttl_ms)
        .bind(row.created_at_ms)
        .bind(row.expires_at_ms)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_portal_link(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<PortalLinkRow>> {
        sqlx::query(&format!(
            "UPDATE portal_links SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING {PORTAL_LINK_COLUMNS}"
        ))
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(read_link)
        .transpose()
    }

    async fn prune_console(&self, now_ms: i64) -> Result<usize> {
        let mut tx = self.begin().await?;
        let mut deleted = 0;
        for statement in [
            "DELETE FROM console_sessions WHERE expires_at <= $1",
            "DELETE FROM portal_links WHERE expires_at <= $1",
        ] {
            deleted += sqlx::query(statement)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted as usize)
    }
}
